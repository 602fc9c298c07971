"""The nudges service consuming journal events: once in effect, retried, dead-lettered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import Nudge, NudgeSpec, deliver, new_nudge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import Channel, NudgePreferences, NudgeStatus, NudgeType
from flowlearn_shared.events import JournalEntryCreated, JournalEntryFacts, serialize_event
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    DLQ_HEADER_SUBJECT,
    EVENTS_STREAM,
    dead_letter_subject,
)
from nats.aio.client import Client
from nudges_support import nudges_settings

pytestmark = pytest.mark.integration


def created_event(user: str, nudge_id: str | None = None) -> JournalEntryCreated:
    return JournalEntryCreated(
        source="tests",
        subject=user,
        data=JournalEntryFacts(
            entry_id=str(uuid4()),
            owner_id=user,
            kind="reflection",
            occurred_on=date(2026, 11, 20),
            nudge_id=nudge_id,
        ),
    )


async def eventually(check: Callable[[], object], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


@pytest.fixture
async def nudges_factory(
    nats_url: str, mongodb_uri: str, unique: str
) -> AsyncIterator[Callable[..., Nudges]]:
    started: list[Nudges] = []

    def make(**overrides: object) -> Nudges:
        settings = nudges_settings(
            nats_url,
            mongodb_uri,
            unique,
            journal_consumer=f"nudges-test-{unique}",
            **overrides,  # type: ignore[arg-type]
        )
        service = bootstrap(settings)
        started.append(service)
        return service

    yield make
    for service in started:
        await service.stop()


async def delivered_nudge(service: Nudges, user: str, nudge_id: str) -> Nudge:
    now = datetime.now(UTC)
    spec = NudgeSpec(
        id=nudge_id, user_id=user, type=NudgeType.REFLECT, wanted_at=now, origin=Origin.RULE
    )
    nudge = new_nudge(spec, now, PersonSchedule(), NudgePreferences())
    assert nudge is not None
    await service.nudges.add(nudge)
    out = deliver(nudge, now, [Channel.IN_APP], now.date().isoformat())
    await service.nudges.save(out)
    return out


async def publish(nc: Client, payload: bytes, subject: str, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id} if msg_id else None
    await nc.jetstream().publish(subject, payload, stream=EVENTS_STREAM, headers=headers)


async def test_redelivered_event_has_no_second_effect(
    nudges_factory: Callable[..., Nudges], nc: Client, unique: str
) -> None:
    nudges = nudges_factory()
    await nudges.start()
    user = f"u-{unique}"
    nudge = await delivered_nudge(nudges, user, f"n-{unique}")
    event = created_event(user, nudge_id=nudge.id)
    payload = serialize_event(event)
    # Two copies under different message ids get past JetStream's de-duplication,
    # as a redelivery or a replay would.
    await publish(nc, payload, event.type, msg_id=f"{event.id}-a")
    await publish(nc, payload, event.type, msg_id=f"{event.id}-b")
    other = created_event(user)
    await publish(nc, serialize_event(other), other.type)

    async def two_entries() -> bool:
        activity = await nudges.activity.get(user)
        return activity is not None and activity.entries_written == 2

    await eventually(two_entries)
    await asyncio.sleep(0.5)  # a late duplicate would land by now
    activity = await nudges.activity.get(user)
    assert activity is not None
    assert activity.entries_written == 2
    assert activity.last_entry_on == date(2026, 11, 20)
    acted = await nudges.nudges.get(nudge.id)
    assert acted is not None
    assert acted.status == NudgeStatus.ACTED
    assert acted.acted_at is not None


async def test_failure_after_write_is_retried_without_double_effect(
    nudges_factory: Callable[..., Nudges], nc: Client, unique: str
) -> None:
    nudges = nudges_factory()
    user = f"u-{unique}"
    event = created_event(user)
    calls = 0
    original = nudges.processed.apply_once

    async def crash_after_first_write(event_id: str, effect):  # type: ignore[no-untyped-def]
        nonlocal calls
        if event_id != str(event.id):
            return await original(event_id, effect)
        calls += 1
        applied = await original(event_id, effect)
        if calls == 1:
            raise ConnectionError("lost the connection before the ack")
        return applied

    nudges.processed.apply_once = crash_after_first_write  # type: ignore[method-assign]
    await nudges.start()
    await publish(nc, serialize_event(event), event.type)

    await eventually(lambda: calls >= 2)
    activity = await nudges.activity.get(user)
    assert activity is not None
    assert activity.entries_written == 1


async def test_poison_and_failing_events_go_to_dead_letters_and_consumer_goes_on(
    nudges_factory: Callable[..., Nudges], nc: Client, unique: str
) -> None:
    nudges = nudges_factory(max_deliver=2)
    failing_user = f"fail-{unique}"
    original = nudges.processed.apply_once

    async def fail_for_one_user(event_id: str, effect):  # type: ignore[no-untyped-def]
        if event_id == str(doomed.id):
            raise RuntimeError("this event always fails")
        return await original(event_id, effect)

    nudges.processed.apply_once = fail_for_one_user  # type: ignore[method-assign]
    await nudges.start()
    js = nc.jetstream()
    dlq = await js.subscribe(
        dead_letter_subject(nudges.settings.journal_consumer),
        stream=DEAD_LETTER_STREAM,
        ordered_consumer=True,
    )

    await publish(
        nc, b'{"type": "flow.journal.entry.created.v1", "oops": 1}', "flow.journal.entry.created.v1"
    )
    doomed = created_event(failing_user)
    await publish(nc, serialize_event(doomed), doomed.type)
    fine = created_event(f"ok-{unique}")
    await publish(nc, serialize_event(fine), fine.type)

    first = await dlq.next_msg(timeout=10)
    assert first.headers[DLQ_HEADER_SUBJECT] == "flow.journal.entry.created.v1"
    assert json.loads(first.data)["oops"] == 1
    second = await dlq.next_msg(timeout=10)
    assert json.loads(second.data)["id"] == str(doomed.id)
    assert second.headers["Flowlearn-Deliveries"] == "2"

    async def fine_applied() -> bool:
        return await nudges.activity.get(f"ok-{unique}") is not None

    await eventually(fine_applied)
    assert await nudges.activity.get(failing_user) is None
    await dlq.unsubscribe()


async def test_replicas_share_one_durable_consumer(
    nudges_factory: Callable[..., Nudges], nc: Client, unique: str
) -> None:
    first = nudges_factory(consumer_batch_size=1)
    second = nudges_factory(consumer_batch_size=1)
    ours: set[str] = set()
    seen: dict[str, int] = {"first": 0, "second": 0}
    for name, replica in (("first", first), ("second", second)):
        original = replica.processed.apply_once

        def counting(original=original, name=name):  # type: ignore[no-untyped-def]
            async def apply_once(event_id: str, effect):  # type: ignore[no-untyped-def]
                applied = await original(event_id, effect)
                if event_id in ours:  # a new durable also reads earlier tests' events
                    seen[name] += int(applied)
                return applied

            return apply_once

        replica.processed.apply_once = counting()  # type: ignore[method-assign]
    await first.start()
    await second.start()
    user = f"u-{unique}"
    for _ in range(40):
        event = created_event(user)
        ours.add(str(event.id))
        await publish(nc, serialize_event(event), event.type)

    async def all_applied() -> bool:
        activity = await first.activity.get(user)
        return activity is not None and activity.entries_written == 40

    await eventually(all_applied, within=30)
    await asyncio.sleep(1)
    activity = await first.activity.get(user)
    processed = await first.processed.collection.count_documents(
        {"_id": {"$in": [f"{first.settings.journal_consumer}:{i}" for i in ours]}}
    )
    assert (activity.entries_written if activity else 0, processed) == (40, 40)
    # Concurrent writes may conflict and be retried, but each event takes effect once,
    # and both replicas took a share of the work.
    assert seen["first"] + seen["second"] == 40
    assert seen["first"] > 0
    assert seen["second"] > 0
