"""Every metric Flowlearn exposes, in one place: ``flowlearn_`` prefix, unit in the name.

Defining a metric only registers it in the process's registry; nothing is sent anywhere.
Labels are kept to bounded sets (route templates, subjects, consumer names, outcomes),
never user ids or raw paths.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds; from a fast cache hit to a slow export.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Seconds a nudge went out after it was due: the scheduler polls about every second.
LATENESS_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)

# --- HTTP (gateway) ---
HTTP_REQUESTS = Counter(
    "flowlearn_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "flowlearn_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS_IN_PROGRESS = Gauge(
    "flowlearn_http_requests_in_progress", "HTTP requests being answered (open streams too)."
)

# --- request/reply over NATS ---
RPC_REQUESTS = Counter(
    "flowlearn_rpc_requests_total",
    "Requests a service answered, by subject and reply status (200 or the problem's).",
    ["subject", "status"],
)
RPC_REQUEST_DURATION = Histogram(
    "flowlearn_rpc_request_duration_seconds",
    "Time a service took to answer a request, by subject.",
    ["subject"],
    buckets=LATENCY_BUCKETS,
)
RPC_CLIENT_DURATION = Histogram(
    "flowlearn_rpc_client_request_duration_seconds",
    "Time the gateway waited for a service's reply, by subject and outcome.",
    ["subject", "outcome"],
    buckets=LATENCY_BUCKETS,
)

# --- events (JetStream consumers) ---
EVENTS_CONSUMED = Counter(
    "flowlearn_events_consumed_total",
    "Events a consumer handled and acknowledged (a duplicate counts, its effect does not).",
    ["consumer", "subject"],
)
EVENTS_FAILED = Counter(
    "flowlearn_events_failed_total",
    "Deliveries whose handler raised (retried later, or dead-lettered at the bound).",
    ["consumer", "subject"],
)
EVENTS_REDELIVERED = Counter(
    "flowlearn_events_redelivered_total",
    "Deliveries of an event that had been delivered to the consumer before.",
    ["consumer", "subject"],
)
EVENTS_DEAD_LETTERED = Counter(
    "flowlearn_events_dead_lettered_total",
    "Events moved to flowdlq.<consumer>: malformed, or failed max_deliver times.",
    ["consumer", "subject", "reason"],
)
EVENT_HANDLING_DURATION = Histogram(
    "flowlearn_event_handling_duration_seconds",
    "Time from receiving an event to its acknowledgement, by consumer.",
    ["consumer"],
    buckets=LATENCY_BUCKETS,
)
CONSUMER_PENDING = Gauge(
    "flowlearn_consumer_pending_messages",
    "Events on the stream the durable consumer has not been given yet (sampled at scrape).",
    ["consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "flowlearn_consumer_ack_pending_messages",
    "Events given to the consumer and not acknowledged yet (sampled at scrape).",
    ["consumer"],
)

# --- transactional outbox ---
OUTBOX_PUBLISHED = Counter(
    "flowlearn_outbox_published_total",
    "Outbox records the relay published and JetStream acknowledged, by database.",
    ["database"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "flowlearn_outbox_publish_failures_total",
    "Publishes of an outbox record that failed (the record stays pending).",
    ["database"],
)
OUTBOX_PENDING = Gauge(
    "flowlearn_outbox_pending_events",
    "Outbox records not yet published (sampled at scrape).",
    ["database"],
)

# --- nudges ---
NUDGES_SETTLED = Counter(
    "flowlearn_nudges_settled_total",
    "Due nudges the scheduler settled: delivered, deferred, dropped, lost (lease taken "
    "over) or failed (left leased, retried).",
    ["outcome"],
)
NUDGE_LATENESS = Histogram(
    "flowlearn_nudge_delivery_lateness_seconds",
    "Delivery time minus due time of each delivered nudge.",
    buckets=LATENESS_BUCKETS,
)
NUDGES_DUE = Gauge(
    "flowlearn_nudges_due",
    "Nudges due now and not yet delivered (sampled at scrape).",
)
NUDGES_OVERDUE = Gauge(
    "flowlearn_nudges_overdue_seconds",
    "How long the oldest due nudge has waited past its due time; 0 when none waits.",
)
