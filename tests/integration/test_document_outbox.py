"""A new journal entry holds the event of its creation until the relay has published it:
a publish lost on the way is made up for by the relay's sweep, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pytest
from flowlearn_journal.bootstrap import Journal
from flowlearn_shared.contracts.journal import CreateEntryRequest, EntryCreate, EntryKind
from flowlearn_shared.events import JournalEntryCreated, JournalEntryFacts, parse_event
from flowlearn_shared.outbox_relay import EventPublisher
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

pytestmark = pytest.mark.integration


class RefusesOnce:
    """The real JetStream publisher, except that the ``n``-th event it is given is refused,
    once (as when the connection drops just then)."""

    def __init__(self, publisher: EventPublisher, n: int = 1) -> None:
        self.publisher, self.n, self.given, self.refused = publisher, n, 0, 0

    def _count(self) -> None:
        self.given += 1
        if self.given == self.n:
            self.refused += 1
            raise ConnectionError("connection lost")

    async def publish(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self._count()
        await self.publisher.publish(subject, payload, msg_id, headers)

    async def start(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> asyncio.Future[Any]:
        self._count()
        return await self.publisher.start(subject, payload, msg_id, headers)


async def created_events_of(nc: Client, entry_id: str) -> int:
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        EventSubject.JOURNAL_ENTRY_CREATED,
        stream=EVENTS_STREAM,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    try:
        found = 0
        while True:
            try:
                messages = await sub.fetch(100, timeout=1)
            except TimeoutError:
                return found
            # The stream is shared: other tests put junk on this subject on purpose.
            found += sum(
                entry_id.encode() in m.data and parse_event(m.data).data.entry_id == entry_id
                for m in messages
            )
    finally:
        await sub.unsubscribe()


async def test_a_lost_publish_is_swept_and_published_once(journal: Journal, nc: Client) -> None:
    publisher = RefusesOnce(journal.relay.publisher)
    journal.relay.publisher = publisher
    journal.repository.events.grace = timedelta(seconds=1)
    entry = await journal.service.create_entry(
        CreateEntryRequest(
            actor=Actor(user_id="u-lost-publish"),
            entry=EntryCreate(kind=EntryKind.LEARNED, body="Written as the connection dropped"),
        )
    )
    await asyncio.sleep(0.3)
    assert publisher.refused == 1
    assert await journal.repository.events.count_pending() == 1  # still held by the entry

    deadline = asyncio.get_running_loop().time() + 10
    while await journal.outbox.count_pending():
        assert asyncio.get_running_loop().time() < deadline, "the held event was never swept"
        await asyncio.sleep(0.2)
    assert await created_events_of(nc, entry.id) == 1
    stored = await journal.repository.entries.find_one({"_id": entry.id})
    assert stored is not None
    assert "_outbox" not in stored


async def test_a_batch_of_events_is_one_record_resumed_after_a_failure(
    journal: Journal, nc: Client, unique: str
) -> None:
    """Events written together are one outbox record; a pass stopped midway resumes after
    the events JetStream acknowledged, and each event reaches the stream once."""
    relay = journal.relay
    await relay.stop()  # passes are run by hand below
    relay.publisher = RefusesOnce(relay.publisher, n=4)
    entry_ids = [f"{unique}-{i}" for i in range(6)]
    events = [
        JournalEntryCreated(
            source="flowlearn/journal",
            subject=f"u-{unique}",
            data=JournalEntryFacts(
                entry_id=entry_id, owner_id=f"u-{unique}", kind="gem", occurred_on=date.today()
            ),
        )
        for entry_id in entry_ids
    ]
    await journal.service.uow.run(lambda session: journal.outbox.add_many(events, session))
    [record] = await journal.outbox.collection.find({"events": {"$exists": True}}).to_list()
    assert [e["_id"] for e in record["events"]] == [str(e.id) for e in events]

    assert await relay.publish_pending() == 3  # the fourth was refused
    stopped = await journal.outbox.collection.find_one({"_id": record["_id"]})
    assert stopped is not None
    assert (stopped["published_at"], stopped["sent"], stopped["attempts"]) == (None, 3, 1)

    assert await relay.publish_pending() == 3  # the rest
    assert await journal.outbox.count_pending() == 0
    for entry_id in entry_ids:
        assert await created_events_of(nc, entry_id) == 1
