"""Metrics, trace context and graceful stop of a service, against real NATS and MongoDB."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from flowlearn_cli.servers import free_port
from flowlearn_journal.bootstrap import Journal, bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_shared.consumer import subscribe_events
from flowlearn_shared.events import Event, serialize_event
from flowlearn_shared.observability.tracing import configure_tracing, current_ids
from flowlearn_shared.runtime import connect_and_prepare, make_broker, start_broker
from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject, RpcSubject
from nats.aio.client import Client
from nats.aio.msg import Msg
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from test_nudges_consumer import created_event, eventually

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


@pytest.fixture
async def measured_journal(
    nats_url: str, mongodb_uri: str, unique: str
) -> AsyncIterator[tuple[Journal, int]]:
    configure_tracing("tests")
    port = free_port()
    settings = JournalSettings(
        nats_url=nats_url,
        mongodb_uri=mongodb_uri,
        database=f"journal_{unique}",
        profiles_consumer=f"journal-profiles-{unique}",
        portfolio_consumer=f"journal-portfolio-{unique}",
        erasure_consumer=f"journal-erasure-{unique}",
        env="test",
        outbox_poll_seconds=0.2,
        metrics_port=port,
    )
    service = bootstrap(settings)
    await service.start()
    yield service, port
    await service.stop()


async def create_entry(nc: Client, user: str, headers: dict[str, str] | None = None) -> Any:
    body = {"actor": {"user_id": user}, "entry": {"kind": "learned", "body": "Outboxes"}}
    msg = await nc.request(
        RpcSubject.JOURNAL_CREATE_ENTRY, json.dumps(body).encode(), timeout=10, headers=headers
    )
    reply = json.loads(msg.data)
    assert reply["problem"] is None, reply
    return reply["result"]


async def test_metrics_count_requests_and_published_events(
    measured_journal: tuple[Journal, int], nc: Client, unique: str
) -> None:
    _, port = measured_journal
    database = f"journal_{unique}"
    subject = RpcSubject.JOURNAL_CREATE_ENTRY
    before = await scrape(port)
    served = value(before, "flowlearn_rpc_requests_total", subject=subject, status="200") or 0

    await create_entry(nc, f"u-{unique}")
    await create_entry(nc, f"u-{unique}")

    async def published_both() -> bool:
        after = await scrape(port)
        return value(after, "flowlearn_outbox_published_total", database=database) == 2

    async def none_pending() -> bool:
        # Published events are cleared from the outbox in batches, within a second.
        after = await scrape(port)
        return value(after, "flowlearn_outbox_pending_events", database=database) == 0

    await eventually(published_both)
    await eventually(none_pending)
    after = await scrape(port)
    # The process may host other journals (earlier tests): at least ours were counted.
    assert (value(after, "flowlearn_rpc_requests_total", subject=subject, status="200") or 0) >= (
        served + 2
    )
    assert value(after, "flowlearn_rpc_request_duration_seconds_count", subject=subject)
    assert value(after, "flowlearn_outbox_published_total", database=database) == 2
    # Sampled from JetStream at the scrape: the service's own durable consumers.
    consumer = f"journal-profiles-{unique}"
    assert value(after, "flowlearn_consumer_pending_messages", consumer=consumer) is not None
    assert value(after, "flowlearn_consumer_ack_pending_messages", consumer=consumer) == 0

    async with httpx.AsyncClient() as client:
        missing = await client.get(f"http://127.0.0.1:{port}/other", timeout=5)
    assert missing.status_code == 404


async def test_trace_goes_from_request_to_published_event(
    measured_journal: tuple[Journal, int], nc: Client, unique: str
) -> None:
    seen: asyncio.Queue[Msg] = asyncio.Queue()
    sub = await nc.subscribe(EventSubject.JOURNAL_ENTRY_CREATED, cb=seen.put)
    user = f"u-{unique}"
    trace_id, header = traceparent()
    created = await create_entry(nc, user, headers={"traceparent": header})
    untraced = await create_entry(nc, user)

    by_entry: dict[str, Msg] = {}
    while len(by_entry) < 2:
        msg = await asyncio.wait_for(seen.get(), timeout=10)
        data = json.loads(msg.data)["data"]
        if data["owner_id"] == user:
            by_entry[data["entry_id"]] = msg
    await sub.unsubscribe()

    # The event carries the request's trace (as a child of the caller's span).
    sent = (by_entry[created["id"]].headers or {}).get("traceparent", "")
    assert sent.split("-")[1] == trace_id
    assert sent != header
    # A request without trace context starts a trace of its own.
    other = (by_entry[untraced["id"]].headers or {}).get("traceparent", "")
    assert other
    assert other.split("-")[1] != trace_id


async def test_consumer_counts_failures_redeliveries_and_dead_letters(
    nats_url: str, nc: Client, unique: str
) -> None:
    configure_tracing("tests")
    settings = ServiceSettings(
        nats_url=nats_url, env="test", retry_backoff_seconds=[0.1], max_deliver=5
    )
    broker = make_broker(settings, f"tests-{unique}")
    durable = f"observed-{unique}"
    subject = EventSubject.JOURNAL_ENTRY_CREATED
    user = f"u-{unique}"
    traces: list[str | None] = []

    async def flaky(event: Event) -> None:
        if event.subject != user:
            return  # another test's event on the shared stream
        ids = current_ids()
        traces.append(ids[0] if ids else None)
        if len(traces) == 1:
            raise RuntimeError("first try fails")

    subscribe_events(broker, subject=subject, durable=durable, handler=flaky, settings=settings)
    await connect_and_prepare(broker, settings)
    await start_broker(broker)
    try:
        trace_id, header = traceparent()
        event = created_event(user)
        await nc.jetstream().publish(
            subject, serialize_event(event), stream=EVENTS_STREAM, headers={"traceparent": header}
        )
        await eventually(lambda: len(traces) == 2)
        # Both deliveries continued the publisher's trace.
        assert traces == [trace_id, trace_id]

        await nc.jetstream().publish(subject, b'{"not": "an event"}', stream=EVENTS_STREAM)

        def sample(name: str, **extra: str) -> float | None:
            labels = {"consumer": durable, "subject": subject, **extra}
            return REGISTRY.get_sample_value(name, labels)

        await eventually(
            lambda: sample("flowlearn_events_dead_lettered_total", reason="malformed") == 1
        )
        assert sample("flowlearn_events_failed_total") == 1
        assert sample("flowlearn_events_redelivered_total") == 1
        # Every event on the subject since the consumer started, ours among them.
        consumed = sample("flowlearn_events_consumed_total")
        assert consumed is not None
        assert consumed >= 1
    finally:
        await broker.stop()
