"""No event is lost when NATS is down at the moment of a journal write."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from flowlearn_cli import servers
from flowlearn_journal.bootstrap import bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_shared.contracts.journal import CreateEntryRequest, EntryCreate, EntryKind
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


async def test_event_published_after_nats_comes_back(
    own_nats: servers.ManagedProcess, mongodb_uri: str, unique: str
) -> None:
    url = servers.nats_url(own_nats.host, own_nats.port)
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
    try:
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
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            deadline = asyncio.get_running_loop().time() + 20
            while await journal.outbox.count_pending():
                assert asyncio.get_running_loop().time() < deadline, "outbox never drained"
                await asyncio.sleep(0.2)
            sub = await js.pull_subscribe(EventSubject.JOURNAL_ENTRY_CREATED, stream=EVENTS_STREAM)
            [msg] = await sub.fetch(1, timeout=5)
            event = parse_event(msg.data)
            assert event.data.entry_id == entry.id
            # Published once: a second pass of the relay is de-duplicated or has nothing to do.
            await journal.relay.flush()
            info = await js.stream_info(EVENTS_STREAM)
            assert info.state.messages == 1
        finally:
            await nc.close()
    finally:
        await journal.stop()
