"""Transactional outbox: an event is stored in the same MongoDB transaction as the change
it describes, and a relay publishes it to JetStream until the server acknowledges it.

A lost publish (NATS down, a crash between commit and publish) therefore only delays the
event. The event id is sent as ``Nats-Msg-Id``, so JetStream drops the copy when two relays
(or a retry after a lost ack) publish the same event within the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_shared.events import _Envelope, serialize_event
from flowlearn_shared.observability.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from flowlearn_shared.observability.tracing import trace_headers

log = logging.getLogger("flowlearn.outbox")

PUBLISHED_RETENTION = timedelta(days=7)


class EventPublisher(Protocol):
    async def publish(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> None: ...


class Outbox:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], collection: str = "outbox") -> None:
        self.collection = db[collection]

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
        await self.collection.insert_one(self._record(event), session=session)

    async def add_many(self, events: Sequence[_Envelope], session: AsyncClientSession) -> None:
        """Several events in one write, for a use case that changes many things at once."""
        if events:
            records = [self._record(event) for event in events]
            await self.collection.insert_many(records, session=session)

    def _record(self, event: _Envelope) -> dict[str, Any]:
        record: dict[str, Any] = {
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

    async def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        cursor = self.collection.find({"published_at": None}).sort("created_at", ASCENDING)
        return await cursor.limit(limit).to_list()

    async def mark_published(self, event_ids: list[str]) -> None:
        if event_ids:
            await self.collection.update_many(
                {"_id": {"$in": event_ids}}, {"$set": {"published_at": datetime.now(UTC)}}
            )

    async def record_failure(self, event_id: str, error: str) -> None:
        await self.collection.update_one(
            {"_id": event_id}, {"$inc": {"attempts": 1}, "$set": {"last_error": error[:500]}}
        )

    async def count_pending(self) -> int:
        return await self.collection.count_documents({"published_at": None})


class OutboxRelay:
    """Publishes pending outbox records in order; woken after each commit, and polls as a
    safety net for records left by a crash or by another replica."""

    def __init__(
        self, outbox: Outbox, publisher: EventPublisher, poll_seconds: float = 1.0
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._database = outbox.collection.database.name
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def notify(self) -> None:
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish what is pending, oldest first; stop at the first failure to keep order.
        Records are marked published a batch at a time: a crash in between only means a
        repeat publish, which the stream drops as a duplicate."""
        published = 0
        async with self._lock:
            while batch := await self.outbox.pending():
                done: list[str] = []
                failed = False
                for record in batch:
                    event_id = str(record["_id"])
                    try:
                        await self.publisher.publish(
                            record["subject"],
                            record["payload"].encode(),
                            event_id,
                            record.get("headers"),
                        )
                    except Exception as exc:
                        OUTBOX_PUBLISH_FAILURES.labels(self._database).inc()
                        log.warning(
                            "publish failed, will retry",
                            extra={"event_id": event_id, "error": repr(exc)},
                        )
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

    async def _record_failure(self, event_id: str, error: str) -> None:
        try:
            await self.outbox.record_failure(event_id, error)
        except Exception:  # the database may be down too; the record stays pending
            log.exception("could not record outbox failure")

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()
            try:
                await self.publish_pending()
            except Exception:
                log.exception("outbox relay pass failed; retrying")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
