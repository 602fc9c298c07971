"""Builds the sharing service's clients once and wires them in. Nothing connects here.

The service runs as its own process with its own database and answers health requests;
its people directory, posts, Q&A and feed arrive with their own use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from flowlearn_shared.logs import configure_logging
from flowlearn_shared.mongo import make_client
from flowlearn_shared.runtime import (
    connect_and_prepare,
    make_broker,
    register_health,
    serve_until_stopped,
)
from pymongo import AsyncMongoClient

from flowlearn_sharing.settings import SharingSettings

SERVICE = "sharing"


@dataclass
class Sharing:
    settings: SharingSettings
    broker: NatsBroker
    mongo: AsyncMongoClient[dict[str, Any]]

    async def start(self) -> None:
        await connect_and_prepare(self.broker, self.settings)
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.mongo.close()


def bootstrap(settings: SharingSettings | None = None) -> Sharing:
    settings = settings or SharingSettings()
    broker = make_broker(settings, SERVICE)
    mongo = make_client(settings.mongodb_uri, f"flowlearn-{SERVICE}")
    register_health(broker, SERVICE, mongo)
    return Sharing(settings, broker, mongo)


async def run(settings: SharingSettings | None = None) -> None:
    settings = settings or SharingSettings()
    configure_logging(SERVICE, settings.log_level)
    sharing = bootstrap(settings)
    await serve_until_stopped(sharing.start, sharing.stop, SERVICE)


def asyncapi() -> AsyncAPI:
    return AsyncAPI(bootstrap().broker, title="Flowlearn sharing", version="1.0.0")
