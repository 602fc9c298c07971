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

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_shared.events import _Envelope, serialize_event
from flowlearn_shared.observability.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from flowlearn_shared.observability.tracing import trace_headers

log = logging.getLogger("flowlearn.outbox")

Record = dict[str, Any]
PUBLISHED_RETENTION = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACK_WAIT_SECONDS = 5.0  # for the acknowledgement of an event sent from memory
# Events published from memory are cleared from their documents in batches: at most this
# many at once, or after this long.
CLEAR_BATCH = 200
CLEAR_EVERY_SECONDS = 0.5
IN_CHUNKS = 50  # ``$in`` lists are sent in chunks; the local store's cost grows with their square


class EventPublisher(Protocol):
    async def publish(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Publish and wait for the server's acknowledgement."""

    async def start(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> asyncio.Future[Any]:
        """Send without waiting; the future completes with the acknowledgement."""


def outbox_record(event: _Envelope) -> Record:
    record: Record = {
        "_id": str(event.id),
        "subject": event.nats_subject(),
        "payload": serialize_event(event).decode(),
        "created_at": datetime.now(UTC),
        "published_at": None,
        "attempts": 0,
    }
    # The relay publishes later, outside this request: it sends these along, so the
    # event stays in the trace of the request that caused it.
    if headers := trace_headers():
        record["headers"] = headers
    return record


def chunks(ids: Sequence[Any]) -> list[list[Any]]:
    return [list(ids[i : i + IN_CHUNKS]) for i in range(0, len(ids), IN_CHUNKS)]


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

    async def add(self, event: _Envelope, session: AsyncClientSession) -> None:
        await self.collection.insert_one(outbox_record(event), session=session)

    async def add_many(self, events: Sequence[_Envelope], session: AsyncClientSession) -> None:
        """Several events in one write, for a use case that changes many things at once."""
        if events:
            records = [outbox_record(event) for event in events]
            await self.collection.insert_many(records, session=session)

    async def pending(self, limit: int = 100) -> list[Record]:
        cursor = self.collection.find({"published_at": None}).sort("created_at", ASCENDING)
        return await cursor.limit(limit).to_list()

    async def mark_published(self, event_ids: list[str]) -> None:
        for chunk in chunks(event_ids):
            await self.collection.update_many(
                {"_id": {"$in": chunk}}, {"$set": {"published_at": datetime.now(UTC)}}
            )

    async def record_failure(self, event_id: str, error: str) -> None:
        await self.collection.update_one(
            {"_id": event_id}, {"$inc": {"attempts": 1}, "$set": {"last_error": error[:500]}}
        )

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
        held = await self.collection.find_one_and_update(
            {"_id": document_id, self.SINCE: {"$gt": EPOCH}},
            {"$unset": {self.EVENTS: "", self.SINCE: ""}},
            projection={self.EVENTS: 1},
            session=session,
        )
        if held and held.get(self.EVENTS):
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
        for chunk in chunks(document_ids):
            await self.collection.update_many(
                {"_id": {"$in": chunk}, self.SINCE: {"$gt": EPOCH}},
                {"$unset": {self.EVENTS: "", self.SINCE: ""}},
            )

    async def count_pending(self) -> int:
        return await self.collection.count_documents({self.SINCE: {"$gt": EPOCH}})


class OutboxRelay:
    """Publishes what the outbox holds. Events handed over by a ``DocumentOutbox`` go out
    from memory at once; the outbox collection is read when a commit wakes the relay and
    at each poll, the safety net for records left by a crash or by another replica, when
    documents holding events past their grace period are swept too."""

    def __init__(
        self, outbox: Outbox, publisher: EventPublisher, poll_seconds: float = 1.0
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._outbox_due = False
        self._sent: deque[tuple[DocumentOutbox, Any, list[Record], list[asyncio.Future[Any]]]]
        self._sent = deque()
        self._to_clear: dict[DocumentOutbox, list[Any]] = {}
        self._cleared_at = time.monotonic()
        self._database = outbox.collection.database.name
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def notify(self) -> None:
        """A transaction wrote to the outbox collection."""
        self._outbox_due = True
        self._wake.set()

    async def send_held(
        self, source: DocumentOutbox, document_id: Any, records: list[Record]
    ) -> None:
        """Send a new document's events at once, without waiting for JetStream: they go out
        in the same socket write as the reply the caller is about to send. The relay
        collects the acknowledgements; an event not acknowledged stays in its document,
        where the sweep finds it."""
        try:
            acks = [
                await self.publisher.start(
                    r["subject"], r["payload"].encode(), str(r["_id"]), r.get("headers")
                )
                for r in records
            ]
        except Exception as exc:
            self._failed(str(records[0]["_id"]), exc)
            return
        self._sent.append((source, document_id, records, acks))
        self._wake.set()

    async def _publish(self, record: Record) -> None:
        await self.publisher.publish(
            record["subject"], record["payload"].encode(), str(record["_id"]), record.get("headers")
        )

    def _failed(self, event_id: str, exc: Exception) -> None:
        OUTBOX_PUBLISH_FAILURES.labels(self._database).inc()
        log.warning("publish failed, will retry", extra={"event_id": event_id, "error": repr(exc)})

    async def _publish_held(
        self, source: DocumentOutbox, document_id: Any, records: list[Record]
    ) -> bool:
        for record in records:
            try:
                await self._publish(record)
            except Exception as exc:  # the events stay in their document for the sweep
                self._failed(str(record["_id"]), exc)
                return False
        OUTBOX_PUBLISHED.labels(self._database).inc(len(records))
        self._to_clear.setdefault(source, []).append(document_id)
        return True

    async def confirm_sent(self) -> int:
        """Wait for the acknowledgements of the events sent from memory."""
        sent = list(self._sent)
        if not sent:
            return 0
        acks = [ack for *_, item_acks in sent for ack in item_acks]
        # One wait for the lot: waiting per future would cost a task and a timer each.
        await asyncio.wait(acks, timeout=ACK_WAIT_SECONDS)
        confirmed = 0
        for source, document_id, records, item_acks in sent:
            self._sent.popleft()
            failures = [f for f in map(self._failure_of, item_acks) if f is not None]
            if failures:  # the sweep publishes them again
                self._failed(str(records[0]["_id"]), failures[0])
                continue
            OUTBOX_PUBLISHED.labels(self._database).inc(len(records))
            self._to_clear.setdefault(source, []).append(document_id)
            confirmed += len(records)
        return confirmed

    @staticmethod
    def _failure_of(ack: asyncio.Future[Any]) -> Exception | None:
        if not ack.done():
            ack.cancel()
            return TimeoutError("no acknowledgement")
        if ack.cancelled():
            return TimeoutError("cancelled")
        error = ack.exception()
        if error is None:
            return None
        return error if isinstance(error, Exception) else Exception(repr(error))

    async def sweep(self) -> int:
        """Publish events documents have held past their grace period (a lost publish)."""
        published = 0
        async with self._lock:
            for source in self.outbox.documents:
                for document_id, records in await source.stale():
                    if not await self._publish_held(source, document_id, records):
                        return published
                    published += len(records)
        return published

    async def clear_published(self, force: bool = False) -> None:
        """Clear published events from their documents; a crash before this only means the
        sweep publishes them again, which the stream drops as duplicates."""
        waiting = sum(len(ids) for ids in self._to_clear.values())
        recent = time.monotonic() - self._cleared_at < CLEAR_EVERY_SECONDS
        if not waiting or (not force and waiting < CLEAR_BATCH and recent):
            return
        to_clear, self._to_clear = self._to_clear, {}
        self._cleared_at = time.monotonic()
        for source, ids in to_clear.items():
            await source.clear(ids)

    async def publish_pending(self) -> int:
        """Publish the outbox collection's pending records, oldest first; stop at the first
        failure to keep order. Records are marked published a batch at a time: a crash in
        between only means a repeat publish, which the stream drops as a duplicate."""
        published = 0
        async with self._lock:
            while batch := await self.outbox.pending():
                done: list[str] = []
                failed = False
                for record in batch:
                    event_id = str(record["_id"])
                    try:
                        await self._publish(record)
                    except Exception as exc:
                        self._failed(event_id, exc)
                        await self._record_failure(event_id, repr(exc))
                        failed = True
                        break
                    done.append(event_id)
                await self.outbox.mark_published(done)
                OUTBOX_PUBLISHED.labels(self._database).inc(len(done))
                published += len(done)
                if failed:
                    return published
        return published

    async def flush(self) -> int:
        """Everything publishable now, cleared and marked (a graceful stop's last pass)."""
        published = await self.confirm_sent() + await self.publish_pending()
        await self.clear_published(force=True)
        return published

    async def _record_failure(self, event_id: str, error: str) -> None:
        try:
            await self.outbox.record_failure(event_id, error)
        except Exception:  # the database may be down too; the record stays pending
            log.exception("could not record outbox failure")

    async def run(self) -> None:
        next_poll = time.monotonic()
        while True:
            await self._woken_or(max(0.0, next_poll - time.monotonic()))
            self._wake.clear()
            polling = time.monotonic() >= next_poll
            try:
                await self.confirm_sent()
                if self._outbox_due or polling:
                    self._outbox_due = False
                    await self.publish_pending()
                if polling:
                    await self.sweep()
                await self.clear_published(force=polling)
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            if polling:
                next_poll = time.monotonic() + self.poll_seconds

    async def _woken_or(self, seconds: float) -> None:
        """Wait for a wake-up or ``seconds`` (a timer, cheaper than ``wait_for``'s task)."""
        if self._wake.is_set():
            return
        timer = asyncio.get_running_loop().call_later(seconds, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
