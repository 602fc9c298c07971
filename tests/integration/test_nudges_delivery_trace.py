"""Each delivered nudge starts a trace of its own, which its event carries over NATS: the
channel sender and every gateway's push to the person's open streams log the same id."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from flowlearn_gateway.adapters.notifications import NotificationHub
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import Nudge, NudgeSpec, new_nudge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import NudgePreferences, NudgeType
from flowlearn_shared.logs import JsonFormatter
from flowlearn_shared.observability.tracing import configure_tracing
from flowlearn_shared.subjects import EventSubject
from nats.aio.client import Client
from nats.aio.msg import Msg
from nudges_support import nudges_settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # a Wednesday morning


@pytest.fixture
async def nudges(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Nudges]:
    service = bootstrap(
        nudges_settings(nats_url, mongodb_uri, unique, outbox_poll_seconds=0.2), clock=lambda: NOW
    )
    yield service
    await service.stop()


async def add_due(service: Nudges, user: str) -> Nudge:
    spec = NudgeSpec(
        id=str(uuid4()),
        user_id=user,
        type=NudgeType.EVENT_FOLLOWUP,
        wanted_at=NOW - timedelta(minutes=1),
        origin=Origin.RULE,
    )
    nudge = new_nudge(spec, NOW - timedelta(minutes=1), PersonSchedule(), NudgePreferences())
    assert nudge is not None
    await service.nudges.add(nudge)
    return nudge


def trace_id(traceparent: str) -> str:
    version, trace, span, flags = traceparent.split("-")
    assert (version, len(trace), len(span), len(flags)) == ("00", 32, 16, 2)
    assert int(trace, 16) != 0
    return trace


class JsonLines(logging.Handler):
    """The service's JSON log lines, formatted as they are written (inside the span)."""

    def __init__(self) -> None:
        super().__init__()
        self.formatter_ = JsonFormatter("gateway")
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.formatter_.format(record)))


async def test_each_delivery_has_its_own_trace_from_scheduler_to_open_streams(
    nudges: Nudges, nc: Client, unique: str
) -> None:
    configure_tracing("tests")  # as each service does at start-up
    users = [f"ana-{unique}", f"bob-{unique}", f"cy-{unique}"]
    await nudges.nudges.ensure_indexes()
    sent = {(await add_due(nudges, user)).id: user for user in users}

    published: dict[str, Msg] = {}

    async def collect(msg: Msg) -> None:
        nudge_id = json.loads(msg.data)["data"]["nudge_id"]
        if nudge_id in sent:
            published[nudge_id] = msg

    await nc.subscribe(EventSubject.NUDGE_DELIVERED, cb=collect)
    await nc.flush()
    # A gateway replica where Ana and Bob have a stream open.
    hub = NotificationHub(max_per_user=2, max_streams=10, queue_size=5)
    await hub.start(nc)
    streams = {user: hub.open(user) for user in users[:2]}

    # Capture before anything is delivered: the relay may publish, and the hub push,
    # while the scheduler is still ticking.
    lines = JsonLines()
    gateway_log = logging.getLogger("flowlearn.gateway.notifications")
    gateway_log.addHandler(lines)
    # As a service configures it: earlier tests in the same process may have set up
    # logging (uvicorn's configuration disables loggers it does not name).
    level, disabled, disabled_below = (
        gateway_log.level,
        gateway_log.disabled,
        logging.root.manager.disable,
    )
    gateway_log.setLevel(logging.INFO)
    gateway_log.disabled = False
    logging.disable(logging.NOTSET)
    try:
        await nudges.start()
        delivered: list[str] = []
        while (report := await nudges.scheduler.tick()).claimed:
            delivered += report.delivered
        assert sorted(delivered) == sorted(sent)
        for _ in range(200):  # the relay publishes within its poll
            if len(published) == len(sent) and all(s.queue.qsize() for s in streams.values()):
                break
            await asyncio.sleep(0.1)
    finally:
        gateway_log.setLevel(level)
        gateway_log.disabled = disabled
        logging.disable(disabled_below)
        gateway_log.removeHandler(lines)
        await hub.stop()

    # One trace per delivery, carried by its event; none shares another's.
    traces = {nudge_id: trace_id(msg.headers["traceparent"]) for nudge_id, msg in published.items()}
    assert set(traces) == set(sent)
    assert len(set(traces.values())) == len(sent)
    # Ana and Bob got their nudge on their open stream, Cy (no stream) nothing.
    got = {user: streams[user].queue.get_nowait() for user in streams}
    assert {user: n.id if n else None for user, n in got.items()} == {
        user: nudge_id for nudge_id, user in sent.items() if user in streams
    }
    # The gateway's push to the open streams logs each delivery's trace id.
    pushed = {
        line["nudge_id"]: (line["streams"], line["trace_id"])
        for line in lines.lines
        if line["message"] == "nudge pushed to open streams" and line["nudge_id"] in sent
    }
    assert pushed == {
        nudge_id: (1, traces[nudge_id]) for nudge_id, user in sent.items() if user in streams
    }
