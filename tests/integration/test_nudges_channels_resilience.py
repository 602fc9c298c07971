"""Outside channels when things go wrong, over real NATS and SecantusDB against receivers on
127.0.0.1: retries with backoff, failure visible in the inbox, the circuit breaker, a slow
endpoint that must not hold up anyone else, two sender replicas, and SSRF refusal."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from flowlearn_nudges.bootstrap import Nudges
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import Channel
from nats.aio.client import Client
from nudges_channel_support import (
    FakeClock,
    Receiver,
    delivered_now,
    eventually,
    inbox_item,
    put_preferences,
)
from nudges_support import MakeNudges

pytestmark = pytest.mark.integration

SECRET = "s3cret-signing-key-0123456789"


@pytest.fixture
def make_service(make_nudges: MakeNudges) -> MakeNudges:
    def make(clock: FakeClock, **overrides: Any) -> Nudges:
        return make_nudges(
            clock,
            **{"channel_backoff_base_seconds": 2.0, "channel_poll_seconds": 0.05, **overrides},
        )

    return make


async def slack_to(nc: Client, user: str, url: str) -> None:
    reply = await put_preferences(
        nc, user, channels=["slack"], destinations={"slack": {"webhook_url": url}}
    )
    assert reply.get("problem") is None, reply


async def test_a_failed_send_is_retried_with_backoff_then_succeeds(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(clock)
    await service.start()
    ana = f"ana-{unique}"
    await slack_to(nc, ana, receiver.url("/flaky"))
    receiver.on("/flaky", script=[503, 502], status=200)
    nudge = await delivered_now(service, ana, [Channel.SLACK], clock.now)
    dispatcher = service.channels.dispatcher

    assert (await dispatcher.tick()).retried == 1
    slack = (await inbox_item(nc, ana, nudge.id))["deliveries"]["slack"]
    assert slack["status"] == "pending"
    assert slack["attempts"] == 1
    assert "503" in slack["error"]
    first_wait = datetime.fromisoformat(slack["next_attempt_at"]) - clock.now
    assert 1.0 <= first_wait.total_seconds() <= 2.0  # base 2 s, half of it jitter
    assert (await dispatcher.tick()).claimed == 0  # not before its time
    clock.now = datetime.fromisoformat(slack["next_attempt_at"])
    assert (await dispatcher.tick()).retried == 1
    slack = (await inbox_item(nc, ana, nudge.id))["deliveries"]["slack"]
    second_wait = datetime.fromisoformat(slack["next_attempt_at"]) - clock.now
    assert 2.0 <= second_wait.total_seconds() <= 4.0  # doubled
    clock.now = datetime.fromisoformat(slack["next_attempt_at"])

    assert (await dispatcher.tick()).sent == [(nudge.id, "slack")]

    slack = (await inbox_item(nc, ana, nudge.id))["deliveries"]["slack"]
    assert slack["status"] == "delivered"
    assert slack["attempts"] == 3
    assert slack["error"] is None
    assert len(receiver.at("/flaky")) == 3


async def test_after_the_last_retry_the_delivery_is_failed_and_its_owner_sees_why(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(clock, channel_max_attempts=3, channel_backoff_base_seconds=0)
    await service.start()
    bo = f"bo-{unique}"
    await slack_to(nc, bo, receiver.url("/down"))
    receiver.on("/down", status=500)
    nudge = await delivered_now(service, bo, [Channel.SLACK], clock.now)
    for _ in range(5):
        clock.advance(seconds=1)
        await service.channels.dispatcher.tick()
    item = await inbox_item(nc, bo, nudge.id)
    assert item["status"] == "delivered"  # it is in the inbox all the same
    slack = item["deliveries"]["slack"]
    assert slack["status"] == "failed"
    assert slack["attempts"] == 3
    assert "HTTP 500" in slack["error"]
    assert "gave up after 3 attempts" in slack["error"]
    assert len(receiver.at("/down")) == 3


async def test_an_endpoint_that_refuses_the_message_fails_at_once(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(clock)
    await service.start()
    cy = f"cy-{unique}"
    await slack_to(nc, cy, receiver.url("/gone"))
    receiver.on("/gone", status=404)
    nudge = await delivered_now(service, cy, [Channel.SLACK], clock.now)
    assert (await service.channels.dispatcher.tick()).failed == 1
    slack = (await inbox_item(nc, cy, nudge.id))["deliveries"]["slack"]
    assert (slack["status"], slack["attempts"]) == ("failed", 1)
    assert "HTTP 404" in slack["error"]


async def test_the_circuit_opens_after_repeated_failures_and_a_probe_closes_it(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(
        clock,
        channel_breaker_failures=3,
        channel_breaker_open_seconds=60,
        channel_max_attempts=10,
        channel_backoff_base_seconds=0,
        channel_endpoint_concurrency=1,
    )
    await service.start()
    dee = f"dee-{unique}"
    await slack_to(nc, dee, receiver.url("/broken"))
    receiver.on("/broken", status=503)
    nudges = [await delivered_now(service, dee, [Channel.SLACK], clock.now) for _ in range(4)]
    dispatcher, breaker = service.channels.dispatcher, service.channels.breaker
    endpoint = receiver.url("/broken")

    for _ in range(20):  # 20 s of retries
        clock.advance(seconds=1)
        await dispatcher.tick()

    assert len(receiver.at("/broken")) == 3  # then no more calls while open
    assert breaker.state(endpoint) == "open"
    pending = [(await inbox_item(nc, dee, n.id))["deliveries"]["slack"] for n in nudges]
    assert all(p["status"] == "pending" for p in pending)

    receiver.on("/broken", status=200)
    clock.advance(seconds=45)  # past the 60 s: half-open, one probe
    report = await dispatcher.tick()
    assert report.messages == 1
    assert breaker.state(endpoint) == "closed"
    for _ in range(5):
        clock.advance(seconds=1)
        await dispatcher.tick()
    statuses = [(await inbox_item(nc, dee, n.id))["deliveries"]["slack"] for n in nudges]
    assert [s["status"] for s in statuses] == ["delivered"] * 4
    assert len(receiver.at("/broken")) == 3 + 4


async def test_a_hanging_endpoint_does_not_delay_another_persons_delivery(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    service = make_service(
        clock,
        channels_enabled=True,  # the real loop
        channel_send_timeout_seconds=1.5,
        channel_concurrency=4,
        channel_endpoint_concurrency=2,
    )
    await service.start()
    slow, quick = f"slow-{unique}", f"quick-{unique}"
    await slack_to(nc, slow, receiver.url("/hangs"))
    await slack_to(nc, quick, receiver.url("/fast"))
    receiver.on("/hangs", delay=4.0)
    stuck = [await delivered_now(service, slow, [Channel.SLACK], clock.now) for _ in range(6)]
    await eventually(lambda: len(receiver.at("/hangs")) >= 2)

    started = time.monotonic()
    nudge = await delivered_now(service, quick, [Channel.SLACK], clock.now)
    [request] = await eventually(lambda: receiver.at("/fast"))

    assert request.at - started < 1.0  # while the other endpoint still hangs (4 s)
    assert len(receiver.at("/hangs")) == 2  # never more than its share of sends

    async def quick_delivered() -> bool:
        return await _status_of(nc, quick, nudge.id) == "delivered"

    assert await eventually(quick_delivered)
    first = (await inbox_item(nc, slow, stuck[0].id))["deliveries"]["slack"]
    timed_out = await eventually(lambda: _error_of(nc, slow, [n.id for n in stuck]), within=5.0)
    assert "no answer within 1.5 s" in timed_out
    assert first["status"] == "pending"


async def _status_of(nc: Client, user: str, nudge_id: str) -> str:
    return str((await inbox_item(nc, user, nudge_id))["deliveries"]["slack"]["status"])


async def _error_of(nc: Client, user: str, ids: list[str]) -> str | None:
    for nudge_id in ids:
        error = (await inbox_item(nc, user, nudge_id))["deliveries"]["slack"].get("error")
        if error:
            return str(error)
    return None


async def test_two_sender_replicas_send_each_delivery_once(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock()
    one = make_service(clock, channel_batch_size=5)
    two = make_service(clock, channel_batch_size=5)
    await one.start()
    await two.start()
    users = [f"u{i}-{unique}" for i in range(4)]
    for user in users:
        hook = {"url": receiver.url("/all"), "secret": SECRET}
        await put_preferences(nc, user, channels=["webhook"], destinations={"webhook": hook})
    nudges = [
        await delivered_now(one, user, [Channel.WEBHOOK], clock.now)
        for user in users
        for _ in range(6)
    ]

    for _ in range(20):
        reports = await asyncio.gather(
            one.channels.dispatcher.tick(), two.channels.dispatcher.tick()
        )
        if not any(r.claimed for r in reports):
            break
        clock.advance(seconds=1)

    sent = Counter(r.json()["id"] for r in receiver.at("/all"))
    assert sent == Counter({n.id: 1 for n in nudges})
    for nudge in nudges[:3]:
        assert (await inbox_item(nc, nudge.user_id, nudge.id))["deliveries"]["webhook"][
            "status"
        ] == "delivered"


async def test_a_send_due_in_quiet_hours_waits_for_them_to_end(
    make_service: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    clock = FakeClock(datetime(2026, 6, 10, 19, 0, tzinfo=UTC))  # Wednesday evening
    service = make_service(clock)
    await service.start()
    gus = f"gus-{unique}"
    await slack_to(nc, gus, receiver.url("/quiet"))
    quiet = PersonSchedule.from_profile(
        "UTC", [1, 2, 3, 4, 5], "09:00", "17:00", ("18:00", "08:00")
    )

    async def profile(session: Any) -> None:
        await service.people.apply_profile(gus, quiet, clock.now, session)

    await service.api.uow.run(profile)
    nudge = await delivered_now(service, gus, [Channel.SLACK], clock.now)  # e.g. a retry

    assert (await service.channels.dispatcher.tick()).deferred == 1
    slack = (await inbox_item(nc, gus, nudge.id))["deliveries"]["slack"]
    assert (slack["status"], slack["attempts"]) == ("pending", 0)
    morning = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    assert datetime.fromisoformat(slack["next_attempt_at"]) == morning
    assert receiver.at("/quiet") == []
    clock.now = morning

    assert (await service.channels.dispatcher.tick()).sent == [(nudge.id, "slack")]
