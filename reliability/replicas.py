"""Several processes of one service: the work is shared between them and nothing is done
twice in effect, also when one of them is killed while it holds leased work."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flowlearn_nudges.adapters.nudge_repository import NEVER, to_document
from flowlearn_nudges.domain.catalogue import Origin, Timing
from flowlearn_nudges.domain.nudge import Nudge
from flowlearn_shared.contracts.nudges import NudgeStatus, NudgeType
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pymongo import AsyncMongoClient

from reliability import checks
from reliability.checks import Outcome
from reliability.kills import new_run, one_entry_each, settle_timeout
from reliability.load import Request, WriteStream, statuses
from reliability.stack import FaultStack, fault_stack

# A dead replica's leases end this soon, so the survivor takes its nudges over quickly.
SCHEDULER_ENV = {
    "FLOWLEARN_NUDGES_SCHEDULER_LEASE_SECONDS": "5",
    "FLOWLEARN_NUDGES_SCHEDULER_BATCH_SIZE": "10",
    "FLOWLEARN_NUDGES_SCHEDULER_POLL_SECONDS": "0.2",
}
# Each process must have had at least this part of the work. NATS's counts of what it
# delivered to a pull consumer include the status replies that end each fetch (a few per
# second, also when idle), so the bar sits well above what an idle process gets.
SHARE_OF_WORK = 0.25


def due_nudge(nudge_id: str, user_id: str, now: datetime) -> dict[str, Any]:
    """A nudge already due, as the planner would have stored it; one per person, so the
    daily cap and working hours never hold it back."""
    nudge = Nudge(
        id=nudge_id,
        user_id=user_id,
        type=NudgeType.MICRO_LEARNING,
        message="Your next learning item is ready.",
        status=NudgeStatus.SCHEDULED,
        origin=Origin.RULE,
        timing=Timing.OUTSIDE_QUIET,
        wanted_at=now - timedelta(minutes=1),
        due_at=now - timedelta(minutes=1),
        expires_at=None,
        created_at=now - timedelta(minutes=1),
    )
    return to_document(nudge) | {"lease_until": NEVER, "lease_owner": None, "listed_at": None}


async def scheduler_kill(workdir: Path, nudges: int) -> Outcome:
    """Due nudges delivered by two replicas; one is killed with leases in hand."""
    outcome = Outcome("kill -9 one of two nudges schedulers during due nudges")
    run_id, _ = new_run()
    started = time.monotonic()
    with fault_stack(workdir, replicas={"nudges": 2}, env=SCHEDULER_ENV) as stack:
        mongo: checks.Mongo = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
        collection = mongo[checks.NUDGES_DB]["nudges"]
        try:
            now = datetime.now(UTC)
            docs = [due_nudge(f"{run_id}-n{i:05d}", f"{run_id}-p{i}", now) for i in range(nudges)]
            await collection.insert_many(docs)
            mine = {"_id": {"$regex": f"^{run_id}-"}}

            async def delivered() -> int:
                return await collection.count_documents(
                    mine | {"status": str(NudgeStatus.DELIVERED)}
                )

            await checks.wait_for(lambda: _at_least(delivered, nudges // 3), 60, 0.1)
            before = await delivered()
            leased = await collection.count_documents(mine | {"lease_until": {"$gt": NEVER}})
            await asyncio.to_thread(stack.kill, "nudges-2")
            outcome.notes.append(
                f"nudges-2 killed with {before} of {nudges} delivered and {leased} leased"
            )
            killed = time.monotonic()
            await checks.wait_for(lambda: _at_least(delivered, nudges), settle_timeout(nudges))
            outcome.notes.append(
                f"{await delivered()} delivered {time.monotonic() - killed:.0f} s after the kill"
            )
            await _count_deliveries(outcome, stack, mongo, run_id, nudges)
        finally:
            await mongo.close()
        outcome.expect(stack.services["nudges"].running, "the surviving replica exited")
    outcome.seconds = time.monotonic() - started
    return outcome


async def _at_least(count: Callable[[], Awaitable[int]], n: int) -> bool:
    return await count() >= n


async def _count_deliveries(
    outcome: Outcome, stack: FaultStack, mongo: checks.Mongo, run_id: str, nudges: int
) -> None:
    """Delivered once each: one ``delivered`` event per nudge on the stream, none missing."""

    async def published() -> bool:
        backlog = await checks.pending_outbox(mongo, [checks.NUDGES_DB])
        return not any(backlog.values())

    await checks.wait_for(published, 30)
    events = await checks.events_on(stack.nats_url, EventSubject.NUDGE_DELIVERED)
    per_nudge = Counter(
        str(e["data"]["nudge_id"]) for e in events if str(e["subject"]).startswith(run_id)
    )
    outcome.attempted = outcome.accepted = nudges
    outcome.stored = len(per_nudge)
    outcome.duplicated = sum(1 for n in per_nudge.values() if n > 1)
    outcome.lost = nudges - len(per_nudge)
    outcome.expect(outcome.duplicated == 0, f"{outcome.duplicated} nudges delivered twice")
    outcome.expect(outcome.lost == 0, f"{outcome.lost} due nudges never delivered")


async def replicas_share_work(workdir: Path, writes: int) -> Outcome:
    """Two processes of journal, nudges and sharing. Journal entries (requests to the
    journal, events to nudges) and shares (events to sharing) are spread over both."""
    outcome = Outcome("two replicas of each consumer service")
    run_id, users = new_run()
    started = time.monotonic()
    replicas = {"journal": 2, "nudges": 2, "sharing": 2}
    with fault_stack(workdir, replicas=replicas) as stack:
        entries = await one_entry_each(stack, users)

        def make(index: int, token: str) -> Request:
            user = users[index % len(users)]
            if index % 4 == 3:
                body = {"audience": "org", "excerpt": f"Shared: {token}"}
                return Request("POST", f"/v1/journal/entries/{entries[user]}/share", user, body)
            entry = {"kind": "learned", "title": token, "body": f"Learned ({token})"}
            return Request("POST", "/v1/journal/entries", user, entry)

        stream = WriteStream(writes, make, stack.config.gateway_url, run_id)
        await stream.run()
        shares = [a for a in stream.attempts if a.index % 4 == 3]
        writes_in = [a for a in stream.attempts if a.index % 4 != 3]
        mongo: checks.Mongo = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
        try:
            outcome.tally(writes_in, await checks.journal_entries(mongo, users, run_id))
            await checks.check_journal_effects(outcome, mongo, users, settle_timeout(writes))

            async def posts() -> dict[str, list[str]]:
                query = {"author_id": {"$in": users}}
                return await checks.tokens_in(
                    mongo, checks.SHARING_DB, "posts", query, "body", run_id
                )

            async def all_posted() -> bool:
                found = await posts()
                return all(found.get(a.token) for a in shares if a.accepted)

            await checks.wait_for(all_posted, settle_timeout(writes))
            outcome.tally(shares, await posts())
        finally:
            await mongo.close()
        _check_shared(outcome, stack, len(writes_in), len(shares))
    outcome.notes.append(f"replies: {statuses(stream.attempts)}")
    outcome.seconds = time.monotonic() - started
    return outcome


def _check_shared(outcome: Outcome, stack: FaultStack, entries: int, shares: int) -> None:
    """What NATS delivered to each process: requests on the journal's create subject, and
    messages pulled by the busiest consumer of each nudges and sharing process."""
    work: dict[str, list[int]] = {"journal": [], "nudges": [], "sharing": []}
    for conn in stack.connections():
        service = str(conn.get("name", "")).removeprefix("flowlearn-")
        if service not in work:
            continue
        subs = conn.get("subscriptions_list_detail") or []
        if service == "journal":
            done = sum(
                int(s.get("msgs", 0))
                for s in subs
                if s.get("subject") == RpcSubject.JOURNAL_CREATE_ENTRY
            )
        else:
            pulls = [
                int(s.get("msgs", 0))
                for s in subs
                if str(s.get("subject", "")).startswith("_INBOX.")
                and not str(s.get("subject", "")).endswith("*")
            ]
            done = max(pulls, default=0)
        work[service].append(done)
    expected = {"journal": entries, "nudges": entries, "sharing": shares}
    outcome.notes.append(
        "messages NATS delivered to each process (journal: create requests; nudges, "
        "sharing: its busiest pull consumer, events and fetch status replies): "
        + ", ".join(f"{name} {'/'.join(map(str, counts))}" for name, counts in work.items())
    )
    for name, counts in work.items():
        outcome.expect(len(counts) == 2, f"{name}: {len(counts)} processes connected, not 2")
        least = min(counts, default=0)
        outcome.expect(
            least >= expected[name] * SHARE_OF_WORK,
            f"{name}: one process did only {least} of {expected[name]}",
        )
