"""The delivery loop over real NATS and SecantusDB, with a controlled clock: local timing,
leases shared by replicas, no double delivery, no loss when a replica dies, daily caps."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import Nudge, NudgeSpec, new_nudge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import NudgePreferences, NudgeStatus, NudgeType
from flowlearn_shared.events import (
    JournalEntryCreated,
    JournalEntryFacts,
    ProfileFacts,
    ProfileUpdated,
    WorkingHoursData,
    serialize_event,
)
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject
from nats.aio.client import Client
from nudges_support import nudges_settings

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY_10_UTC = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


MakeNudges = Callable[..., Nudges]


@pytest.fixture
async def make_nudges(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[MakeNudges]:
    """Replicas of the nudges service on one database; the scheduler is driven by hand."""
    started: list[Nudges] = []

    def make(clock: FakeClock, **overrides: Any) -> Nudges:
        settings = nudges_settings(
            nats_url,
            mongodb_uri,
            unique,
            outbox_poll_seconds=0.2,
            **overrides,
        )
        service = bootstrap(settings, clock=clock)
        started.append(service)
        return service

    yield make
    for service in started:
        await service.stop()


async def eventually(check: Callable[[], Any], within: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def add_due(service: Nudges, user: str, due: datetime, **fields: Any) -> Nudge:
    spec = NudgeSpec(
        id=str(uuid4()),
        user_id=user,
        type=fields.pop("type", NudgeType.EVENT_FOLLOWUP),
        wanted_at=due,
        origin=Origin.RULE,
    )
    nudge = new_nudge(spec, due, PersonSchedule(), NudgePreferences())
    assert nudge is not None
    await service.nudges.add(nudge)
    return nudge


async def deliveries_in_outbox(service: Nudges, ids: set[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for record in await service.outbox.recorded(str(EventSubject.NUDGE_DELIVERED)):
        nudge_id = json.loads(record["payload"])["data"]["nudge_id"]
        if nudge_id in ids:
            found[nudge_id] += 1
    return found


async def drain(service: Nudges) -> list[str]:
    delivered: list[str] = []
    while (report := await service.scheduler.tick()).claimed:
        delivered += report.delivered
    return delivered


async def drain_together(
    replicas: tuple[Nudges, ...], ids: set[str], now: datetime
) -> list[list[str]]:
    """What each replica delivers, ticking side by side until none of ``ids`` is due and
    free. A replica's tick can find nothing while some are left: its candidates, read
    a moment ago, were all settled by the other one."""
    delivered: list[list[str]] = [[] for _ in replicas]
    while True:
        for mine, got in zip(delivered, await asyncio.gather(*map(drain, replicas)), strict=True):
            mine += got
        if not await replicas[0].nudges.get_due_many(sorted(ids), now):
            return delivered


async def test_work_event_in_nudge_out_at_the_right_local_time(
    make_nudges: MakeNudges, nc: Client, unique: str
) -> None:
    # Thursday 11 June 2026, 18:00 in Berlin: after work.
    clock = FakeClock(datetime(2026, 6, 11, 18, 0, tzinfo=BERLIN).astimezone(UTC))
    service = make_nudges(clock)
    await service.start()
    ana = f"ana-{unique}"
    js = nc.jetstream()
    profile = ProfileUpdated(
        source="tests",
        subject=ana,
        time=clock.now - timedelta(days=1),
        data=ProfileFacts(
            user_id=ana,
            display_name="Ana",
            timezone="Europe/Berlin",
            working_hours=WorkingHoursData(days=[1, 2, 3, 4, 5], start="09:00", end="17:00"),
        ),
    )
    await js.publish(profile.type, serialize_event(profile), stream=EVENTS_STREAM)

    async def profile_applied() -> bool:
        # Profiles and journal entries arrive on different consumers: without this wait the
        # entry could be planned in the default zone before the profile lands.
        return (await service.people.get(ana)).schedule.timezone == "Europe/Berlin"

    await eventually(profile_applied)
    mistake = JournalEntryCreated(
        source="tests",
        subject=ana,
        time=clock.now,
        data=JournalEntryFacts(
            entry_id=f"e-{unique}",
            owner_id=ana,
            kind="mistake",
            occurred_on=clock.now.date(),
        ),
    )
    delivered_events = await nc.subscribe(str(EventSubject.NUDGE_DELIVERED))
    await js.publish(mistake.type, serialize_event(mistake), stream=EVENTS_STREAM)

    async def mistake_nudge() -> Nudge | None:
        pending = await service.nudges.pending_of(ana)
        return next((n for n in pending if n.type == NudgeType.MISTAKE_MOMENT), None)

    nudge = await eventually(mistake_nudge)
    # A day later is Friday 18:00, after work: it waits for Monday 09:00 in Berlin.
    monday_9 = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)
    assert nudge.due_at == monday_9
    assert nudge.message.startswith("Yesterday you noted a mistake")
    assert nudge.context == {"entry_id": f"e-{unique}"}

    clock.now = monday_9 - timedelta(minutes=1)
    await drain(service)
    assert (await service.nudges.get(nudge.id)).status == NudgeStatus.SCHEDULED  # type: ignore[union-attr]

    clock.now = monday_9
    assert nudge.id in await drain(service)
    stored = await service.nudges.get(nudge.id)
    assert stored is not None
    assert stored.status == NudgeStatus.DELIVERED
    assert stored.delivered_at == monday_9
    assert stored.deliveries["in_app"]["status"] == "delivered"

    async def announced() -> dict[str, Any] | None:
        while True:
            msg = await delivered_events.next_msg(timeout=10)
            event = json.loads(msg.data)
            if event["data"]["nudge_id"] == nudge.id:
                return event

    event = await announced()
    assert event["subject"] == ana
    assert event["data"]["nudge_type"] == "mistake_moment"
    assert event["data"]["redelivery"] is False
    # A second pass delivers nothing twice.
    assert nudge.id not in await drain(service)
    assert await deliveries_in_outbox(service, {nudge.id}) == Counter({nudge.id: 1})
    await delivered_events.unsubscribe()


async def test_two_replicas_deliver_each_nudge_once_and_retake_a_dead_replicas_leases(
    make_nudges: MakeNudges, unique: str
) -> None:
    clock = FakeClock(WEDNESDAY_10_UTC)
    settings = {"scheduler_batch_size": 20, "scheduler_lease_seconds": 60}
    first, second, doomed = (make_nudges(clock, **settings) for _ in range(3))
    await first.nudges.ensure_indexes()
    due = clock.now - timedelta(minutes=1)
    nudges = [await add_due(first, f"u{i}-{unique}", due) for i in range(200)]
    ids = {n.id for n in nudges}

    # The doomed replica leases a batch (as after a conflict) and dies about to deliver it,
    # its leases in hand.
    leased: list[Nudge] = []
    hang = asyncio.Event()

    async def die_with_the_batch(claimed: list[Nudge], token: str) -> dict[str, str]:
        leased.extend(claimed)
        await hang.wait()  # killed here, mid-delivery
        return {}

    doomed.scheduler.settle_batch = die_with_the_batch  # type: ignore[method-assign]
    dying = asyncio.create_task(doomed.scheduler.tick_leased())
    await eventually(lambda: bool(leased))
    dying.cancel()
    await doomed.stop()

    delivered = await drain_together((first, second), ids, clock.now)
    stuck = [n for n in await first.nudges.get_many(ids) if n.status == NudgeStatus.SCHEDULED]
    assert len(stuck) == 20  # leased by the dead replica: nobody touches them yet
    assert {n.id for n in stuck} == {n.id for n in leased}
    # Every free nudge delivered by exactly one of the two. How many each gets is a race:
    # on an idle machine one may honestly take them all, so no share is asserted.
    assert not set(delivered[0]) & set(delivered[1])
    assert sorted(delivered[0] + delivered[1]) == sorted(ids - {n.id for n in stuck})

    clock.advance(seconds=61)  # the dead replica's leases run out
    retaken = await drain_together((first, second), ids, clock.now)
    assert sorted(retaken[0] + retaken[1]) == sorted(n.id for n in stuck)

    counts = await deliveries_in_outbox(first, ids)
    assert len(counts) == 200
    assert set(counts.values()) == {1}
    statuses = Counter(n.status for n in await first.nudges.get_many(ids))
    assert statuses == Counter({NudgeStatus.DELIVERED: 200})


async def test_daily_cap_defers_to_the_next_day_even_with_concurrent_replicas(
    make_nudges: MakeNudges, unique: str
) -> None:
    clock = FakeClock(WEDNESDAY_10_UTC)
    first = make_nudges(clock, scheduler_batch_size=3)
    second = make_nudges(clock, scheduler_batch_size=3)
    await first.nudges.ensure_indexes()
    ana = f"ana-{unique}"
    due = clock.now - timedelta(minutes=5)
    nudges = [await add_due(first, ana, due) for _ in range(5)]
    nudges.append(await add_due(first, ana, due, type=NudgeType.LEARNING_HABIT))
    ids = {n.id for n in nudges}

    delivered = await asyncio.gather(drain(first), drain(second))
    assert len(delivered[0]) + len(delivered[1]) == 3
    assert await first.nudges.delivered_on(ana, clock.now.date()) == 3
    after = {n.id: n for n in await first.nudges.get_many(ids)}
    waiting = [n for n in after.values() if n.status == NudgeStatus.SCHEDULED]
    dropped = [n for n in after.values() if n.status == NudgeStatus.EXPIRED]
    # Follow-ups wait for Thursday morning; a learning-habit reminder would be stale
    # by then (unless it went out today).
    thursday_9 = datetime(2026, 6, 11, 9, 0, tzinfo=UTC)
    assert all(n.due_at == thursday_9 for n in waiting)
    assert all(n.type == NudgeType.LEARNING_HABIT for n in dropped)
    assert len(waiting) + len(dropped) == 3

    clock.now = thursday_9
    assert sorted(await drain(first)) == sorted(n.id for n in waiting)


async def test_claim_boundaries_on_the_ascending_due_index(
    make_nudges: MakeNudges, unique: str
) -> None:
    """Due exactly now is due; a lease ending exactly now still holds (strict bounds)."""
    clock = FakeClock(WEDNESDAY_10_UTC)
    service = make_nudges(clock)
    await service.nudges.ensure_indexes()
    now = clock.now
    exactly = await add_due(service, f"a-{unique}", now)
    later = await add_due(service, f"b-{unique}", now + timedelta(milliseconds=1))
    token, claimed = await service.nudges.claim(now, timedelta(seconds=30), "one", 500)
    assert exactly.id in {n.id for n in claimed}
    assert later.id not in {n.id for n in claimed}
    # Claimed until now + 30 s: at that very instant the lease holds, a moment later not.
    _, again = await service.nudges.claim(
        now + timedelta(seconds=30), timedelta(seconds=30), "two", 500
    )
    assert exactly.id not in {n.id for n in again}
    _, retaken = await service.nudges.claim(
        now + timedelta(seconds=30, milliseconds=1), timedelta(seconds=30), "three", 500
    )
    assert exactly.id in {n.id for n in retaken}
    assert token not in {"", None}


async def test_a_slow_replica_whose_lease_ran_out_delivers_nothing(
    make_nudges: MakeNudges, unique: str
) -> None:
    clock = FakeClock(WEDNESDAY_10_UTC)
    slow, fast = make_nudges(clock), make_nudges(clock)
    await slow.nudges.ensure_indexes()
    ana = f"ana-{unique}"
    nudge = await add_due(slow, ana, clock.now)
    token, claimed = await slow.nudges.claim(clock.now, timedelta(seconds=60), "slow", 10)
    assert [n.id for n in claimed] == [nudge.id]
    clock.advance(seconds=61)
    fast_token, retaken = await fast.nudges.claim(clock.now, timedelta(seconds=60), "fast", 10)
    assert [n.id for n in retaken] == [nudge.id]
    # The slow replica wakes up and settles what it claimed a while ago: no effect at all.
    assert await slow.scheduler.settle(claimed[0], token) == "lost"
    assert await slow.nudges.delivered_on(ana, clock.now.date()) == 0
    assert await fast.scheduler.settle(retaken[0], fast_token) == "delivered"
    assert await deliveries_in_outbox(slow, {nudge.id}) == Counter({nudge.id: 1})
    assert await slow.nudges.delivered_on(ana, clock.now.date()) == 1


async def test_replicas_racing_over_the_same_due_nudges_deliver_each_once(
    make_nudges: MakeNudges, unique: str
) -> None:
    """No lease is written for a batch: its transaction alone keeps replicas apart."""
    clock = FakeClock(WEDNESDAY_10_UTC)
    first, second = (make_nudges(clock, scheduler_batch_size=20) for _ in range(2))
    await first.nudges.ensure_indexes()
    due = clock.now - timedelta(minutes=1)
    ids = {(await add_due(first, f"r{i}-{unique}", due)).id for i in range(120)}
    leases = Counter[str]()
    for name, service in (("first", first), ("second", second)):
        real = service.nudges.claim_ids

        async def counted(*args: Any, _name: str = name, _real: Any = real) -> list[Nudge]:
            leases[_name] += 1
            result: list[Nudge] = await _real(*args)
            return result

        service.nudges.claim_ids = counted  # type: ignore[method-assign]

    delivered = await drain_together((first, second), ids, clock.now)
    assert sorted(delivered[0] + delivered[1]) == sorted(ids)
    assert await deliveries_in_outbox(first, ids) == Counter(dict.fromkeys(ids, 1))
    statuses = Counter(n.status for n in await first.nudges.get_many(ids))
    assert statuses == Counter({NudgeStatus.DELIVERED: 120})
    # Alone, a replica writes no lease at all.
    more = {(await add_due(first, f"s{i}-{unique}", due)).id for i in range(30)}
    leases.clear()
    assert sorted(await drain(first)) == sorted(more)
    assert leases == Counter()
    stored = first.nudges.nudges.find({"_id": {"$in": sorted(ids | more)}})
    assert {doc["lease_owner"] async for doc in stored} == {None}


async def test_a_nudge_held_by_a_dead_replicas_transaction_does_not_hold_up_the_rest(
    make_nudges: MakeNudges, unique: str
) -> None:
    clock = FakeClock(WEDNESDAY_10_UTC)
    service = make_nudges(clock, scheduler_batch_size=20)
    await service.nudges.ensure_indexes()
    due = clock.now - timedelta(minutes=1)
    nudges = [await add_due(service, f"h{i}-{unique}", due) for i in range(10)]
    held, rest = nudges[0], {n.id for n in nudges[1:]}
    collection = service.nudges.nudges
    # A replica killed mid-transaction: its write stays uncommitted until the server ends it.
    async with collection.database.client.start_session() as session:
        await session.start_transaction()
        await collection.update_one(
            {"_id": held.id}, {"$set": {"message": "half written"}}, session=session
        )
        began = asyncio.get_running_loop().time()
        assert sorted(await drain(service)) == sorted(rest)
        assert asyncio.get_running_loop().time() - began < 15
        await session.abort_transaction()
    assert await drain(service) == [held.id]
    counts = await deliveries_in_outbox(service, rest | {held.id})
    assert counts == Counter(dict.fromkeys(rest | {held.id}, 1))


async def test_a_late_lease_owner_cannot_settle_a_nudge_delivered_since(
    make_nudges: MakeNudges, unique: str
) -> None:
    """Delivering without a lease clears an expired one: its owner, waking up after the
    nudge was snoozed (pending again), finds nothing of its own."""
    clock = FakeClock(WEDNESDAY_10_UTC)
    slow, fast = make_nudges(clock), make_nudges(clock)
    await slow.nudges.ensure_indexes()
    nudge = await add_due(slow, f"ana-{unique}", clock.now)
    token, claimed = await slow.nudges.claim(clock.now, timedelta(seconds=60), "slow", 10)
    assert [n.id for n in claimed] == [nudge.id]
    clock.advance(seconds=61)
    assert (await fast.scheduler.tick()).delivered == [nudge.id]
    await fast.nudges.nudges.update_one(
        {"_id": nudge.id},
        {"$set": {"status": str(NudgeStatus.SNOOZED), "due_at": clock.now + timedelta(hours=1)}},
    )
    assert await slow.scheduler.settle(claimed[0], token) == "lost"
    assert await deliveries_in_outbox(slow, {nudge.id}) == Counter({nudge.id: 1})
