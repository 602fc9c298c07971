"""The channel sender: sends nudges that reached the in-app inbox on to the person's outside
channels (Slack, Teams, a webhook, e-mail).

It runs in every replica, like the scheduler. Nudges with an outside delivery due are
leased in batches (a channel lease of their own), so two replicas never send the same
delivery at the same time; a replica that dies mid-send leaves its lease to expire and the
delivery to be sent again. Delivery is therefore *at least once*: every message carries a
delivery id that stays the same across retries, for receivers to drop repeats.

A failed delivery never holds up the others: sends run concurrently (bounded), each under
a timeout; an endpoint may have only a few sends in flight, the rest wait their turn; a
transient failure is retried with exponential backoff and jitter up to a bounded number of
attempts, then the channel delivery is marked ``failed`` with the reason, which its owner
sees on the inbox item. An endpoint that keeps failing trips its circuit breaker (memory of
this replica only) and is left alone for a while.

With a digest, everything due for one person on one channel goes out as one message; the
scheduler already times those nudges at the person's digest time (outside quiet hours),
and the sender waits a short gathering window so nudges delivered together stay together.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flowlearn_shared.contracts.nudges import Channel

from flowlearn_nudges.adapters.channel_repository import ChannelDeliveryRepository
from flowlearn_nudges.adapters.channels.base import ChannelSender, DeliveryError, NotConfigured
from flowlearn_nudges.adapters.channels.url_guard import RefusedUrl
from flowlearn_nudges.adapters.nudge_repository import new_lease_token
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.domain import delivery as rules
from flowlearn_nudges.domain.delivery import CircuitBreaker, Outgoing, OutgoingItem
from flowlearn_nudges.domain.model import Person
from flowlearn_nudges.domain.nudge import Nudge, nudge_id
from flowlearn_nudges.domain.schedule import next_allowed_moment
from flowlearn_nudges.service_layer.sender_config import SenderConfig
from flowlearn_nudges.service_layer.stopping import finish_within, pause, release_leases

log = logging.getLogger("flowlearn.nudges.channels")
Clock = Callable[[], datetime]
State = dict[str, Any]


@dataclass
class SendReport:
    claimed: int = 0
    messages: int = 0  # messages that went out; a digest is one
    sent: list[tuple[str, str]] = field(default_factory=list)  # (nudge id, channel)
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    lost: int = 0  # lease taken over by another replica meanwhile


@dataclass
class _Job:
    person: Person
    channel: Channel
    nudges: list[Nudge]


class ChannelDispatcher:
    def __init__(
        self,
        repository: ChannelDeliveryRepository,
        people: PeopleRepository,
        senders: Mapping[Channel, ChannelSender],
        breaker: CircuitBreaker,
        clock: Clock,
        config: SenderConfig,
        *,
        owner: str,
        rng: random.Random | None = None,
    ) -> None:
        self.repository = repository
        self.people = people
        self.senders = dict(senders)
        self.breaker = breaker
        self.clock = clock
        self.config = config
        self.owner = owner
        self.rng = rng or random.Random()
        self._slots = asyncio.Semaphore(max(1, config.concurrency))
        self._in_flight: Counter[str] = Counter()  # sends per endpoint
        self._holding = 0  # leased nudges not settled yet
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()

    async def tick(self) -> SendReport:
        """Lease one batch and send all of it (for tests and one-off runs)."""
        report = SendReport()
        token, claimed = await self.repository.claim(
            self.clock(), self.config.lease, self.owner, self.config.batch_size
        )
        self._holding += len(claimed)
        await self._process(token, claimed, report)
        return report

    async def _process(self, token: str, claimed: list[Nudge], report: SendReport) -> None:
        unsettled = {n.id: n for n in claimed}
        try:
            report.claimed += len(claimed)
            await self._send_batch(token, unsettled, report)
        except Exception:
            log.exception("channel batch failed; its leases will be taken again")
        except asyncio.CancelledError:  # cut short by ``stop``: another replica sends now
            if self._stopping.is_set():
                ids = list(unsettled)
                await release_leases(lambda: self.repository.release(token, ids), "channel")
            raise
        finally:
            self._holding -= len(unsettled)
            unsettled.clear()

    async def _send_batch(
        self, token: str, unsettled: dict[str, Nudge], report: SendReport
    ) -> None:
        now = self.clock()
        people = {
            uid: await self.people.get(uid) for uid in {n.user_id for n in unsettled.values()}
        }
        for uid, person in people.items():
            if person.preferences.digest.enabled:  # the rest of their digest comes along
                more = await self._claim(token, self.config.batch_size, user_id=uid)
                fresh = [n for n in more if n.id not in unsettled]
                unsettled.update((n.id, n) for n in fresh)
                self._holding += len(fresh)
                report.claimed += len(fresh)
        changes: dict[str, dict[str, State]] = defaultdict(dict)
        jobs = self._plan(list(unsettled.values()), people, now, changes, report)
        remaining: Counter[str] = Counter(n.id for job in jobs for n in job.nudges)

        async def settle(nudge: Nudge) -> None:
            if nudge.id not in unsettled:
                return
            del unsettled[nudge.id]
            self._holding -= 1
            try:
                if not await self.repository.settle(nudge, token, changes.pop(nudge.id, {})):
                    report.lost += 1
            except Exception:  # its lease ends and it is taken again
                log.exception("saving a channel delivery failed", extra={"nudge_id": nudge.id})

        async def run(job: _Job) -> None:
            try:
                await self._run(job, changes, report)
            except Exception:  # a bug in one send must not stop the others
                log.exception("channel send failed unexpectedly")
                for nudge in job.nudges:
                    changes[nudge.id].pop(str(job.channel), None)
            for nudge in job.nudges:
                remaining[nudge.id] -= 1
                if remaining[nudge.id] == 0:
                    await settle(nudge)

        for nudge in [n for n in unsettled.values() if remaining[n.id] == 0]:
            await settle(nudge)  # nothing to send now: release at once
        await asyncio.gather(*(run(job) for job in jobs))

    def _plan(
        self,
        nudges: list[Nudge],
        people: dict[str, Person],
        now: datetime,
        changes: dict[str, dict[str, State]],
        report: SendReport,
    ) -> list[_Job]:
        """Group what is due into jobs: one per nudge and channel, or per person and
        channel when the person has a digest."""
        due: dict[tuple[str, Channel], list[Nudge]] = defaultdict(list)
        for nudge in nudges:
            for name, state in nudge.deliveries.items():
                if name not in rules.EXTERNAL or state.get("status") != rules.PENDING:
                    continue
                if (rules.due_of(state, nudge.delivered_at) or now) > now:
                    continue
                due[(nudge.user_id, Channel(name))].append(nudge)
        jobs: list[_Job] = []
        for (uid, channel), group in due.items():
            person = people[uid]
            if not person.preferences.digest.enabled:
                jobs += [_Job(person, channel, [nudge]) for nudge in group]
                continue
            newest = max(n.delivered_at or now for n in group)
            gathered = newest + self.config.digest_gather
            if now < gathered:  # more of this digest may still be on its way
                for nudge in group:
                    changes[nudge.id][str(channel)] = self._defer(
                        nudge, channel, now, gathered, "gathering the digest"
                    )
                report.deferred += len(group)
                continue
            jobs.append(_Job(person, channel, group))
        return jobs

    def _give_up_at(self, nudge: Nudge, now: datetime) -> datetime:
        return (nudge.delivered_at or now) + self.config.retry.give_up_after

    def _defer(
        self, nudge: Nudge, channel: Channel, now: datetime, until: datetime, reason: str
    ) -> State:
        state = nudge.deliveries[str(channel)]
        return rules.deferred(state, now, until, reason, self._give_up_at(nudge, now))

    async def _run(
        self, job: _Job, changes: dict[str, dict[str, State]], report: SendReport
    ) -> None:
        now = self.clock()
        channel, person = job.channel, job.person
        name = str(channel)

        def record(update: Callable[[Nudge, State], State]) -> None:
            for nudge in job.nudges:
                changes[nudge.id][name] = update(nudge, nudge.deliveries[name])

        def fail(reason: str, *, attempted: bool) -> None:
            record(lambda n, s: rules.failed(s, now, reason, attempted=attempted))
            report.failed += len(job.nudges)
            log.warning("channel delivery failed", extra={"channel": name, "reason": reason})

        def defer(until: datetime, reason: str) -> None:
            record(lambda n, s: rules.deferred(s, now, until, reason, self._give_up_at(n, now)))
            report.deferred += len(job.nudges)

        sender = self.senders.get(channel)
        if sender is None:
            return fail(f"{channel} is not available on this server", attempted=False)
        if channel not in person.preferences.channels:
            return fail(f"{channel} was turned off before it was sent", attempted=False)
        try:
            endpoint = sender.endpoint(person.preferences)
        except NotConfigured as exc:
            return fail(str(exc), attempted=False)
        schedule = person.schedule
        if schedule.is_quiet(schedule.local(now)):
            return defer(next_allowed_moment(now, schedule, working_hours=False), "quiet hours")
        if self._in_flight[endpoint] >= self.config.endpoint_concurrency:
            return defer(now + timedelta(seconds=self.config.poll_seconds), "endpoint busy")
        wait = self.breaker.admit(endpoint)
        if wait is not None:
            return defer(wait, "the endpoint keeps failing; waiting before trying again")
        outgoing = self._outgoing(job, now)
        self._in_flight[endpoint] += 1
        try:
            async with self._slots:
                async with asyncio.timeout(self.config.send_timeout):
                    await sender.send(outgoing, person.preferences)
        except (RefusedUrl, NotConfigured) as exc:
            self.breaker.abandoned(endpoint)
            return fail(f"not sent: {exc}", attempted=False)
        except DeliveryError as exc:
            if not exc.transient:  # the endpoint answered: it is up, the message is refused
                self.breaker.succeeded(endpoint)
                return fail(exc.reason, attempted=True)
            self._failed_attempt(job, endpoint, exc.reason, exc.retry_after, now, record, report)
        except TimeoutError:
            reason = f"no answer within {self.config.send_timeout:g} s"
            self._failed_attempt(job, endpoint, reason, None, now, record, report)
        except Exception as exc:  # counted as an attempt, so even a bug ends in `failed`
            log.exception("channel send raised", extra={"channel": name})
            reason = f"unexpected error ({type(exc).__name__})"
            self._failed_attempt(job, endpoint, reason, None, now, record, report)
        else:
            self.breaker.succeeded(endpoint)
            record(lambda n, s: rules.sent(s, now))
            report.messages += 1
            report.sent += [(n.id, name) for n in job.nudges]
        finally:
            self._in_flight[endpoint] -= 1
            if self._in_flight[endpoint] <= 0:
                del self._in_flight[endpoint]
        return None

    def _failed_attempt(
        self,
        job: _Job,
        endpoint: str,
        reason: str,
        retry_after: float | None,
        now: datetime,
        record: Callable[[Callable[[Nudge, State], State]], None],
        report: SendReport,
    ) -> None:
        self.breaker.failed(endpoint)
        policy = self.config.retry
        record(
            lambda n, s: rules.after_failure(
                s, now, reason, policy, self._give_up_at(n, now), self.rng, retry_after
            )
        )
        report.retried += len(job.nudges)

    def _outgoing(self, job: _Job, now: datetime) -> Outgoing:
        nudges = sorted(job.nudges, key=lambda n: (n.delivered_at or now, n.id))
        template = self.config.hub_nudge_url
        items = tuple(
            OutgoingItem(
                nudge_id=n.id,
                type=n.type,
                message=n.message,
                link=rules.hub_link(template, n.id),
                delivered_at=n.delivered_at or now,
                context=n.context,
            )
            for n in nudges
        )
        attempts = max(rules.attempts_of(n.deliveries[str(job.channel)]) for n in nudges)
        return Outgoing(
            delivery_id=nudge_id(
                "channel-delivery", str(job.channel), *sorted(n.id for n in nudges)
            ),
            user_id=job.person.user_id,
            channel=job.channel,
            items=items,
            hub_link=self.config.hub_url,
            attempt=attempts + 1,
        )

    async def _claim(self, token: str, limit: int, user_id: str | None = None) -> list[Nudge]:
        try:
            _, claimed = await self.repository.claim(
                self.clock(), self.config.lease, self.owner, limit, user_id=user_id, token=token
            )
        except asyncio.CancelledError:  # what it took is unknown: all under this token
            if self._stopping.is_set():
                await release_leases(lambda: self.repository.release(token, None), "channel")
            raise
        return claimed

    async def run(self) -> None:
        """Lease while there is room, until stopped: a slow send holds only its own."""
        while not self._stopping.is_set():
            room = self.config.batch_size - self._holding
            token, claimed = new_lease_token(self.owner), list[Nudge]()
            if room > 0:
                try:
                    claimed = await self._claim(token, room)
                except Exception:
                    log.exception("claiming channel deliveries failed; retrying")
                if claimed:
                    self._holding += len(claimed)
                    batch = asyncio.create_task(self._process(token, claimed, SendReport()))
                    self._batches.add(batch)
                    batch.add_done_callback(self._batches.discard)
            if len(claimed) < room or room <= 0:
                await pause(self._stopping, self.config.poll_seconds)

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name="nudge-channel-sender")

    async def stop(self) -> None:
        """Lease no more; sends in flight get ``stop_grace`` s, then give up their leases."""
        self._stopping.set()
        tasks = [t for t in (self._task, *self._batches) if t is not None]
        await finish_within(tasks, self.config.stop_grace)
        self._task = None
        self._batches.clear()
