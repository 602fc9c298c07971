"""The relay: publishes what the outbox holds to JetStream until the server acknowledges it.

Events a ``DocumentOutbox`` stored with a new document go out from memory at once; the outbox
collection is read when a commit wakes the relay and at each poll, and documents holding
events past their grace period are swept then too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol

from flowlearn_shared.background import BackgroundLoop
from flowlearn_shared.observability.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from flowlearn_shared.outbox import DocumentOutbox, Outbox, Record, events_of

log = logging.getLogger("flowlearn.outbox")

ACK_WAIT_SECONDS = 5.0  # for the acknowledgement of an event sent from memory
# Events published from memory are cleared from their documents in batches: at most this
# many at once, or after this long.
CLEAR_BATCH = 200
CLEAR_EVERY_SECONDS = 0.5


class EventPublisher(Protocol):
    async def publish(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Publish and wait for the server's acknowledgement."""

    async def start(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> asyncio.Future[Any]:
        """Send without waiting; the future completes with the acknowledgement."""


class OutboxRelay(BackgroundLoop):
    """Publishes what the outbox holds (see the module's docstring); one per process."""

    task_name = "outbox-relay"

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
                    record_id = str(record["_id"])
                    error, sent = await self._publish_record(record)
                    published += sent - int(record.get("sent", 0))
                    if error is not None:
                        self._failed(record_id, error)
                        await self._record_failure(record_id, repr(error), sent)
                        failed = True
                        break
                    done.append(record_id)
                await self.outbox.mark_published(done)
                if failed:
                    break
        OUTBOX_PUBLISHED.labels(self._database).inc(published)
        return published

    async def _publish_record(self, record: Record) -> tuple[Exception | None, int]:
        """Publish what a record holds; the error that stopped it, if any, and how many of
        its events JetStream has acknowledged. A batch's events are sent without waiting
        for each acknowledgement (they are about different things); one failed is sent
        again from there on the next pass, after any that overtook it."""
        events = events_of(record)
        if "events" not in record:
            try:
                await self._publish(record)
            except Exception as exc:
                return exc, 0
            return None, 1
        done = int(record.get("sent", 0))
        acks: list[asyncio.Future[Any]] = []
        error: Exception | None = None
        try:
            for event in events[done:]:
                acks.append(
                    await self.publisher.start(
                        event["subject"],
                        event["payload"].encode(),
                        str(event["_id"]),
                        event.get("headers"),
                    )
                )
        except Exception as exc:
            error = exc
        if acks:
            await asyncio.wait(acks, timeout=ACK_WAIT_SECONDS)
        # Looked at all at once: one still unanswered is cancelled, not left behind.
        for failure in [self._failure_of(ack) for ack in acks]:
            if failure is not None:
                return failure, done
            done += 1
        return error, done

    async def flush(self) -> int:
        """Everything publishable now, cleared and marked (a graceful stop's last pass)."""
        published = await self.confirm_sent() + await self.publish_pending()
        await self.clear_published(force=True)
        return published

    async def _record_failure(self, record_id: str, error: str, sent: int = 0) -> None:
        try:
            await self.outbox.record_failure(record_id, error, sent)
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
