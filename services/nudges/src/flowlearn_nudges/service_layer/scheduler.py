"""The delivery loop. It runs in every replica: due nudges are settled in batches, so no
two replicas deliver the same nudge, and a replica that dies mid-delivery leaves nothing
half done.

A batch is settled in one transaction that reads the due nudges, decides and writes: the
nudges' new states, the days' counts against the caps, the next occurrences of recurring
types and the ``delivered`` events in the outbox commit together or not at all, in a
handful of bulk reads and writes (a 09:00 wave brings thousands due at once). No lease is
written: two replicas settling the same nudge write the same document, so one of the
transactions fails and commits nothing.

A batch that conflicts twice (another replica on the same nudges, or the open transaction
of a dead one) is leased instead, the held nudges skipped, and the leased batch settled in
one transaction; should that fail, or a lease in it have been lost meanwhile, each nudge is
settled in a transaction of its own (``concurrency`` at once), and a delivery whose lease
was lost writes nothing. A replica that dies holding leases leaves them to expire.

On stop no batch is started any more; the one in hand may finish for ``stop_grace``
seconds, and if it does not, it is cut short (its transaction then commits nothing) and
the leases it holds, if any, are released, so another replica takes those nudges at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from flowlearn_shared.events import NudgeDelivered
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from flowlearn_nudges.adapters.nudge_repository import NudgeRepository, new_lease_token
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.model import Person
from flowlearn_nudges.domain.nudge import (
    Decision,
    Nudge,
    Ready,
    may_go_out,
    over_cap,
)
from flowlearn_nudges.service_layer.planner import Planner
from flowlearn_nudges.service_layer.settling import (
    apply_decision,
    delivered_event,
    delivery_trace,
)
from flowlearn_nudges.service_layer.stopping import finish_within, pause, release_leases

log = logging.getLogger("flowlearn.nudges.scheduler")

Clock = Callable[[], datetime]
T = TypeVar("T")
_ROUNDS = 3  # batches tried in a tick when another replica took the candidates first


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
        batch_size: int = 100,
        concurrency: int = 4,
        poll_seconds: float = 0.5,
        stop_grace: float = 5.0,
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
        self.stop_grace = stop_grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._contended = False  # the last batch met another replica's

    async def tick(self) -> TickReport:
        """Settle one batch of due nudges: deliver, defer or drop. Cut short by ``stop``,
        it commits nothing and releases any leases it took."""
        report = TickReport()
        for _ in range(_ROUNDS):
            wanted = self.batch_size - report.claimed
            ids = await self.nudges.due_candidates(self.clock(), wanted, spread=self._contended)
            if not ids:
                break
            found = await self._settle_due(ids, report)
            if found is None:  # settled under leases instead
                if report.claimed:
                    break
                continue  # another replica had them all: look elsewhere (``spread``)
            if found == len(ids) or report.claimed >= self.batch_size:
                break
        return report

    async def _settle_due(self, ids: list[str], report: TickReport) -> int | None:
        """Settle those of ``ids`` still due, without leases; how many were, or None when
        conflicts made it fall back to leases."""
        for attempt in range(2):
            try:
                settled = await self._once(lambda session: self.settle_due(ids, session))
            except _LeaseLost:
                break
            except PyMongoError as exc:
                if not exc.has_error_label("TransientTransactionError"):
                    log.warning("batch delivery failed; leasing it", exc_info=True)
                    break
                self._contended = True  # another replica on the same nudges, most likely
                continue
            except Exception:
                log.warning("batch delivery failed; leasing it", exc_info=True)
                break
            # Candidates another replica settled first mean it reads the same ones: take
            # the next from elsewhere, or the two keep meeting on every batch.
            self._contended = attempt > 0 or len(settled) < len(ids)
            report.claimed += len(settled)
            for nudge, outcome in settled:
                self._count(report, nudge, outcome)
            return len(settled)
        await self.tick_leased(ids, report)
        return None

    async def tick_leased(
        self, ids: list[str] | None = None, report: TickReport | None = None
    ) -> TickReport:
        """Lease a batch (of ``ids``, or of any due nudges), then settle each. Cut short by
        ``stop``, it releases the leases it still holds."""
        token = new_lease_token(self.owner)
        report = report or TickReport()
        claimed: list[Nudge] | None = None  # None: the claim itself was cut short
        try:
            if ids is None:
                _, claimed = await self.nudges.claim(
                    self.clock(), self.lease, self.owner, self.batch_size, token=token
                )
            else:
                claimed = await self.nudges.claim_ids(ids, self.clock(), self.lease, token)
            await self.settle_claimed(claimed, token, report)
        except asyncio.CancelledError:
            # Cut short by ``stop``; a pass cancelled otherwise leaves its leases to run out.
            if self._stopping.is_set() and claimed != []:
                held = None if claimed is None else [n.id for n in claimed]
                await release_leases(lambda: self.nudges.release(token, held), "nudge")
            raise
        return report

    async def _once(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """``work`` in one transaction, tried once: a conflict is the caller's to handle,
        where ``UnitOfWork.run`` would retry it for up to two minutes."""
        async with (
            self.uow.client.start_session() as session,
            await session.start_transaction(),
        ):
            result = await work(session)
        if self.uow.relay is not None:
            self.uow.relay.notify()
        return result

    async def settle_claimed(self, claimed: list[Nudge], token: str, report: TickReport) -> None:
        """The batch in one transaction; failing that, each nudge in its own."""
        report.claimed += len(claimed)
        if not claimed:
            return
        try:
            outcomes = await self.settle_batch(claimed, token)
        except Exception as exc:
            if not isinstance(exc, _LeaseLost):
                log.warning("batch delivery failed; settling one by one", exc_info=True)
            outcomes = None
        if outcomes is not None:
            for nudge in claimed:
                self._count(report, nudge, outcomes[nudge.id])
            return
        limit = asyncio.Semaphore(self.concurrency)

        async def settle(nudge: Nudge) -> None:
            async with limit:
                try:
                    outcome = await self.settle(nudge, token)
                except Exception:
                    # Left leased: it is taken again when the lease ends.
                    log.exception("delivery failed", extra={"nudge_id": nudge.id})
                    self.settled(nudge, "failed")
                    return
            self._count(report, nudge, outcome)

        await asyncio.gather(*(settle(nudge) for nudge in claimed))

    def _count(self, report: TickReport, nudge: Nudge, outcome: str) -> None:
        if outcome == "delivered":
            report.delivered.append(nudge.id)
        elif outcome == "deferred":
            report.deferred += 1
        elif outcome == "dropped":
            report.dropped += 1
        else:
            report.lost += 1
        self.settled(nudge, outcome)

    def settled(self, nudge: Nudge, outcome: str) -> None:
        """Called once per claimed nudge with how it was settled (``failed``: an error left
        it leased); for metrics."""

    async def settle_due(
        self, ids: list[str], session: AsyncClientSession
    ) -> list[tuple[Nudge, str]]:
        """Settle those of ``ids`` due and leased by nobody, in ``session``'s transaction;
        each as read, with its outcome. Raises ``_LeaseLost`` if one was taken meanwhile."""
        now = self.clock()
        due = await self.nudges.get_due_many(ids, now, session)
        order = {nudge_id: i for i, nudge_id in enumerate(ids)}
        due.sort(key=lambda n: order[n.id])
        outcomes = await self._settle_in(due, now, session, None)
        return [(nudge, outcomes[nudge.id]) for nudge in due]

    async def settle_batch(self, claimed: list[Nudge], token: str) -> dict[str, str]:
        """Settle every nudge of a leased batch in one transaction, with bulk reads and
        writes. Raises ``_LeaseLost`` (writing nothing) when a lease in it was lost while
        being written; a nudge no longer leased when read is ``lost``."""
        outcomes: dict[str, str] = {}

        async def work(session: AsyncClientSession) -> None:
            ids = [nudge.id for nudge in claimed]
            held = {n.id: n for n in await self.nudges.get_leased_many(ids, token, session)}
            mine = [held[i] for i in ids if i in held and held[i].pending]
            outcomes.clear()
            outcomes.update(await self._settle_in(mine, self.clock(), session, token))

        await self.uow.run(work)
        return {nudge.id: outcomes.get(nudge.id, "lost") for nudge in claimed}

    async def _settle_in(
        self, mine: list[Nudge], now: datetime, session: AsyncClientSession, token: str | None
    ) -> dict[str, str]:
        """Decide and write the settling of ``mine``, held under ``token`` or, without
        one, due and leased by nobody; each one's outcome."""
        outcomes: dict[str, str] = {}
        people = await self.people.get_many({n.user_id for n in mine}, session)
        decided: list[tuple[Nudge, Person, Decision]] = []
        for nudge in mine:
            person = people[nudge.user_id]
            decision = may_go_out(nudge, now, person.schedule, person.preferences)
            decided.append((nudge, person, decision))
        # The daily caps: read once, counted here as the batch takes its slots.
        wanted = {
            (n.user_id, p.schedule.local_date(now))
            for n, p, d in decided
            if isinstance(d, Ready) and n.counted_on is None
        }
        counts = await self.nudges.daily_counts_of(wanted, session)
        taken: Counter[tuple[str, date]] = Counter()
        changed: list[tuple[Nudge, Nudge]] = []
        events: list[NudgeDelivered] = []
        traces: list[dict[str, str]] = []
        recurring: list[tuple[Person, Nudge]] = []
        for nudge, person, decision in decided:
            schedule, preferences = person.schedule, person.preferences
            if isinstance(decision, Ready) and nudge.counted_on is None:
                day = (nudge.user_id, schedule.local_date(now))
                if counts.get(day, 0) + taken[day] >= preferences.daily_cap:
                    decision = over_cap(nudge, now, schedule, preferences)
                else:
                    taken[day] += 1
            after, result = apply_decision(nudge, decision, now, schedule, person)
            changed.append((nudge, after))
            outcomes[nudge.id] = result
            if result == "delivered":
                events.append(delivered_event(after, nudge))
                traces.append(delivery_trace(after))
            if result != "deferred" and nudge.origin == Origin.RECURRING:
                recurring.append((person, nudge))
        if not changed:
            return outcomes
        await self.nudges.count_deliveries(taken, session)
        saved = await self.nudges.save_many(changed, session, lease_token=token, unleased_at=now)
        if saved < len(changed):
            raise _LeaseLost  # undo the counts taken above
        await self.outbox.add_many(events, session, traces)
        for person, nudge in recurring:
            await self.planner.plan_recurring(
                person, nudge.type, max(nudge.wanted_at, now), session
            )
        return outcomes

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
            changed, result = apply_decision(nudge, decision, now, schedule, person)
            if not await self.nudges.save(changed, session, lease_token=token):
                raise _LeaseLost  # undo the day's count taken above
            if result == "delivered":
                await self.outbox.add(
                    delivered_event(changed, nudge), session, delivery_trace(changed)
                )
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
        # One batch at a time: concurrent batch transactions conflict over the same
        # collections and retry, which costs more than it overlaps.
        while not self._stopping.is_set():
            try:
                report = await self.tick()
            except Exception:
                log.exception("scheduler pass failed; retrying")
                report = TickReport()
            if report.claimed < self.batch_size:
                await pause(self._stopping, self.poll_seconds)

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name="nudge-scheduler")

    async def stop(self) -> None:
        """Claim no more; the batch in hand finishes within ``stop_grace`` seconds or is
        cut short, its leases released."""
        self._stopping.set()
        if self._task is not None:
            await finish_within([self._task], self.stop_grace)
            self._task = None
