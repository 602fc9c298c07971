"""Counting what the system kept: writes in each service's database by their tokens, effects
of consumed events, outbox backlogs, events on the stream. Read straight from the servers,
never through the API under test."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import nats
from flowlearn_shared.outbox import EPOCH, DocumentOutbox
from flowlearn_shared.subjects import EVENTS_STREAM
from pymongo import AsyncMongoClient

from reliability.load import Attempt

Document = dict[str, Any]
Mongo = AsyncMongoClient[Document]

JOURNAL_DB = "flowlearn_journal"
NUDGES_DB = "flowlearn_nudges"
SHARING_DB = "flowlearn_sharing"


@dataclass
class Outcome:
    """One row of the report: a fault, what was written through it and what was kept."""

    fault: str
    attempted: int = 0
    accepted: int = 0
    stored: int = 0  # accepted writes found in the database
    duplicated: int = 0  # writes found more than once
    lost: int = 0  # accepted writes not found
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # expectations not met
    # Scale-out runs: units of work of one kind -> how many each replica did.
    work: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def expect(self, condition: bool, failure: str) -> None:
        if not condition:
            self.failures.append(failure)

    def tally(self, attempts: list[Attempt], found: dict[str, list[str]]) -> None:
        """``found``: token -> ids of the documents carrying it."""
        accepted = [a for a in attempts if a.accepted]
        self.attempted += len(attempts)
        self.accepted += len(accepted)
        self.stored += sum(1 for a in accepted if found.get(a.token))
        self.duplicated += sum(1 for ids in found.values() if len(ids) > 1)
        self.lost += sum(1 for a in accepted if not found.get(a.token))
        wrong_id = [
            a.token for a in accepted if found.get(a.token) and a.resource_id not in found[a.token]
        ]
        self.expect(not wrong_id, f"{len(wrong_id)} accepted writes stored under another id")
        unacknowledged = sum(1 for a in attempts if not a.accepted and found.get(a.token))
        if unacknowledged:
            self.notes.append(
                f"{unacknowledged} writes without a 2xx reply were stored too (in flight at "
                "the fault; a client retrying them sends the same Idempotency-Key)"
            )
        self.expect(self.lost == 0, f"{self.lost} accepted writes lost")
        self.expect(self.duplicated == 0, f"{self.duplicated} writes stored more than once")


async def wait_for(
    probe: Callable[[], Awaitable[bool]], within: float, interval: float = 0.5
) -> bool:
    """Poll ``probe`` until it holds; False after ``within`` seconds. Errors count as not
    yet (a server may be on its way back)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if await probe():
                return True
        except Exception:  # a server on its way back: ask again
            pass
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)


async def tokens_in(
    mongo: Mongo, db: str, collection: str, query: Document, field_name: str, prefix: str
) -> dict[str, list[str]]:
    """token -> ids of the documents whose ``field_name`` holds a token of this run."""
    found: dict[str, list[str]] = {}
    cursor = mongo[db][collection].find(query, {field_name: 1})
    async for doc in cursor:
        value = str(doc.get(field_name) or "")
        start = value.find(prefix)
        if start >= 0:
            token = value[start : start + len(prefix) + 6]  # "<prefix>-00042"
            found.setdefault(token, []).append(str(doc["_id"]))
    return found


async def journal_entries(mongo: Mongo, users: list[str], run_id: str) -> dict[str, list[str]]:
    query = {"owner_id": {"$in": users}}
    return await tokens_in(mongo, JOURNAL_DB, "entries", query, "title", run_id)


async def entries_per_user(mongo: Mongo, users: list[str]) -> dict[str, int]:
    counted = Counter[str]()
    cursor = mongo[JOURNAL_DB]["entries"].find({"owner_id": {"$in": users}}, {"owner_id": 1})
    async for doc in cursor:
        counted[str(doc["owner_id"])] += 1
    return {user: counted[user] for user in users}


async def activity_per_user(mongo: Mongo, users: list[str]) -> dict[str, int]:
    """The nudges service's count of entries it heard of, per person (its consumer's effect)."""
    cursor = mongo[NUDGES_DB]["journal_activity"].find({"_id": {"$in": users}})
    seen = {str(doc["_id"]): int(doc.get("entries_written", 0)) async for doc in cursor}
    return {user: seen.get(user, 0) for user in users}


# Collections whose new documents hold the events of their creation until published.
HOLDING_EVENTS = {JOURNAL_DB: "entries"}


async def pending_outbox(mongo: Mongo, dbs: Iterable[str]) -> dict[str, int]:
    """Events not yet published, per database: its outbox collection's and those its new
    documents still hold."""
    pending: dict[str, int] = {}
    for db in dbs:
        pending[db] = await mongo[db]["outbox"].count_documents({"published_at": None})
        if holder := HOLDING_EVENTS.get(db):
            held = {DocumentOutbox.SINCE: {"$gt": EPOCH}}
            pending[db] += await mongo[db][holder].count_documents(held)
    return pending


# Published events are cleared from the outbox within a second or two; one a killed process
# left inside its new document is published by the relay's sweep after its 10 s grace.
OUTBOX_SETTLE_SECONDS = 20.0


async def outbox_backlog(mongo: Mongo, dbs: Iterable[str]) -> dict[str, int]:
    """What is still unpublished once the relays had a moment to catch up (empty if all)."""
    names = list(dbs)
    backlog: dict[str, int] = {}

    async def drained() -> bool:
        nonlocal backlog
        backlog = await pending_outbox(mongo, names)
        return not any(backlog.values())

    await wait_for(drained, OUTBOX_SETTLE_SECONDS)
    return {db: n for db, n in backlog.items() if n}


async def check_journal_effects(
    outcome: Outcome, mongo: Mongo, users: list[str], within: float
) -> None:
    """Each stored entry is counted once by the nudges service's journal consumer, and every
    outbox has been published, within ``timeout`` after the writes ended."""
    entries: dict[str, int] = {}
    activity: dict[str, int] = {}

    async def converged() -> bool:
        nonlocal entries, activity
        entries = await entries_per_user(mongo, users)
        activity = await activity_per_user(mongo, users)
        return entries == activity

    started = time.monotonic()
    same = await wait_for(converged, within)
    counted, stored = sum(activity.values()), sum(entries.values())
    outcome.notes.append(
        f"journal entries stored {stored}, counted by the nudges consumer {counted} "
        f"({'after' if same else 'still different after'} {time.monotonic() - started:.0f} s)"
    )
    outcome.expect(
        counted <= stored, f"nudges counted {counted - stored} entry events twice (in effect)"
    )
    outcome.expect(counted >= stored, f"nudges never counted {stored - counted} entry events")
    backlog = await outbox_backlog(mongo, [JOURNAL_DB])
    outcome.expect(not backlog, f"outbox records never published: {backlog}")


async def events_on(nats_url: str, subject: str) -> list[Document]:
    """Every event stored on the events stream under ``subject``, decoded."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(EVENTS_STREAM, subjects_filter=subject)
        expected = sum((info.state.subjects or {}).values())
        events: list[Document] = []
        if not expected:
            return events
        sub = await js.subscribe(subject, ordered_consumer=True)
        try:
            while len(events) < expected:
                msg = await sub.next_msg(timeout=10)
                events.append(json.loads(msg.data))
        finally:
            await sub.unsubscribe()
        return events
    finally:
        await nc.close()
