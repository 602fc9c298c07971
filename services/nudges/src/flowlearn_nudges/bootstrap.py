"""Builds the nudges service's clients once and wires them in. Nothing connects here."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from flowlearn_shared.consumer import ProcessedEvents
from flowlearn_shared.events import Event
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
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.campaign_repository import Audiences, CampaignRepository
from flowlearn_nudges.adapters.event_progress import ConsumerProgress
from flowlearn_nudges.adapters.nudge_repository import NudgeRepository
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.adapters.personal_data import NudgesPersonalData
from flowlearn_nudges.adapters.repository import ActivityRepository
from flowlearn_nudges.adapters.rule_repository import RuleRepository
from flowlearn_nudges.adapters.sealed import SecretBox, decode_key
from flowlearn_nudges.channel_bootstrap import Channels, build_channels
from flowlearn_nudges.domain.rules import DEFAULT_RULES
from flowlearn_nudges.entrypoints import messaging
from flowlearn_nudges.entrypoints import personal_data as personal_data_entrypoints
from flowlearn_nudges.instrumentation import DueBacklog, MeasuredScheduler
from flowlearn_nudges.service_layer.api import NudgesApi
from flowlearn_nudges.service_layer.campaigns import CampaignService
from flowlearn_nudges.service_layer.handlers import Reactions, once
from flowlearn_nudges.service_layer.personal_data import NudgesPersonalDataService
from flowlearn_nudges.service_layer.planner import Planner
from flowlearn_nudges.service_layer.rule_engine import RuleEngine
from flowlearn_nudges.service_layer.work_events import WorkEvents
from flowlearn_nudges.settings import NudgesSettings

SERVICE = "nudges"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    # MongoDB keeps milliseconds; trimming keeps cursors and comparisons exact after a read.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class Nudges:
    settings: NudgesSettings
    broker: NatsBroker
    mongo: AsyncMongoClient[dict[str, Any]]
    outbox: Outbox
    relay: OutboxRelay
    activity: ActivityRepository
    nudges: NudgeRepository
    people: PeopleRepository
    rules: RuleRepository
    processed: ProcessedEvents  # the journal consumer's
    processed_people: ProcessedEvents
    processed_sharing: ProcessedEvents
    planner: Planner
    reactions: Reactions
    api: NudgesApi
    scheduler: MeasuredScheduler
    campaigns: CampaignService
    processed_work: ProcessedEvents
    personal_data: NudgesPersonalDataService
    processed_erasures: ProcessedEvents
    channels: Channels  # Slack, Teams, webhook and e-mail senders
    metrics: MetricsServer

    async def start(self) -> None:
        await connect_and_prepare(self.broker, self.settings)
        await self.activity.ensure_indexes()
        await self.nudges.ensure_indexes()
        await self.people.ensure_indexes()
        await self.rules.ensure_indexes()
        await self.rules.seed(DEFAULT_RULES)
        await self.campaigns.campaigns.ensure_indexes()
        await self.campaigns.audiences.ensure_indexes()
        await self.processed_work.ensure_indexes()
        await self.personal_data.ensure_indexes()
        await self.processed_erasures.ensure_indexes()
        await self.outbox.ensure_indexes()
        for processed in (self.processed, self.processed_people, self.processed_sharing):
            await processed.ensure_indexes()
        await start_broker(self.broker)
        self.relay.start()
        self.relay.notify()
        if self.settings.scheduler_enabled:
            self.scheduler.start()
        if self.settings.campaigns_enabled:
            self.campaigns.start()
        await self.channels.start()
        await self.metrics.start()

    async def stop(self) -> None:
        # Together: each may wait for work in hand, within the shutdown timeout.
        await asyncio.gather(self.channels.stop(), self.scheduler.stop())
        await self.campaigns.stop()
        await stop_gracefully(self.broker, self.relay)
        await self.metrics.stop()
        await self.mongo.close()


def secret_box(settings: NudgesSettings) -> SecretBox:
    """What seals people's channel credentials, from the destinations keys in settings."""
    return SecretBox(
        decode_key(settings.destinations_key.get_secret_value()),
        [decode_key(key.get_secret_value()) for key in settings.destinations_previous_keys],
    )


def bootstrap(settings: NudgesSettings | None = None, clock: Clock = utc_now) -> Nudges:
    settings = settings or NudgesSettings()
    broker = make_broker(settings, SERVICE)
    mongo = make_client(settings.mongodb_uri, f"flowlearn-{SERVICE}")
    db = mongo[settings.database]
    outbox = Outbox(db)
    relay = OutboxRelay(outbox, JetStreamPublisher(broker), settings.outbox_poll_seconds)
    uow = UnitOfWork(mongo, relay)
    activity = ActivityRepository(db)
    nudges = NudgeRepository(db)
    box = secret_box(settings)
    people = PeopleRepository(db, box)
    rules = RuleRepository(db)
    planner = Planner(nudges, people, activity, clock)
    reactions = Reactions(
        activity, nudges, people, planner, RuleEngine(rules, people, planner), clock
    )
    processed = ProcessedEvents(mongo, db, settings.journal_consumer)
    processed_people = ProcessedEvents(mongo, db, settings.people_consumer)
    processed_sharing = ProcessedEvents(mongo, db, settings.sharing_consumer)
    owner = f"{socket.gethostname()}:{uuid4().hex[:8]}"
    channels = build_channels(settings, db, people, clock, owner=owner)
    api = NudgesApi(nudges, people, planner, uow, clock, destinations=channels.destinations)
    scheduler = MeasuredScheduler(
        nudges,
        people,
        planner,
        outbox,
        uow,
        clock,
        owner=owner,
        lease=timedelta(seconds=settings.scheduler_lease_seconds),
        batch_size=settings.scheduler_batch_size,
        concurrency=settings.scheduler_concurrency,
        poll_seconds=settings.scheduler_poll_seconds,
        stop_grace=settings.scheduler_stop_grace_seconds,
    )
    campaigns = CampaignService(
        CampaignRepository(db),
        Audiences(db),
        planner,
        uow,
        clock,
        owner=scheduler.owner,
        lease=timedelta(seconds=settings.campaign_lease_seconds),
        batch_size=settings.campaign_batch_size,
        poll_seconds=settings.campaign_poll_seconds,
        progress=ConsumerProgress(broker, settings.people_consumer),
        audience_wait=timedelta(seconds=settings.campaign_audience_wait_seconds),
    )
    processed_work = ProcessedEvents(mongo, db, settings.work_consumer)

    async def on_people(event: Event, session: AsyncClientSession) -> None:
        await reactions.on_people(event, session)
        await campaigns.on_people(event, session)

    personal_data = NudgesPersonalDataService(NudgesPersonalData(db, box), ErasedPeople(db))
    processed_erasures = ProcessedEvents(mongo, db, settings.erasure_consumer)
    on_erasure = ErasureConsumer(
        SERVICE,
        personal_data.erase,
        erased=personal_data.erased,
        outbox=outbox,
        processed=processed_erasures,
        relay=relay,
        clock=clock,
    )
    personal_data_entrypoints.register(broker, settings, personal_data, on_erasure)
    # Events about a person written before their erasure do not bring them back.
    screened = personal_data.screen.reaction
    messaging.register(
        broker,
        settings,
        api,
        on_journal_event=once(processed, screened(reactions.on_journal)),
        on_people_event=once(processed_people, screened(on_people)),
        on_sharing_event=once(processed_sharing, screened(reactions.on_sharing)),
        on_work_event=once(processed_work, screened(WorkEvents(reactions.rules).on_work)),
        campaigns=campaigns,
    )
    register_health(broker, SERVICE, mongo)
    return Nudges(
        settings,
        broker,
        mongo,
        outbox,
        relay,
        activity,
        nudges,
        people,
        rules,
        processed,
        processed_people,
        processed_sharing,
        planner,
        reactions,
        api,
        scheduler,
        campaigns,
        processed_work,
        personal_data=personal_data,
        processed_erasures=processed_erasures,
        channels=channels,
        metrics=make_metrics_server(settings, broker, outbox, DueBacklog(nudges.nudges, clock)),
    )


async def run(settings: NudgesSettings | None = None) -> None:
    settings = settings or NudgesSettings()
    configure_logging(SERVICE, settings.log_level)
    configure_tracing(SERVICE)
    nudges = bootstrap(settings)
    await serve_until_stopped(
        nudges.start, nudges.stop, SERVICE, stop_timeout=settings.shutdown_timeout_seconds
    )


def asyncapi() -> AsyncAPI:
    return asyncapi_document(bootstrap().broker, "Flowlearn nudges")
