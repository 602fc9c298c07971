"""The same journal event handler run in memory (TestNatsBroker) and through a real server.

Requests are served by nats-py subscriptions (``flowlearn_shared.rpc_server``), which the
in-memory broker does not see; they are tested against a real server, here and in the
service tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import nats
import pytest
from faststream.nats import TestNatsBroker
from flowlearn_journal.bootstrap import Journal, bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_shared.contracts.journal import CreateEntryRequest, EntryQuery, ListEntriesRequest
from flowlearn_shared.events import ErasureRequestedData, PersonErasureRequested, serialize_event
from flowlearn_shared.rpc import Actor
from flowlearn_shared.runtime import start_broker
from flowlearn_shared.streams import ensure_streams
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject, RpcSubject
from nats.aio.client import Client

pytestmark = pytest.mark.integration


@pytest.fixture
async def journal_unstarted(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Journal]:
    journal = bootstrap(
        JournalSettings(
            nats_url=nats_url,
            mongodb_uri=mongodb_uri,
            database=f"journal_{unique}",
            # Its own consumer: another test's journal must not take this test's events.
            erasure_consumer=f"journal-erasure-{unique}",
            env="test",
        )
    )
    await journal.repository.ensure_indexes()
    await journal.processed_erasures.ensure_indexes()
    # The journal's event consumers need the streams; a started service creates them.
    nc = await nats.connect(nats_url)
    await ensure_streams(nc.jetstream(), journal.settings)
    await nc.close()
    yield journal
    await journal.mongo.close()


async def entry_ids(journal: Journal, actor: Actor) -> list[str]:
    page = await journal.service.list_entries(ListEntriesRequest(actor=actor, query=EntryQuery()))
    return [entry.id for entry in page.items]


@pytest.mark.parametrize("with_real", [False, True], ids=["in-memory", "real-nats"])
async def test_erasure_request_erases_that_persons_entries_only(
    journal_unstarted: Journal, with_real: bool, unique: str
) -> None:
    journal = journal_unstarted
    alice, bob = (
        Actor(user_id=f"{name}-{unique}", roles=[], timezone="Europe/Berlin")
        for name in ("alice", "bob")
    )
    for actor in (alice, bob):
        await journal.service.create_entry(
            CreateEntryRequest.model_validate(
                {"actor": actor.model_dump(), "entry": {"kind": "gem", "body": "A gem"}}
            )
        )
    erasure_id = str(uuid4())
    event = PersonErasureRequested(
        source="tests",
        subject=erasure_id,
        time=datetime.now(UTC),
        data=ErasureRequestedData(erasure_id=erasure_id, user_id=alice.user_id, posts="delete"),
    )

    async with TestNatsBroker(journal.broker, with_real=with_real) as broker:
        await broker.publish(
            serialize_event(event), EventSubject.PERSON_ERASURE_REQUESTED, stream=EVENTS_STREAM
        )
        for _ in range(100):  # in memory the handler has run already
            if not await entry_ids(journal, alice):
                break
            await asyncio.sleep(0.1)

    assert await entry_ids(journal, alice) == []
    assert len(await entry_ids(journal, bob)) == 1


async def test_requests_are_answered_once_started(
    journal_unstarted: Journal, nc: Client, unique: str
) -> None:
    journal = journal_unstarted
    actor = {"user_id": f"u-{unique}", "roles": [], "timezone": "Europe/Berlin"}
    await start_broker(journal.broker)
    try:
        created = await nc.request(
            RpcSubject.JOURNAL_CREATE_ENTRY,
            json.dumps(
                {"actor": actor, "entry": {"kind": "gem", "body": "A gem", "tags": ["x"]}}
            ).encode(),
            timeout=10,
        )
        entry = json.loads(created.data)["result"]
        listed = await nc.request(
            RpcSubject.JOURNAL_LIST_ENTRIES,
            json.dumps({"actor": actor, "query": {"tags": ["x"]}}).encode(),
            timeout=10,
        )
        invalid = await nc.request(RpcSubject.JOURNAL_CREATE_ENTRY, b'{"actor": 1}', timeout=10)
    finally:
        await journal.broker.stop()
    assert [e["id"] for e in json.loads(listed.data)["result"]["items"]] == [entry["id"]]
    problem = json.loads(invalid.data)["problem"]
    assert problem["status"] == 422
    assert problem["errors"]
