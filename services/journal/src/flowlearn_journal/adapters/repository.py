"""MongoDB storage of journal entries. Every query is scoped to the owner."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from flowlearn_shared.contracts.journal import EntryKind, EntryQuery
from flowlearn_shared.outbox import DocumentOutbox, Outbox
from flowlearn_shared.outbox_relay import OutboxRelay
from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from flowlearn_journal.domain.model import Entry

Document = dict[str, Any]
Documents = list[Document]  # spelled here: inside the repository, ``list`` is a method


def day_range(first: date | None, last: date | None) -> Document:
    """Days from ``first`` to ``last`` inclusive, written with strict bounds: SecantusDB
    (the local server) drops the boundary value of ``$gte`` on a descending index key."""
    bounds: Document = {}
    if first:
        bounds["$gt"] = (first - timedelta(days=1)).isoformat()
    if last:
        bounds["$lt"] = (last + timedelta(days=1)).isoformat()
    return bounds


class BadCursor(ValueError):
    pass


class AlreadyStored(Exception):
    """An entry with this id exists already."""


# Newest first by the day the work happened, then by when it was written. A cursor holds
# the sort key of the last item, so a deep page costs the same as the first (no skip).
NEWEST_FIRST = [("occurred_on", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]
ONE_DAY = timedelta(days=1)
# Windows of 1, 8, 64, 512 and 4,096 days, then one open-ended query for whatever is older.
FIRST_WINDOW_DAYS = 1
WINDOW_GROWTH = 8
WINDOWS = 5


def _days_before(day: date, span: int) -> date | None:
    """The first day of a window of ``span`` days ending on ``day``; None before year 1."""
    try:
        first = day - timedelta(days=span - 1)
    except OverflowError:
        return None
    return first if first > date.min else None


def encode_cursor(entry: Entry) -> str:
    key = {"d": entry.occurred_on.isoformat(), "c": entry.created_at.isoformat(), "i": entry.id}
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        day = date.fromisoformat(data["d"]).isoformat()
        return day, datetime.fromisoformat(data["c"]), str(data["i"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("the cursor is not one this API returned") from exc


def to_document(entry: Entry) -> Document:
    return {
        "_id": entry.id,
        "owner_id": entry.owner_id,
        "kind": entry.kind.value,
        "title": entry.title,
        "body": entry.body,
        "tags": entry.tags,
        "skills": entry.skills,
        "occurred_on": entry.occurred_on.isoformat(),
        "minutes": entry.minutes,
        "nudge_id": entry.nudge_id,
        "evidence": entry.evidence,
        "version": entry.version,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
    }


def from_document(doc: Document) -> Entry:
    return Entry(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        kind=EntryKind(doc["kind"]),
        title=doc.get("title"),
        body=doc["body"],
        tags=list(doc.get("tags", [])),
        skills=list(doc.get("skills", [])),
        occurred_on=date.fromisoformat(doc["occurred_on"]),
        minutes=doc.get("minutes"),
        nudge_id=doc.get("nudge_id"),
        evidence=doc.get("evidence"),
        version=doc["version"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


class EntryRepository:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        outbox: Outbox | None = None,
        relay: OutboxRelay | None = None,
    ) -> None:
        self.entries = db["entries"]
        # A new entry holds the events of its creation: one insert, no transaction.
        self.events = DocumentOutbox(self.entries, outbox or Outbox(db), relay)

    async def ensure_indexes(self) -> None:
        owner = ("owner_id", 1)
        await self.entries.create_index([owner, *NEWEST_FIRST], name="owner_newest")
        await self.entries.create_index([owner, ("kind", 1), *NEWEST_FIRST], name="owner_kind")
        await self.entries.create_index([owner, ("tags", 1), *NEWEST_FIRST], name="owner_tags")
        await self.events.ensure_indexes()

    async def add(self, entry: Entry) -> None:
        """Store a new entry with the events of its creation."""
        try:
            await self.events.insert(to_document(entry), entry.events)
        except DuplicateKeyError as exc:
            # Only an id derived from an idempotency key can repeat: a concurrent retry.
            raise AlreadyStored(entry.id) from exc

    async def get(
        self, owner_id: str, entry_id: str, session: AsyncClientSession | None = None
    ) -> Entry | None:
        doc = await self.entries.find_one({"_id": entry_id, "owner_id": owner_id}, session=session)
        return from_document(doc) if doc else None

    async def take_events(self, entry_id: str, session: AsyncClientSession) -> None:
        """Before any change to an entry: its creation's events, if still held, go to the
        outbox collection in the same transaction, so they are published first."""
        await self.events.take(entry_id, session)

    async def replace_if_version(
        self, entry: Entry, expected_version: int, session: AsyncClientSession
    ) -> bool:
        """Compare-and-set on the version, so two concurrent edits cannot both win."""
        doc = await self.entries.find_one_and_replace(
            {"_id": entry.id, "owner_id": entry.owner_id, "version": expected_version},
            to_document(entry),
            session=session,
            return_document=ReturnDocument.AFTER,
        )
        return doc is not None

    async def delete_if_version(
        self, entry: Entry, expected_version: int, session: AsyncClientSession
    ) -> bool:
        result = await self.entries.delete_one(
            {"_id": entry.id, "owner_id": entry.owner_id, "version": expected_version},
            session=session,
        )
        return result.deleted_count == 1

    async def list(self, owner_id: str, query: EntryQuery) -> tuple[list[Entry], str | None]:
        match: Document = {"owner_id": owner_id}
        if query.kind:
            match["kind"] = query.kind.value
        if query.tags:
            match["tags"] = {"$all": [t.strip().lower() for t in query.tags]}
        text: Document | None = None
        if query.q:
            # No text index: a case-insensitive match within the owner's own entries.
            pattern = {"$regex": re.escape(query.q.strip()), "$options": "i"}
            text = {"$or": [{"title": pattern}, {"body": pattern}, {"tags": pattern}]}
        docs = await self._newest(match, text, query)
        entries = [from_document(doc) for doc in docs]
        has_more = len(entries) > query.limit
        entries = entries[: query.limit]
        return entries, encode_cursor(entries[-1]) if has_more and entries else None

    async def _find(self, match: Document, text: Document | None, limit: int) -> Documents:
        # The owner, the kind and the day range stay top-level fields, so the store can
        # read them as index bounds; a text search is the only part kept apart.
        where = {"$and": [match, text]} if text else match
        return await self.entries.find(where).sort(NEWEST_FIRST).limit(limit).to_list()

    async def _newest(self, match: Document, text: Document | None, query: EntryQuery) -> Documents:
        """Up to ``limit + 1`` entries after the cursor, newest first.

        A page is read as a few bounded queries instead of one open-ended one: the rest
        of the cursor's own day, then windows of days going back, each ``WINDOW_GROWTH``
        times wider than the one before, until the page is full. Every query starts at
        the cursor's position in the index, so a deep page costs what the first page
        costs; and each window bounds what a store without limit push-down (SecantusDB
        fetches and sorts every entry a range matches) has to read."""
        want = query.limit + 1
        found: Documents = []
        newest, oldest = query.to_date, query.from_date
        if query.cursor:
            day, created_at, entry_id = decode_cursor(query.cursor)
            cursor_day = date.fromisoformat(day)
            if (not oldest or oldest <= cursor_day) and (not newest or cursor_day <= newest):
                for rest in (
                    {"occurred_on": day, "created_at": created_at, "_id": {"$lt": entry_id}},
                    {"occurred_on": day, "created_at": {"$lt": created_at}},
                ):
                    if len(found) < want:
                        found += await self._find({**match, **rest}, text, want - len(found))
            newest = min(newest, cursor_day - ONE_DAY) if newest else cursor_day - ONE_DAY
            if oldest and newest < oldest:
                return found
        span = FIRST_WINDOW_DAYS
        # The first page has no upper bound (entries may be dated ahead of the server's
        # clock); its first window reaches back from today.
        top = newest or date.today()
        for window in range(WINDOWS + 1):
            if len(found) >= want:
                break
            first = _days_before(top, span) if window < WINDOWS else None
            last_window = first is None or (oldest is not None and first <= oldest)
            if last_window:
                first = oldest
            bounds = day_range(first, newest)
            days = {"occurred_on": bounds} if bounds else {}
            found += await self._find({**match, **days}, text, want - len(found))
            if last_window or first is None:
                break
            newest = top = first - ONE_DAY
            span *= WINDOW_GROWTH
        return found

    async def days_with_entries(self, owner_id: str) -> set[date]:
        days = await self.entries.distinct("occurred_on", {"owner_id": owner_id})
        return {date.fromisoformat(d) for d in days}

    async def minutes_since(self, owner_id: str, first_day: date) -> int:
        pipeline: list[Document] = [
            {"$match": {"owner_id": owner_id, "occurred_on": day_range(first_day, None)}},
            {"$group": {"_id": None, "minutes": {"$sum": {"$ifNull": ["$minutes", 0]}}}},
        ]
        rows = await (await self.entries.aggregate(pipeline)).to_list()
        return int(rows[0]["minutes"]) if rows else 0

    async def count_by_kind(self, owner_id: str) -> dict[str, int]:
        pipeline: list[Document] = [
            {"$match": {"owner_id": owner_id}},
            {"$group": {"_id": "$kind", "n": {"$sum": 1}}},
        ]
        rows = await (await self.entries.aggregate(pipeline)).to_list()
        return {row["_id"]: int(row["n"]) for row in rows}
