"""Transactional outbox: an event is stored in the same MongoDB write as the change it
describes, and a relay publishes it to JetStream until the server acknowledges it.

Two places hold events waiting to be published:

- the ``outbox`` collection, written in the change's transaction (``Outbox.add``);
- the new document itself (``DocumentOutbox``): the events of a document's creation ride
  inside it, so a create is one single-document insert with no transaction, and the relay
  publishes them from memory right after the insert, without reading them back.

A lost publish (NATS down, a crash between the write and the publish) therefore only
delays the event. The event id is sent as ``Nats-Msg-Id``, so JetStream drops the copy when
two relays (or a retry after a lost ack) publish the same event within the stream's
duplicate window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_shared.events import _Envelope, serialize_event
from flowlearn_shared.observability.tracing import trace_headers

if TYPE_CHECKING:
    from flowlearn_shared.outbox_relay import OutboxRelay

Record = dict[str, Any]
PUBLISHED_RETENTION = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
IN_CHUNKS = 50  # ``$in`` lists are sent in chunks; the local store's cost grows with their square
# Documents cleared of their published events per update. On the local store an update
# holds up the collection's inserts while it rewrites the documents' index entries: one
# update of 36 documents took about 60 ms and set the p99 of the writes around it. Small
# updates let the inserts in between go on.
CLEAR_CHUNK = 8


def outbox_record(event: _Envelope, headers: Mapping[str, str] | None = None) -> Record:
    record: Record = {
        "_id": str(event.id),
        "subject": event.nats_subject(),
        "payload": serialize_event(event).decode(),
        "created_at": datetime.now(UTC),
        "published_at": None,
        "attempts": 0,
    }
    # The relay publishes later, outside this request: it sends these along, so the
    # event stays in the trace of the request that caused it (or in its own, if given).
    if headers := headers or trace_headers():
        record["headers"] = dict(headers)
    return record


def batch_record(
    events: Sequence[_Envelope], traces: Sequence[Mapping[str, str]] | None = None
) -> Record:
    """Many events of one transaction in one record: one write, one mark when published.
    The relay publishes them in order, each with its own id, and with its own trace
    headers when ``traces`` gives them (one per event), else with the record's."""
    items: list[Record] = [
        {"_id": str(e.id), "subject": e.nats_subject(), "payload": serialize_event(e).decode()}
        for e in events
    ]
    if traces:
        for item, headers in zip(items, traces, strict=True):
            item["headers"] = dict(headers)
    record: Record = {
        "_id": f"batch-{uuid4()}",
        "events": items,
        "created_at": datetime.now(UTC),
        "published_at": None,
        "attempts": 0,
        "sent": 0,  # how many of them JetStream acknowledged, should a pass stop midway
    }
    if headers := trace_headers():
        record["headers"] = headers
    return record


def events_of(record: Record) -> list[Record]:
    """The events a record holds, each with the record's trace headers."""
    items = record.get("events")
    if items is None:
        return [record]
    headers = record.get("headers")
    return [{"headers": headers, **item} if headers else item for item in items]


def chunks(ids: Sequence[Any], size: int = IN_CHUNKS) -> list[list[Any]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


class Outbox:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], collection: str = "outbox") -> None:
        self.collection = db[collection]
        self.documents: list[DocumentOutbox] = []  # collections whose new documents hold events

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("published_at", ASCENDING), ("created_at", ASCENDING)], name="pending"
        )
        # Published records are kept a while for inspection, then expire.
        await self.collection.create_index(
            "published_at",
            name="published_ttl",
            expireAfterSeconds=int(PUBLISHED_RETENTION.total_seconds()),
        )

    async def add(
        self,
        event: _Envelope,
        session: AsyncClientSession,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Record ``event`` in ``session``'s transaction, in the current trace or in the
        one whose ``headers`` are given."""
        await self.collection.insert_one(outbox_record(event, headers), session=session)

    async def add_many(
        self,
        events: Sequence[_Envelope],
        session: AsyncClientSession,
        traces: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        """Several events in one record, for a use case that changes many things at once;
        ``traces``: each event's own trace headers, if they do not share the current one."""
        if len(events) == 1:
            await self.add(events[0], session, traces[0] if traces else None)
        elif events:
            await self.collection.insert_one(batch_record(events, traces), session=session)

    async def pending(self, limit: int = 100) -> list[Record]:
        cursor = self.collection.find({"published_at": None}).sort("created_at", ASCENDING)
        return await cursor.limit(limit).to_list()

    async def mark_published(self, event_ids: list[str]) -> None:
        for chunk in chunks(event_ids):
            await self.collection.update_many(
                {"_id": {"$in": chunk}}, {"$set": {"published_at": datetime.now(UTC)}}
            )

    async def record_failure(self, record_id: str, error: str, sent: int = 0) -> None:
        """A pass that failed on this record; ``sent``: how many of a batch's events had
        been acknowledged, so the next pass starts after them."""
        changes: Record = {"last_error": error[:500]}
        if sent:
            changes["sent"] = sent
        await self.collection.update_one(
            {"_id": record_id}, {"$inc": {"attempts": 1}, "$set": changes}
        )

    async def recorded(self, subject: str | None = None) -> list[Record]:
        """Every event the collection holds (published or not), of ``subject`` if given;
        for inspection."""
        found: list[Record] = []
        async for record in self.collection.find():
            found += [e for e in events_of(record) if subject in (None, e["subject"])]
        return found

    async def count_pending(self) -> int:
        held = [await documents.count_pending() for documents in self.documents]
        return await self.collection.count_documents({"published_at": None}) + sum(held)


class DocumentOutbox:
    """The events of a document's creation, kept inside that document until published.

    The document and its events are stored by one insert, atomically, with no transaction.
    They are sent from memory straight after (``OutboxRelay.send_held``); the relay collects
    the acknowledgements and clears them in batches. Whatever a lost publish or a crash
    leaves behind for longer than ``grace`` is published by the relay's sweep. A later
    change to the document must first ``take`` the events still held into the outbox
    collection, in its own transaction, so that the creation is published before anything
    that follows it.
    """

    EVENTS = "_outbox"
    SINCE = "_outbox_at"

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        outbox: Outbox,
        relay: OutboxRelay | None,
        grace: timedelta = timedelta(seconds=10),
    ) -> None:
        self.collection = collection
        self.outbox = outbox
        self.relay = relay
        self.grace = grace
        outbox.documents.append(self)

    async def ensure_indexes(self) -> None:
        # Sparse: only documents still holding events are in it.
        await self.collection.create_index(self.SINCE, name="outbox_pending", sparse=True)

    async def insert(self, document: dict[str, Any], events: Sequence[_Envelope]) -> None:
        """Insert ``document`` with ``events``; raises what ``insert_one`` raises."""
        records = [outbox_record(event) for event in events]
        if records:
            document = {**document, self.EVENTS: records, self.SINCE: records[0]["created_at"]}
        await self.collection.insert_one(document)
        if records and self.relay is not None:
            await self.relay.send_held(self, document["_id"], records)

    async def take(self, document_id: Any, session: AsyncClientSession) -> None:
        """Move the events this document still holds to the outbox collection, inside the
        transaction of a change to it (their older ``created_at`` keeps them first)."""
        # Filters by ``_id`` alone: the local store plans any second condition as a scan.
        held = await self.collection.find_one(
            {"_id": document_id}, projection={self.EVENTS: 1}, session=session
        )
        if held and held.get(self.EVENTS):
            await self.collection.update_one(
                {"_id": document_id}, {"$unset": {self.EVENTS: "", self.SINCE: ""}}, session=session
            )
            await self.outbox.collection.insert_many(held[self.EVENTS], session=session)

    async def stale(self, limit: int = 100) -> list[tuple[Any, list[Record]]]:
        """Documents holding events for longer than the grace period, oldest first."""
        cutoff = datetime.now(UTC) - self.grace
        cursor = self.collection.find(
            {self.SINCE: {"$lt": cutoff}}, projection={self.EVENTS: 1}
        ).sort(self.SINCE, ASCENDING)
        return [
            (doc["_id"], doc.get(self.EVENTS, [])) for doc in await cursor.limit(limit).to_list()
        ]

    async def clear(self, document_ids: Sequence[Any]) -> None:
        for chunk in chunks(document_ids, CLEAR_CHUNK):
            await self.collection.update_many(
                {"_id": {"$in": chunk}}, {"$unset": {self.EVENTS: "", self.SINCE: ""}}
            )

    async def count_pending(self) -> int:
        return await self.collection.count_documents({self.SINCE: {"$gt": EPOCH}})
