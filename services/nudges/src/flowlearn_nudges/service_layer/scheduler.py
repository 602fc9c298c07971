"""The delivery loop. It runs in every replica: due nudges are leased atomically in batches,
so no two replicas deliver the same nudge, and a replica that dies mid-delivery leaves its
leases to expire and be taken again.

Each delivery is one transaction: the nudge's new state, the day's count against the cap,
the next occurrence of a recurring type and the ``delivered`` event in the outbox commit
together or not at all. A delivery whose lease was lost meanwhile writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flowlearn_shared.contracts.nudges import NudgeStatus
from flowlearn_shared.events import NudgeDelivered, NudgeDeliveredData
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.nudge_repository import NudgeRepository
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import (
    Defer,
    Drop,
    Nudge,
    Ready,
    deliver,
    end,
    may_go_out,
    over_cap,
)
from flowlearn_nudges.service_layer.planner import Planner

log = logging.getLogger("flowlearn.nudges.scheduler")

Clock = Callable[[], datetime]
SOURCE = "flowlearn/nudges"


class _LeaseLost(Exception):
    pass


@dataclass
class TickReport:
    claimed: int = 0
    delivered: list[str] = field(default_factory=list)
    deferred: int = 0
    dropped: int = 0
    lost: int = 0  # lease taken over by another replica meanwhile


class Scheduler:
    def __init__(
        self,
        nudges: NudgeRepository,
        people: PeopleRepository,
        planner: Planner,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
        *,
        owner: str,
        lease: timedelta = timedelta(seconds=60),
        batch_size: int = 50,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
    ) -> None:
        self.nudges = nudges
        self.people = people
        self.planner = planner
        self.outbox = outbox
        self.uow = uow
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> TickReport:
        """Lease one batch of due nudges and settle each: deliver, defer or drop."""
        report = TickReport()
        token, claimed = await self.nudges.claim(
            self.clock(), self.lease, self.owner, self.batch_size
        )
        report.claimed = len(claimed)
        limit = asyncio.Semaphore(self.concurrency)

        async def settle(nudge: Nudge) -> None:
            async with limit:
                try:
                    outcome = await self.settle(nudge, token)
                except Exception:
                    # Left leased: it is taken again when the lease ends.
                    log.exception("delivery failed", extra={"nudge_id": nudge.id})
                    return
            if outcome == "delivered":
                report.delivered.append(nudge.id)
            elif outcome == "deferred":
                report.deferred += 1
            elif outcome == "dropped":
                report.dropped += 1
            else:
                report.lost += 1

        await asyncio.gather(*(settle(nudge) for nudge in claimed))
        return report

    async def settle(self, claimed: Nudge, token: str) -> str:
        outcome = "lost"

        async def work(session: AsyncClientSession) -> None:
            nonlocal outcome
            outcome = "lost"
            # Still ours? Another replica may have retaken it after our lease ended.
            nudge = await self.nudges.get_leased(claimed.id, token, session)
            if nudge is None or not nudge.pending:
                return
            person = await self.people.get(nudge.user_id, session)
            schedule, preferences = person.schedule, person.preferences
            now = self.clock()
            decision = may_go_out(nudge, now, schedule, preferences)
            # A snoozed nudge counted on its first delivery; it does not count again.
            if (
                isinstance(decision, Ready)
                and nudge.counted_on is None
                and not await self.nudges.take_daily_slot(
                    nudge.user_id, schedule.local_date(now), preferences.daily_cap, session
                )
            ):
                decision = over_cap(nudge, now, schedule, preferences)
            if isinstance(decision, Defer):
                changed, result = replace(nudge, due_at=decision.due_at), "deferred"
            elif isinstance(decision, Drop):
                changed, result = end(nudge, NudgeStatus.EXPIRED, decision.reason), "dropped"
            else:
                day = schedule.local_date(now).isoformat()
                changed = deliver(nudge, now, preferences.channels, day)
                result = "delivered"
            if not await self.nudges.save(changed, session, lease_token=token):
                raise _LeaseLost  # undo the day's count taken above
            if result == "delivered":
                await self.outbox.add(_delivered_event(changed, nudge), session)
            if result != "deferred" and nudge.origin == Origin.RECURRING:
                await self.planner.plan_recurring(
                    person, nudge.type, max(nudge.wanted_at, now), session
                )
            outcome = result

        try:
            await self.uow.run(work)
        except _LeaseLost:
            return "lost"
        return outcome

    async def run(self) -> None:
        while True:
            try:
                report = await self.tick()
            except Exception:
                log.exception("scheduler pass failed; retrying")
                report = TickReport()
            if report.claimed < self.batch_size:
                await asyncio.sleep(self.poll_seconds)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="nudge-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _delivered_event(nudge: Nudge, before: Nudge) -> NudgeDelivered:
    assert nudge.delivered_at is not None
    return NudgeDelivered(
        source=SOURCE,
        subject=nudge.user_id,
        time=nudge.delivered_at,
        data=NudgeDeliveredData(
            nudge_id=nudge.id,
            user_id=nudge.user_id,
            nudge_type=str(nudge.type),
            message=nudge.message,
            channels=[str(c) for c in nudge.channels],
            delivered_at=nudge.delivered_at,
            redelivery=before.status == NudgeStatus.SNOOZED,
            context=nudge.context,
        ),
    )
