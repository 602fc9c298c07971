"""Builds the sharing service's clients once and wires them in. Nothing connects here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from flowlearn_shared.consumer import ProcessedEvents
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

from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.adapters.personal_data.erase import SharingEraser
from flowlearn_sharing.adapters.personal_data.export import SharingExportReader
from flowlearn_sharing.adapters.personal_data.requests import ErasureRequests
from flowlearn_sharing.adapters.post_repository import PostRepository
from flowlearn_sharing.adapters.question_repository import QuestionRepository
from flowlearn_sharing.adapters.search_repository import SearchRepository
from flowlearn_sharing.entrypoints import curation as curation_entrypoints
from flowlearn_sharing.entrypoints import experiments as experiment_entrypoints
from flowlearn_sharing.entrypoints import gatherings as gathering_entrypoints
from flowlearn_sharing.entrypoints import kudos as kudos_entrypoints
from flowlearn_sharing.entrypoints import messaging
from flowlearn_sharing.entrypoints import personal_data as personal_data_entrypoints
from flowlearn_sharing.entrypoints import questions as questions_entrypoints
from flowlearn_sharing.entrypoints import reviews as review_entrypoints
from flowlearn_sharing.service_layer.journal_shares import JournalShareHandler
from flowlearn_sharing.service_layer.people import PeopleService
from flowlearn_sharing.service_layer.personal_data import SharingPersonalDataService
from flowlearn_sharing.service_layer.posts import PostService
from flowlearn_sharing.service_layer.questions import QuestionService
from flowlearn_sharing.service_layer.search import SearchService
from flowlearn_sharing.settings import SharingSettings
from flowlearn_sharing.social import Social, build_social

SERVICE = "sharing"


def utc_now() -> datetime:
    # MongoDB keeps milliseconds; trimming keeps cursors exact after a read.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class Sharing:
    settings: SharingSettings
    broker: NatsBroker
    mongo: AsyncMongoClient[dict[str, Any]]
    outbox: Outbox
    relay: OutboxRelay
    people_repository: PeopleRepository
    post_repository: PostRepository
    people: PeopleService
    posts: PostService
    question_repository: QuestionRepository
    questions: QuestionService
    social: Social
    personal_data: SharingPersonalDataService
    processed_erasures: ProcessedEvents
    metrics: MetricsServer

    async def start(self) -> None:
        await connect_and_prepare(self.broker, self.settings)
        await self.people_repository.ensure_indexes()
        await self.post_repository.ensure_indexes()
        await self.question_repository.ensure_indexes()
        await self.social.ensure_indexes()
        await self.personal_data.ensure_indexes()
        await self.processed_erasures.ensure_indexes()
        await self.outbox.ensure_indexes()
        await start_broker(self.broker)
        self.relay.start()
        self.social.start()
        self.relay.notify()
        await self.metrics.start()

    async def stop(self) -> None:
        await self.social.stop()
        await stop_gracefully(self.broker, self.relay)
        await self.metrics.stop()
        await self.mongo.close()


def bootstrap(
    settings: SharingSettings | None = None, clock: Callable[[], datetime] = utc_now
) -> Sharing:
    settings = settings or SharingSettings()
    broker = make_broker(settings, SERVICE)
    mongo = make_client(settings.mongodb_uri, f"flowlearn-{SERVICE}")
    db = mongo[settings.database]
    outbox = Outbox(db)
    relay = OutboxRelay(outbox, JetStreamPublisher(broker), settings.outbox_poll_seconds)
    uow = UnitOfWork(mongo, relay)
    people_repository = PeopleRepository(db)
    post_repository = PostRepository(db)
    people = PeopleService(people_repository, outbox, uow, clock)
    posts = PostService(post_repository, people_repository, people, outbox, uow, clock)
    personal_data = SharingPersonalDataService(
        SharingExportReader(db),
        SharingEraser(db, uow),
        ErasureRequests(db),
        ErasedPeople(db),
        outbox,
        uow,
        clock,
    )
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
    # A share written before its author's erasure does not bring them back.
    on_share = personal_data.screen.handler(JournalShareHandler(posts, clock))
    messaging.register(broker, settings, people, posts, on_share)
    question_repository = QuestionRepository(db)
    questions = QuestionService(question_repository, people_repository, people, outbox, uow, clock)
    search = SearchService(SearchRepository(db), people_repository)
    questions_entrypoints.register(broker, questions, search)
    social = build_social(
        db,
        people_repository,
        post_repository,
        people,
        outbox,
        uow,
        clock,
        settings.sweep_interval_seconds,
    )
    kudos_entrypoints.register(broker, social.kudos)
    curation_entrypoints.register(broker, social.collections)
    gathering_entrypoints.register(broker, social.gatherings)
    experiment_entrypoints.register(broker, social.experiments)
    review_entrypoints.register(broker)
    register_health(broker, SERVICE, mongo)
    return Sharing(
        settings,
        broker,
        mongo,
        outbox,
        relay,
        people_repository,
        post_repository,
        people,
        posts,
        question_repository=question_repository,
        questions=questions,
        social=social,
        personal_data=personal_data,
        processed_erasures=processed_erasures,
        metrics=make_metrics_server(settings, broker, outbox),
    )


async def run(settings: SharingSettings | None = None) -> None:
    settings = settings or SharingSettings()
    configure_logging(SERVICE, settings.log_level)
    configure_tracing(SERVICE)
    sharing = bootstrap(settings)
    await serve_until_stopped(
        sharing.start, sharing.stop, SERVICE, stop_timeout=settings.shutdown_timeout_seconds
    )


def asyncapi() -> AsyncAPI:
    return asyncapi_document(bootstrap().broker, "Flowlearn sharing")
