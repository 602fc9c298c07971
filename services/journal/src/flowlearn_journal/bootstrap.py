"""Builds the journal's clients once and wires them into the use cases and entrypoints.
Nothing connects here; connections open when the app starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from flowlearn_shared.consumer import ProcessedEvents, subscribe_events
from flowlearn_shared.logs import configure_logging
from flowlearn_shared.mongo import make_client
from flowlearn_shared.observability.endpoint import MetricsServer
from flowlearn_shared.observability.tracing import configure_tracing
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.outbox_relay import OutboxRelay
from flowlearn_shared.personal_data import ErasedPeople, ErasureConsumer
from flowlearn_shared.runtime import (
    JetStreamPublisher,
    asyncapi_document,
    connect_and_prepare,
    make_broker,
    make_metrics_server,
    register_health,
    serve_until_stopped,
    start_broker,
    stop_gracefully,
)
from flowlearn_shared.subjects import EventSubject
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo import AsyncMongoClient

from flowlearn_journal.adapters.personal_data import JournalPersonalData
from flowlearn_journal.adapters.portfolio import PortfolioRepository
from flowlearn_journal.adapters.repository import EntryRepository
from flowlearn_journal.adapters.zones import ZoneBook
from flowlearn_journal.entrypoints import messaging
from flowlearn_journal.entrypoints import personal_data as personal_data_entrypoints
from flowlearn_journal.service_layer.handlers import JournalService
from flowlearn_journal.service_layer.personal_data import JournalPersonalDataService
from flowlearn_journal.service_layer.portfolio import PortfolioEvents, PortfolioService
from flowlearn_journal.service_layer.profiles import ProfileHandler
from flowlearn_journal.settings import JournalSettings

SERVICE = "journal"
# What the portfolio learns from other services, each on a durable consumer of its own.
PORTFOLIO_EVENTS = {
    "kudos": EventSubject.KUDOS_GIVEN,
    "answers": EventSubject.ANSWER_ACCEPTED,
    "experiments": EventSubject.EXPERIMENT_STAGE_CHANGED,
}


@dataclass
class Journal:
    settings: JournalSettings
    broker: NatsBroker
    mongo: AsyncMongoClient[dict[str, Any]]
    outbox: Outbox
    relay: OutboxRelay
    repository: EntryRepository
    service: JournalService
    portfolio_repository: PortfolioRepository
    portfolio: PortfolioService
    personal_data: JournalPersonalDataService
    processed_erasures: ProcessedEvents
    metrics: MetricsServer

    async def start(self) -> None:
        await connect_and_prepare(self.broker, self.settings)
        await self.repository.ensure_indexes()
        await self.portfolio_repository.ensure_indexes()
        await self.outbox.ensure_indexes()
        await self.personal_data.ensure_indexes()
        await self.processed_erasures.ensure_indexes()
        await start_broker(self.broker)
        self.relay.start()
        self.relay.notify()  # publish anything a previous run left behind
        await self.metrics.start()

    async def stop(self) -> None:
        await stop_gracefully(self.broker, self.relay)
        await self.metrics.stop()
        await self.mongo.close()


def bootstrap(settings: JournalSettings | None = None) -> Journal:
    settings = settings or JournalSettings()
    broker = make_broker(settings, SERVICE)
    mongo = make_client(settings.mongodb_uri, f"flowlearn-{SERVICE}")
    db = mongo[settings.database]
    outbox = Outbox(db)
    relay = OutboxRelay(outbox, JetStreamPublisher(broker), settings.outbox_poll_seconds)
    repository = EntryRepository(db, outbox, relay)
    zones = ZoneBook(db)
    service = JournalService(repository, outbox, UnitOfWork(mongo, relay), zones)
    portfolio_repository = PortfolioRepository(db)
    portfolio = PortfolioService(
        portfolio_repository,
        zones,
        xapi_home_page=settings.xapi_home_page,
        max_bytes=settings.portfolio_max_bytes,
    )
    messaging.register(broker, service, portfolio)
    personal_data = JournalPersonalDataService(JournalPersonalData(db), ErasedPeople(db))
    processed_erasures = ProcessedEvents(mongo, db, settings.erasure_consumer)
    on_erasure = ErasureConsumer(
        SERVICE,
        personal_data.erase,
        erased=personal_data.erased,
        outbox=outbox,
        processed=processed_erasures,
        relay=relay,
    )
    personal_data_entrypoints.register(broker, settings, personal_data, on_erasure)
    subscribe_events(
        broker,
        subject=EventSubject.PROFILE_UPDATED,
        durable=settings.profiles_consumer,
        # Events about a person written before their erasure do not bring them back.
        handler=personal_data.screen.handler(ProfileHandler(zones)),
        settings=settings,
        title="journal:profiles",
    )
    portfolio_events = PortfolioEvents(portfolio_repository)
    for purpose, subject in PORTFOLIO_EVENTS.items():
        subscribe_events(
            broker,
            subject=subject,
            durable=f"{settings.portfolio_consumer}-{purpose}",
            handler=personal_data.screen.handler(portfolio_events),
            settings=settings,
            title=f"journal:portfolio-{purpose}",
        )
    register_health(broker, SERVICE, mongo)
    return Journal(
        settings,
        broker,
        mongo,
        outbox,
        relay,
        repository,
        service,
        portfolio_repository,
        portfolio,
        personal_data=personal_data,
        processed_erasures=processed_erasures,
        metrics=make_metrics_server(settings, broker, outbox),
    )


async def run(settings: JournalSettings | None = None) -> None:
    settings = settings or JournalSettings()
    configure_logging(SERVICE, settings.log_level)
    configure_tracing(SERVICE)
    journal = bootstrap(settings)
    await serve_until_stopped(
        journal.start, journal.stop, SERVICE, stop_timeout=settings.shutdown_timeout_seconds
    )


def asyncapi() -> AsyncAPI:
    """The journal's AsyncAPI document, built without connecting anywhere."""
    return asyncapi_document(bootstrap().broker, "Flowlearn journal")
