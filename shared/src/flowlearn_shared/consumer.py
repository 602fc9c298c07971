"""Durable, idempotent event consumers with bounded retries and a dead-letter subject.

- One durable JetStream pull consumer per (service, purpose), shared by all replicas.
- Acknowledged only after the handler's write committed (manual ack policy).
- The handler's effect and a processed-event record are written in one transaction, so a
  redelivered event has no second effect.
- A failing handler is retried with backoff; after ``max_deliver`` attempts, or at once
  for a payload that cannot be parsed, the message goes to ``flowdlq.<consumer>`` and the
  consumer moves on. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from flowlearn_shared.events import Event, parse_event
from flowlearn_shared.observability.metrics import (
    EVENT_HANDLING_DURATION,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_FAILED,
    EVENTS_REDELIVERED,
)
from flowlearn_shared.observability.tracing import TRACE_HEADERS, continue_trace
from flowlearn_shared.rpc_server import whole_message
from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    DLQ_HEADER_CONSUMER,
    DLQ_HEADER_DELIVERIES,
    DLQ_HEADER_ERROR,
    DLQ_HEADER_SUBJECT,
    EVENTS_STREAM,
    MSG_ID_HEADER,
    dead_letter_subject,
)

log = logging.getLogger("flowlearn.consumer")

Document = dict[str, Any]
Effect = Callable[[AsyncClientSession], Awaitable[None]]
EventHandler = Callable[[Event], Awaitable[None]]

# Longer than the events stream keeps messages, so a replay still finds the record.
PROCESSED_RETENTION = timedelta(days=45)
ACK_WAIT_SECONDS = 30.0


class ProcessedEvents:
    """Which events a consumer has applied, written in the same transaction as the effect."""

    def __init__(
        self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], consumer: str
    ) -> None:
        self.client = client
        self.collection = db["processed_events"]
        self.consumer = consumer

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            "processed_at",
            name="processed_ttl",
            expireAfterSeconds=int(PROCESSED_RETENTION.total_seconds()),
        )

    async def apply_once(self, event_id: str, effect: Effect) -> bool:
        """Run ``effect`` unless this event was applied already. True when it ran now."""
        key = f"{self.consumer}:{event_id}"
        applied = False

        async def in_transaction(session: AsyncClientSession) -> None:
            nonlocal applied
            applied = False
            if await self.collection.find_one({"_id": key}, session=session) is not None:
                return
            await effect(session)
            await self.collection.insert_one(
                {"_id": key, "processed_at": datetime.now(UTC)}, session=session
            )
            applied = True

        try:
            async with self.client.start_session() as session:
                await session.with_transaction(in_transaction)
        except DuplicateKeyError:
            # Another replica applied it concurrently; its transaction won.
            return False
        return applied


class DeadLetters:
    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker

    async def send(self, consumer: str, msg: NatsMessage, error: str, deliveries: int) -> None:
        raw = msg.raw_message
        headers = {
            DLQ_HEADER_SUBJECT: raw.subject,
            DLQ_HEADER_CONSUMER: consumer,
            DLQ_HEADER_ERROR: error[:1000],
            DLQ_HEADER_DELIVERIES: str(deliveries),
        }
        if raw.headers and MSG_ID_HEADER in raw.headers:
            # Same id: a retried dead-lettering is de-duplicated by JetStream.
            headers[MSG_ID_HEADER] = f"dlq:{consumer}:{raw.headers[MSG_ID_HEADER]}"
        # A replayed dead letter stays in the trace of the request that caused it.
        headers.update({k: v for k, v in (raw.headers or {}).items() if k in TRACE_HEADERS})
        await self.broker.publish(
            raw.data,
            subject=dead_letter_subject(consumer),
            headers=headers,
            stream=DEAD_LETTER_STREAM,
            timeout=5.0,
        )


def backoff_delay(settings: ServiceSettings, deliveries: int) -> float:
    steps = settings.retry_backoff_seconds or [1.0]
    return steps[min(deliveries - 1, len(steps) - 1)]


def _deliveries(raw: Msg) -> int:
    """How often JetStream has delivered this message; 1 for a message it did not deliver
    (an in-memory test broker's)."""
    try:
        metadata = raw.metadata
    except NotJSMessageError:
        return 1
    return metadata.num_delivered if metadata else 1


def subscribe_events(
    broker: NatsBroker,
    *,
    subject: str,
    durable: str,
    handler: EventHandler,
    settings: ServiceSettings,
    title: str | None = None,
) -> None:
    """Register ``handler`` as a durable, shared, retrying consumer of ``subject``."""
    dead_letters = DeadLetters(broker)

    handling_time = EVENT_HANDLING_DURATION.labels(durable)

    async def consume(message: Any) -> None:
        msg: NatsMessage = message  # see whole_message
        raw = msg.raw_message
        # The publisher's trace continues here (the outbox relay sends it along).
        with continue_trace(
            f"consume {raw.subject}",
            raw.headers,
            SpanKind.CONSUMER,
            {"messaging.destination.name": raw.subject, "messaging.consumer.group.name": durable},
        ):
            await handle(msg, raw.subject)

    async def handle(msg: NatsMessage, subject: str) -> None:
        start = time.perf_counter()
        deliveries = _deliveries(msg.raw_message)
        if deliveries > 1:
            EVENTS_REDELIVERED.labels(durable, subject).inc()
        try:
            event = parse_event(msg.raw_message.data)
        except ValidationError as exc:
            # A payload that cannot be parsed will not parse on retry either.
            log.error("malformed event dead-lettered", extra={"consumer": durable})
            await dead_letters.send(durable, msg, f"malformed: {exc.errors()[:3]}", deliveries)
            await msg.reject()
            EVENTS_DEAD_LETTERED.labels(durable, subject, "malformed").inc()
            return
        try:
            await handler(event)
        except Exception as exc:
            EVENTS_FAILED.labels(durable, subject).inc()
            if deliveries >= settings.max_deliver:
                log.exception(
                    "handler failed for the last time; dead-lettered",
                    extra={"consumer": durable, "event_id": str(event.id)},
                )
                await dead_letters.send(durable, msg, repr(exc), deliveries)
                await msg.reject()
                EVENTS_DEAD_LETTERED.labels(durable, subject, "failed").inc()
                return
            delay = backoff_delay(settings, deliveries)
            log.warning(
                "handler failed; will retry",
                extra={
                    "consumer": durable,
                    "event_id": str(event.id),
                    "deliveries": deliveries,
                    "retry_in": delay,
                    "error": repr(exc),
                },
            )
            await msg.nack(delay=delay)
            return
        await msg.ack()
        elapsed = time.perf_counter() - start
        EVENTS_CONSUMED.labels(durable, subject).inc()
        handling_time.observe(elapsed)
        log.info(
            "event handled",
            extra={
                "consumer": durable,
                "subject": subject,
                "event_id": str(event.id),
                "deliveries": deliveries,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )

    broker.subscriber(
        subject,
        stream=JStream(EVENTS_STREAM, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=settings.consumer_batch_size, timeout=5.0),
        config=ConsumerConfig(
            durable_name=durable,
            ack_policy=JsAckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT_SECONDS,
            deliver_policy=DeliverPolicy.ALL
            if settings.new_consumers_start_at == "all"
            else DeliverPolicy.NEW,
            # Retries are counted here, so the server never gives up on a message by itself.
            max_deliver=-1,
        ),
        ack_policy=AckPolicy.MANUAL,
        # The handler parses the payload itself; FastStream's JSON decoding would fail on
        # hostile input (deep nesting) before it could be dead-lettered.
        decoder=whole_message,
        title=title or f"{durable}:{subject}",
    )(consume)
