"""The same journal request handled in memory (TestNatsBroker) and through a real server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import nats
import pytest
from faststream.nats import TestNatsBroker
from flowlearn_journal.bootstrap import Journal, bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_shared.streams import ensure_streams
from flowlearn_shared.subjects import RpcSubject

pytestmark = pytest.mark.integration


@pytest.fixture
async def journal_unstarted(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Journal]:
    journal = bootstrap(
        JournalSettings(
            nats_url=nats_url, mongodb_uri=mongodb_uri, database=f"journal_{unique}", env="test"
        )
    )
    await journal.repository.ensure_indexes()
    # The journal's event consumers need the streams; a started service creates them.
    nc = await nats.connect(nats_url)
    await ensure_streams(nc.jetstream(), journal.settings)
    await nc.close()
    yield journal
    await journal.mongo.close()


@pytest.mark.parametrize("with_real", [False, True], ids=["in-memory", "real-nats"])
async def test_create_then_list(journal_unstarted: Journal, with_real: bool, unique: str) -> None:
    actor = {"user_id": f"u-{unique}", "roles": [], "timezone": "Europe/Berlin"}
    async with TestNatsBroker(journal_unstarted.broker, with_real=with_real) as broker:
        created = await broker.request(
            json.dumps(
                {"actor": actor, "entry": {"kind": "gem", "body": "A gem", "tags": ["x"]}}
            ).encode(),
            RpcSubject.JOURNAL_CREATE_ENTRY,
            timeout=10,
        )
        entry = json.loads(created.body)["result"]
        listed = await broker.request(
            json.dumps({"actor": actor, "query": {"tags": ["x"]}}).encode(),
            RpcSubject.JOURNAL_LIST_ENTRIES,
            timeout=10,
        )
    assert [e["id"] for e in json.loads(listed.body)["result"]["items"]] == [entry["id"]]
