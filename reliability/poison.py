"""Poison events on a subject the nudges service consumes: a malformed payload (dead-lettered
at once: it will never parse) and a well-formed event whose handler keeps failing (retried
up to the bound, then dead-lettered). The consumer keeps going meanwhile, and an operator
sees both with ``flowlearn dlq list`` and sends one back with ``flowlearn dlq replay``."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import nats
from flowlearn_nudges.settings import NudgesSettings
from flowlearn_shared.events import JournalEntryCreated, JournalEntryFacts, serialize_event
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    DLQ_HEADER_CONSUMER,
    DLQ_HEADER_DELIVERIES,
    DLQ_HEADER_SUBJECT,
    EVENTS_STREAM,
    MSG_ID_HEADER,
    EventSubject,
)
from pymongo import AsyncMongoClient

from reliability import checks
from reliability.checks import Outcome
from reliability.kills import new_run
from reliability.load import WriteStream, journal_entry
from reliability.stack import fault_stack

MAX_DELIVER = 3
RETRIES = {"FLOWLEARN_MAX_DELIVER": str(MAX_DELIVER), "FLOWLEARN_RETRY_BACKOFF_SECONDS": "[0.2]"}
CONSUMER = NudgesSettings().journal_consumer
SUBJECT = EventSubject.JOURNAL_ENTRY_CREATED
Letter = tuple[int, dict[str, str]]  # stream sequence, headers


def entry_created(user: str, entry_id: str) -> JournalEntryCreated:
    facts = JournalEntryFacts(
        entry_id=entry_id, owner_id=user, kind="learned", occurred_on=datetime.now(UTC).date()
    )
    return JournalEntryCreated(source="reliability/poison", subject=user, data=facts)


def flowlearn(*args: str, nats_url: str) -> str:
    """The operator's command line, as a separate process."""
    done = subprocess.run(
        [sys.executable, "-m", "flowlearn_cli.main", *args, "--nats-url", nats_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flowlearn {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


async def dead_letters(nats_url: str) -> list[Letter]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(DEAD_LETTER_STREAM)
        letters: list[Letter] = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg(DEAD_LETTER_STREAM, seq)
            except nats.js.errors.NotFoundError:
                continue
            letters.append((seq, dict(msg.headers or {})))
        return letters
    finally:
        await nc.close()


async def poison_events(workdir: Path) -> Outcome:
    outcome = Outcome(f"poison events on {SUBJECT} (consumer {CONSUMER})")
    run_id, (stuck, fine, *_) = new_run()
    started = time.monotonic()
    with fault_stack(workdir, env=RETRIES) as stack:
        mongo: checks.Mongo = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
        activity = mongo[checks.NUDGES_DB]["journal_activity"]
        nc = await nats.connect(stack.nats_url)
        try:
            # State the handler cannot update: its $inc on a text fails every time.
            await activity.insert_one({"_id": stuck, "entries_written": "not a number"})
            js = nc.jetstream()
            malformed = b'{"type": "' + SUBJECT.encode() + b'", "data": "not an entry"}'
            await js.publish(SUBJECT, malformed, stream=EVENTS_STREAM, headers=_id("malformed"))
            failing = entry_created(stuck, f"{run_id}-stuck")
            await js.publish(
                SUBJECT, serialize_event(failing), stream=EVENTS_STREAM, headers=_id(run_id)
            )
            # A good write through the API after both: it must still be counted.
            good = WriteStream(1, journal_entry([fine]), stack.config.gateway_url, run_id)
            await good.run()
            outcome.attempted, outcome.accepted = 3, 3
            outcome.expect(good.attempts[0].accepted, "the good write was refused")

            async def counted(user: str) -> int:
                return (await checks.activity_per_user(mongo, [user]))[user]

            async def good_counted() -> bool:
                return await counted(fine) == 1

            async def replay_counted() -> bool:
                return await counted(stuck) == 1

            async def two_letters() -> bool:
                return len(await dead_letters(stack.nats_url)) >= 2

            processed = await checks.wait_for(good_counted, 30)
            outcome.expect(processed, "the good event after the poison ones was not processed")
            await checks.wait_for(two_letters, 30)
            letters = await dead_letters(stack.nats_url)
            _check_letters(outcome, letters)
            listing = flowlearn("dlq", "list", nats_url=stack.nats_url)
            listed = [line for line in listing.splitlines() if CONSUMER in line]
            outcome.notes.append(f"`flowlearn dlq list` shows {len(listed)} dead letters")
            outcome.expect(
                len(listed) == 2 and all(SUBJECT in line for line in listed),
                f"dlq list does not show both letters:\n{listing}",
            )
            # The operator mends the state, then sends the failed event back.
            await activity.update_one({"_id": stuck}, {"$set": {"entries_written": 0}})
            retried = [seq for seq, h in letters if h.get(DLQ_HEADER_DELIVERIES) != "1"]
            for seq in retried:
                flowlearn("dlq", "replay", str(seq), nats_url=stack.nats_url)
            replayed = await checks.wait_for(replay_counted, 30)
            outcome.expect(replayed, "the replayed event did not take effect once")
            remaining = [seq for seq, _ in await dead_letters(stack.nats_url)]
            outcome.expect(not set(retried) & set(remaining), "a replayed letter is still listed")
            # Took effect: the good event, and the failing one once replayed. The malformed
            # one is not lost: it stays a dead letter for an operator to look at.
            outcome.stored = int(processed) + int(replayed)
            outcome.lost = 2 - outcome.stored
            outcome.notes.append(
                f"replayed {len(retried)} letter(s): counted {await counted(stuck)} time(s); "
                f"the malformed one stays listed ({len(remaining)} left)"
            )
        finally:
            await nc.close()
            await mongo.close()
        outcome.expect(stack.first_exited() is None, f"{stack.first_exited()} exited")
    outcome.seconds = time.monotonic() - started
    return outcome


def _id(name: str) -> dict[str, str]:
    return {MSG_ID_HEADER: f"poison-{name}-{time.time_ns()}"}


def _check_letters(outcome: Outcome, letters: list[Letter]) -> None:
    mine = [h for _, h in letters if h.get(DLQ_HEADER_CONSUMER) == CONSUMER]
    attempts = sorted(h.get(DLQ_HEADER_DELIVERIES, "?") for h in mine)
    outcome.notes.append(f"dead letters of {CONSUMER}: {len(mine)}, attempts {attempts}")
    outcome.expect(len(mine) == 2, f"expected 2 dead letters, found {len(mine)}")
    outcome.expect(
        attempts == ["1", str(MAX_DELIVER)],
        f"attempts {attempts}: the malformed one at once, the failing one after "
        f"{MAX_DELIVER} deliveries",
    )
    outcome.expect(
        all(h.get(DLQ_HEADER_SUBJECT) == SUBJECT for h in mine),
        "a dead letter does not name its original subject",
    )
