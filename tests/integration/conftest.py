from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from flowlearn_journal.bootstrap import Journal, bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_sharing.bootstrap import Sharing
from flowlearn_sharing.bootstrap import bootstrap as bootstrap_sharing
from flowlearn_sharing.settings import SharingSettings
from nats.aio.client import Client
from nudges_channel_support import Receiver


@pytest.fixture
async def journal(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Journal]:
    """The journal service in this process, on the real servers, with its own database."""
    settings = JournalSettings(
        nats_url=nats_url,
        mongodb_uri=mongodb_uri,
        database=f"journal_{unique}",
        profiles_consumer=f"journal-profiles-{unique}",
        portfolio_consumer=f"journal-portfolio-{unique}",
        env="test",
        outbox_poll_seconds=0.2,
    )
    service = bootstrap(settings)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
async def sharing(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Sharing]:
    """The sharing service in this process, with its own database and consumer."""
    settings = SharingSettings(
        nats_url=nats_url,
        mongodb_uri=mongodb_uri,
        database=f"sharing_{unique}",
        journal_shares_consumer=f"sharing-shares-{unique}",
        env="test",
        outbox_poll_seconds=0.2,
        retry_backoff_seconds=[0.2],
    )
    service = bootstrap_sharing(settings)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP endpoint on 127.0.0.1 that records what the outside channels send it."""
    server = Receiver().start()
    yield server
    server.stop()
