"""Builds the nudges service's clients once and wires them in. Nothing connects here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from flowlearn_shared.consumer import ProcessedEvents
from flowlearn_shared.logs import configure_logging
from flowlearn_shared.mongo import make_client
from flowlearn_shared.runtime import (
    connect_and_prepare,
    make_broker,
    register_health,
    serve_until_stopped,
)
from pymongo import AsyncMongoClient

from flowlearn_nudges.adapters.repository import ActivityRepository
from flowlearn_nudges.entrypoints import messaging
from flowlearn_nudges.service_layer.handlers import JournalActivityHandler
from flowlearn_nudges.settings import NudgesSettings

SERVICE = "nudges"


@dataclass
class Nudges:
    settings: NudgesSettings
    broker: NatsBroker
    mongo: AsyncMongoClient[dict[str, Any]]
    activity: ActivityRepository
    processed: ProcessedEvents

    async def start(self) -> None:
        await connect_and_prepare(self.broker, self.settings)
        await self.activity.ensure_indexes()
        await self.processed.ensure_indexes()
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.mongo.close()


def bootstrap(settings: NudgesSettings | None = None) -> Nudges:
    settings = settings or NudgesSettings()
    broker = make_broker(settings, SERVICE)
    mongo = make_client(settings.mongodb_uri, f"flowlearn-{SERVICE}")
    db = mongo[settings.database]
    activity = ActivityRepository(db)
    processed = ProcessedEvents(mongo, db, settings.journal_consumer)
    messaging.register(broker, settings, JournalActivityHandler(activity, processed))
    register_health(broker, SERVICE, mongo)
    return Nudges(settings, broker, mongo, activity, processed)


async def run(settings: NudgesSettings | None = None) -> None:
    settings = settings or NudgesSettings()
    configure_logging(SERVICE, settings.log_level)
    nudges = bootstrap(settings)
    await serve_until_stopped(nudges.start, nudges.stop, SERVICE)


def asyncapi() -> AsyncAPI:
    return AsyncAPI(bootstrap().broker, title="Flowlearn nudges", version="1.0.0")
