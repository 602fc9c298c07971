"""kill -9 of one service in the middle of a stream of writes, then a restart: every
accepted write is stored once and every event it raised has its effect once."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from flowlearn_shared.consumer import ACK_WAIT_SECONDS
from pymongo import AsyncMongoClient

from reliability import checks
from reliability.checks import Outcome
from reliability.load import Request, WriteStream, journal_entry, paced, statuses
from reliability.stack import FaultStack, fault_stack

USERS = 4


def new_run() -> tuple[str, list[str]]:
    run_id = f"r{uuid.uuid4().hex[:8]}"
    return run_id, [f"{run_id}-u{n}" for n in range(USERS)]


# After a kill -9, the events the dead process had fetched come back once the consumer's ack
# wait ends, and the documents its open transaction wrote stay locked until the server ends
# that transaction (MongoDB's transactionLifetimeLimitSeconds; SecantusDB does the same).
TRANSACTION_LIFETIME_SECONDS = 60.0


def settle_timeout(writes: int) -> float:
    """How long consumers may take to catch up after the writes: both waits above, then
    the backlog at ~20 events/s (SecantusDB-bound, on a busy two-core machine)."""
    return ACK_WAIT_SECONDS + TRANSACTION_LIFETIME_SECONDS + 15 + writes / 20


async def kill_during(
    stream: WriteStream, stack: FaultStack, key: str, outcome: Outcome, at: float = 1 / 3
) -> None:
    """Once a share of the writes was accepted, SIGKILL ``key``, then start it again."""
    await stream.wait_accepted(int(stream.count * at))
    killed, done = time.monotonic(), len(stream.attempts)
    await asyncio.to_thread(stack.kill, key)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(stack.restart, key)
    back = len(stream.attempts)
    outcome.notes.append(
        f"{key} killed after {done} of {stream.count} writes, serving again "
        f"{time.monotonic() - killed:.1f} s later (after write {back})"
    )
    outcome.expect(back < stream.count, f"{key} came back only after the last write")


async def kill_journal_writes(workdir: Path, service: str, writes: int) -> Outcome:
    """Journal entries through the gateway while ``service`` is killed and restarted."""
    outcome = Outcome(f"kill -9 {service} during journal writes")
    run_id, users = new_run()
    started = time.monotonic()
    with fault_stack(workdir) as stack:
        stream = WriteStream(
            writes, journal_entry(users), stack.config.gateway_url, run_id, rate=paced(writes)
        )
        await asyncio.gather(stream.run(), kill_during(stream, stack, service, outcome))
        mongo: checks.Mongo = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
        try:
            outcome.tally(stream.attempts, await checks.journal_entries(mongo, users, run_id))
            await checks.check_journal_effects(outcome, mongo, users, settle_timeout(writes))
        finally:
            await mongo.close()
        outcome.expect(
            stack.first_exited() is None, f"{stack.first_exited()} exited after the restart"
        )
    outcome.notes.append(f"replies: {statuses(stream.attempts)}")
    outcome.seconds = time.monotonic() - started
    return outcome


async def kill_sharing_writes(workdir: Path, writes: int) -> Outcome:
    """Posts (request/reply into sharing) and journal shares (an event sharing consumes,
    becoming a post) while sharing is killed and restarted: each accepted one is one post."""
    outcome = Outcome("kill -9 sharing during posts and shares")
    run_id, users = new_run()
    started = time.monotonic()
    with fault_stack(workdir) as stack:
        entries = await one_entry_each(stack, users)

        def make(index: int, token: str) -> Request:
            user = users[index % len(users)]
            if index % 2:
                body = {"audience": "org", "excerpt": f"Shared: {token}"}
                return Request("POST", f"/v1/journal/entries/{entries[user]}/share", user, body)
            post = {"kind": "tip", "body": f"A tip: {token}", "audience": "org"}
            return Request("POST", "/v1/posts", user, post)

        stream = WriteStream(writes, make, stack.config.gateway_url, run_id, rate=paced(writes))
        await asyncio.gather(stream.run(), kill_during(stream, stack, "sharing", outcome))
        mongo: checks.Mongo = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
        try:

            async def posts() -> dict[str, list[str]]:
                query = {"author_id": {"$in": users}}
                return await checks.tokens_in(
                    mongo, checks.SHARING_DB, "posts", query, "body", run_id
                )

            async def all_there() -> bool:
                found = await posts()
                return all(found.get(a.token) for a in stream.accepted)

            # Shares become posts through the event stream: give the consumer time.
            await checks.wait_for(all_there, settle_timeout(writes))
            outcome.tally(stream.attempts, await posts())
            backlog = await checks.outbox_backlog(mongo, [checks.JOURNAL_DB, checks.SHARING_DB])
            outcome.expect(not backlog, f"outbox never published: {backlog}")
        finally:
            await mongo.close()
        outcome.expect(
            stack.first_exited() is None, f"{stack.first_exited()} exited after the restart"
        )
    outcome.notes.append(f"replies: {statuses(stream.attempts)}")
    outcome.seconds = time.monotonic() - started
    return outcome


async def one_entry_each(stack: FaultStack, users: list[str]) -> dict[str, str]:
    """A journal entry per person, to share excerpts of."""
    stream = WriteStream(
        len(users), journal_entry(users), stack.config.gateway_url, "setup", rate=100
    )
    attempts = await stream.run()
    if not all(a.accepted for a in attempts):
        raise RuntimeError(f"could not write the entries to share: {statuses(attempts)}")
    return {users[a.index]: str(a.resource_id) for a in attempts}
