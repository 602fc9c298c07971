"""Builds the nudges service's clients once and wires them in. Nothing connects here."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from flowlearn_shared.consumer import ProcessedEvents
from flowlearn_shared.logs import configure_logging
from flowlearn_shared.mongo import make_client
from flowlearn_shared.outbox import Outbox, OutboxRelay
from flowlearn_shared.runtime import (
    JetStreamPublisher,
    connect_and_prepare,
    make_broker,
    register_health,
    serve_until_stopped,
    start_broker,
)
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo import AsyncMongoClient

from flowlearn_nudges.adapters.nudge_repository import NudgeRepository
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.adapters.repository import ActivityRepository
from flowlearn_nudges.adapters.rule_repository import RuleRepository
from flowlearn_nudges.domain.rules import DEFAULT_RULES
from flowlearn_nudges.entrypoints import messaging
from flowlearn_nudges.service_layer.api import NudgesApi
from flowlearn_nudges.service_layer.handlers import Reactions, once
from flowlearn_nudges.service_layer.planner import Planner
from flowlearn_nudges.service_layer.rule_engine import RuleEngine
from flowlearn_nudges.service_layer.scheduler import Scheduler
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
    scheduler: Scheduler

    async def start(self) -> None:
        await connect_and_prepare(self.broker, self.settings)
        await self.activity.ensure_indexes()
        await self.nudges.ensure_indexes()
        await self.people.ensure_indexes()
        await self.rules.ensure_indexes()
        await self.rules.seed(DEFAULT_RULES)
        await self.outbox.ensure_indexes()
        for processed in (self.processed, self.processed_people, self.processed_sharing):
            await processed.ensure_indexes()
        await start_broker(self.broker)
        self.relay.start()
        self.relay.notify()
        if self.settings.scheduler_enabled:
            self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.relay.stop()
        await self.broker.stop()
        await self.mongo.close()


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
    people = PeopleRepository(db)
    rules = RuleRepository(db)
    planner = Planner(nudges, people, activity, clock)
    reactions = Reactions(
        activity, nudges, people, planner, RuleEngine(rules, people, planner), clock
    )
    processed = ProcessedEvents(mongo, db, settings.journal_consumer)
    processed_people = ProcessedEvents(mongo, db, settings.people_consumer)
    processed_sharing = ProcessedEvents(mongo, db, settings.sharing_consumer)
    api = NudgesApi(nudges, people, planner, uow, clock)
    scheduler = Scheduler(
        nudges,
        people,
        planner,
        outbox,
        uow,
        clock,
        owner=f"{socket.gethostname()}:{uuid4().hex[:8]}",
        lease=timedelta(seconds=settings.scheduler_lease_seconds),
        batch_size=settings.scheduler_batch_size,
        concurrency=settings.scheduler_concurrency,
        poll_seconds=settings.scheduler_poll_seconds,
    )
    messaging.register(
        broker,
        settings,
        api,
        on_journal_event=once(processed, reactions.on_journal),
        on_people_event=once(processed_people, reactions.on_people),
        on_sharing_event=once(processed_sharing, reactions.on_sharing),
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
    )


async def run(settings: NudgesSettings | None = None) -> None:
    settings = settings or NudgesSettings()
    configure_logging(SERVICE, settings.log_level)
    nudges = bootstrap(settings)
    await serve_until_stopped(nudges.start, nudges.stop, SERVICE)


def asyncapi() -> AsyncAPI:
    return AsyncAPI(bootstrap().broker, title="Flowlearn nudges", version="1.0.0")
