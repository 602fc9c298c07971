"""No event is lost when NATS is down at the moment of a journal write, and events about
one entry are published in the order they happened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from flowlearn_cli import servers
from flowlearn_journal.bootstrap import Journal, bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_shared.contracts.journal import (
    CreateEntryRequest,
    EntryCreate,
    EntryKind,
    EntryUpdate,
    UpdateEntryRequest,
)
from flowlearn_shared.events import parse_event
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject

pytestmark = pytest.mark.integration


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[servers.ManagedProcess]:
    """A NATS server this test may stop and restart (same port, same JetStream store)."""
    proc = servers.nats_server(tmp_path / "nats", servers.free_port()).start()
    yield proc
    proc.stop()


@pytest.fixture
def url(own_nats: servers.ManagedProcess) -> str:
    return servers.nats_url(own_nats.host, own_nats.port)


@pytest.fixture
async def journal(url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Journal]:
    """The journal on the NATS server this test may stop."""
    journal = bootstrap(
        JournalSettings(
            nats_url=url,
            mongodb_uri=mongodb_uri,
            database=f"journal_{unique}",
            env="test",
            outbox_poll_seconds=0.2,
        )
    )
    await journal.start()
    yield journal
    await journal.stop()


async def drained(journal: Journal, within: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while await journal.outbox.count_pending():
        assert asyncio.get_running_loop().time() < deadline, "outbox never drained"
        await asyncio.sleep(0.2)


async def entry_events(url: str) -> list[Any]:
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().pull_subscribe("flow.journal.entry.>", stream=EVENTS_STREAM)
        messages = await sub.fetch(10, timeout=2)
        return [parse_event(msg.data) for msg in messages]
    finally:
        await nc.close()


async def test_event_published_after_nats_comes_back(
    own_nats: servers.ManagedProcess, journal: Journal, url: str, unique: str
) -> None:
    own_nats.stop()
    request = CreateEntryRequest(
        actor=Actor(user_id=f"u-{unique}"),
        entry=EntryCreate(kind=EntryKind.MISTAKE, body="Wrote while NATS was down"),
    )
    # The use case commits to MongoDB whatever NATS is doing.
    entry = await journal.service.create_entry(request)
    await asyncio.sleep(0.5)  # the relay tries, fails, and keeps the record
    assert await journal.outbox.count_pending() == 1

    own_nats.start()
    await drained(journal)
    # Published once: a second pass of the relay is de-duplicated or has nothing to do.
    await journal.relay.flush()
    [event] = await entry_events(url)
    assert event.data.entry_id == entry.id


async def test_created_event_published_and_cleared_from_the_entry(
    own_nats: servers.ManagedProcess, journal: Journal, url: str, unique: str
) -> None:
    actor = Actor(user_id=f"u-{unique}")
    entry = await journal.service.create_entry(
        CreateEntryRequest(actor=actor, entry=EntryCreate(kind=EntryKind.LEARNED, body="Hi"))
    )
    await drained(journal, within=5)
    [event] = await entry_events(url)
    assert event.type == EventSubject.JOURNAL_ENTRY_CREATED
    assert event.data.entry_id == entry.id
    stored = await journal.repository.entries.find_one({"_id": entry.id})
    assert stored is not None
    assert "_outbox" not in stored
    assert "_outbox_at" not in stored


async def test_entry_changed_while_its_creation_is_unpublished_keeps_the_order(
    own_nats: servers.ManagedProcess, journal: Journal, url: str, unique: str
) -> None:
    """The created event is still held by the entry (NATS is down) when the entry is
    edited and then shared: once NATS is back, consumers see created, updated, shared."""
    own_nats.stop()
    actor = Actor(user_id=f"u-{unique}")
    entry = await journal.service.create_entry(
        CreateEntryRequest(actor=actor, entry=EntryCreate(kind=EntryKind.GEM, body="First thought"))
    )
    await asyncio.sleep(0.5)  # the publish from memory fails; the entry keeps the event
    assert await journal.repository.events.count_pending() == 1
    await journal.service.update_entry(
        UpdateEntryRequest(
            actor=actor, entry_id=entry.id, changes=EntryUpdate(body="Second thought")
        )
    )
    # The update moved the held event to the outbox collection, ahead of its own.
    assert await journal.repository.events.count_pending() == 0
    assert await journal.outbox.count_pending() == 2

    own_nats.start()
    await drained(journal)
    events = await entry_events(url)
    assert [e.type for e in events] == [
        EventSubject.JOURNAL_ENTRY_CREATED,
        EventSubject.JOURNAL_ENTRY_UPDATED,
    ]
    assert {e.data.entry_id for e in events} == {entry.id}
