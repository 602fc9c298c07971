from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import nats
import pytest
from flowlearn_journal.bootstrap import Journal, bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_nudges.bootstrap import Nudges
from flowlearn_nudges.bootstrap import bootstrap as bootstrap_nudges
from flowlearn_sharing.bootstrap import Sharing
from flowlearn_sharing.bootstrap import bootstrap as bootstrap_sharing
from flowlearn_sharing.settings import SharingSettings
from nats.aio.client import Client
from nudges_channel_support import FakeClock, Receiver
from nudges_support import MakeNudges, nudges_settings


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


@pytest.fixture
async def make_nudges(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[MakeNudges]:
    """Nudges replicas on the test's database, scheduler, campaigns and channel sender
    driven by hand; each is stopped at the end. Keyword arguments override settings."""
    started: list[Nudges] = []

    def make(clock: FakeClock | None = None, **overrides: Any) -> Nudges:
        settings = nudges_settings(
            nats_url,
            mongodb_uri,
            unique,
            **{
                "scheduler_enabled": False,
                "campaigns_enabled": False,
                "channels_enabled": False,
                "channel_digest_gather_seconds": 0,
                **overrides,
            },
        )
        service = bootstrap_nudges(settings, clock=clock or FakeClock())
        started.append(service)
        return service

    yield make
    for service in started:
        await service.stop()
