"""A replica stopped mid-delivery (a rolling deploy) gives up the leases of what it could
not finish: another replica takes that work at once, not when the leases end. Nudges are
still delivered exactly once (outside sends at least once), and leases of other replicas
are left alone."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flowlearn_nudges.adapters.nudge_repository import NEVER, NudgeRepository
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.nudge import Nudge
from flowlearn_shared.contracts.nudges import Channel
from nats.aio.client import Client
from nudges_channel_support import Receiver, delivered_now, inbox_item, put_preferences
from nudges_support import nudges_settings
from test_nudges_scheduler import WEDNESDAY_10_UTC, add_due, deliveries_in_outbox, eventually

pytestmark = pytest.mark.integration

MakeNudges = Callable[..., Nudges]
LEASE = 60.0
STOPPED: set[str] = set()  # replicas a test stopped itself


class RunningClock:
    """Real time passing, from a Wednesday 10:00 UTC (inside the default working hours)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.began = start, time.monotonic()

    def __call__(self) -> datetime:
        now = self.start + timedelta(seconds=time.monotonic() - self.began)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


@pytest.fixture
async def make_nudges(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[MakeNudges]:
    started: list[Nudges] = []

    clock = RunningClock(WEDNESDAY_10_UTC)

    def make(**overrides: Any) -> Nudges:
        settings = nudges_settings(
            nats_url,
            mongodb_uri,
            unique,
            **{
                "outbox_poll_seconds": 0.2,
                "scheduler_lease_seconds": LEASE,
                "channel_lease_seconds": LEASE,
                "channels_enabled": False,
                "campaigns_enabled": False,
                "channel_digest_gather_seconds": 0,
                "channel_poll_seconds": 0.05,
                **overrides,
            },
        )
        service = bootstrap(settings, clock=clock)
        started.append(service)
        return service

    yield make
    for service in started:
        if service.scheduler.owner not in STOPPED:
            await service.stop()


@pytest.mark.parametrize("leased", [False, True], ids=["unleased", "leased"])
async def test_a_replica_stopped_mid_batch_hands_its_nudges_over_at_once(
    make_nudges: MakeNudges, unique: str, leased: bool
) -> None:
    first = make_nudges(scheduler_enabled=True, scheduler_stop_grace_seconds=1.0)
    second = make_nudges(scheduler_enabled=True)
    store = second.nudges.nudges  # read through the replica that keeps running
    await first.nudges.ensure_indexes()
    due = first.scheduler.clock() - timedelta(seconds=1)
    waiting = [await add_due(first, f"p{i}-{unique}", due) for i in range(30)]
    # Leased by a replica that keeps running: the stopping one must not free it.
    elsewhere = await add_due(first, f"other-{unique}", due - timedelta(minutes=1))
    other = NudgeRepository(store.database)  # as in another process
    other_token, taken = await other.claim(
        first.scheduler.clock(), timedelta(seconds=LEASE), "elsewhere", 1
    )
    assert [n.id for n in taken] == [elsewhere.id]

    # The first replica takes the whole batch, then its delivery hangs: in its transaction,
    # or (leased) after a conflict made it lease the batch.
    batch_started = asyncio.Event()
    in_hand: list[str] = []

    async def hanging(claimed: list[Nudge], token: str) -> dict[str, str]:
        in_hand.extend(n.id for n in claimed)
        batch_started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def hanging_unleased(ids: list[str], session: Any) -> list[tuple[Nudge, str]]:
        if leased:
            raise RuntimeError("a conflict")
        in_hand.extend(i for i in ids if i != elsewhere.id)
        batch_started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    first.scheduler.settle_batch = hanging  # type: ignore[method-assign]
    first.scheduler.settle_due = hanging_unleased  # type: ignore[method-assign]
    await first.start()
    await asyncio.wait_for(batch_started.wait(), 20)
    assert set(in_hand) == {n.id for n in waiting}

    began = time.monotonic()
    await first.stop()
    STOPPED.add(first.scheduler.owner)
    assert time.monotonic() - began < 10  # bounded by the grace, not by the batch

    # Released, not left to run out: free right away, the other replica's lease kept.
    for nudge in waiting:
        stored = await store.find_one({"_id": nudge.id})
        assert stored is not None
        assert stored["lease_owner"] is None
        assert stored["lease_until"].replace(tzinfo=None) == NEVER.replace(tzinfo=None)
    kept = await store.find_one({"_id": elsewhere.id})
    assert kept is not None
    assert kept["lease_owner"] == other_token

    handed_over = time.monotonic()
    await second.start()
    ids = {n.id for n in waiting}

    async def all_delivered() -> bool:
        return set(await deliveries_in_outbox(second, ids)) == ids

    await eventually(all_delivered, within=10)
    assert time.monotonic() - handed_over < LEASE / 2
    assert await deliveries_in_outbox(second, ids) == Counter(dict.fromkeys(ids, 1))
    assert (await deliveries_in_outbox(second, {elsewhere.id})) == Counter()


async def test_a_sender_stopped_mid_send_hands_its_deliveries_over_at_once(
    make_nudges: MakeNudges, nc: Client, receiver: Receiver, unique: str
) -> None:
    first = make_nudges(
        channels_enabled=True,
        channel_stop_grace_seconds=0.5,
        channel_send_timeout_seconds=30,
        channel_endpoint_concurrency=2,
    )
    second = make_nudges(channels_enabled=True)
    await first.start()
    ana = f"ana-{unique}"
    reply = await put_preferences(
        nc, ana, channels=["slack"], destinations={"slack": {"webhook_url": receiver.url("/s")}}
    )
    assert reply.get("problem") is None, reply
    # The endpoint hangs: two sends in flight, the other nudges leased and waiting.
    receiver.on("/s", delay=20.0)
    now = first.scheduler.clock()
    nudges = [await delivered_now(first, ana, [Channel.SLACK], now) for _ in range(5)]
    await eventually(lambda: len(receiver.at("/s")) >= 2)

    began = time.monotonic()
    await first.stop()
    STOPPED.add(first.scheduler.owner)
    assert time.monotonic() - began < 5
    for nudge in nudges:
        stored = await second.nudges.nudges.find_one({"_id": nudge.id})
        assert stored is not None
        assert stored.get("channel_lease_owner") is None

    receiver.on("/s")  # answers at once now
    handed_over = time.monotonic()
    await second.start()

    async def all_sent() -> bool:
        for nudge in nudges:
            item = await inbox_item(nc, ana, nudge.id)
            if item["deliveries"]["slack"]["status"] != "delivered":
                return False
        return True

    await eventually(all_sent, within=10)
    assert time.monotonic() - handed_over < LEASE / 2
    # At least once: only the two sends cut short went out twice.
    assert len(receiver.at("/s")) == len(nudges) + 2
