"""Kudos, curated collections, gatherings, Three Ps experiments and review nudges: their
repositories and use cases built once, and the periodic sweep they need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowlearn_shared.outbox import Outbox
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters.curation_repository import CurationRepository
from flowlearn_sharing.adapters.experiment_repository import ExperimentRepository
from flowlearn_sharing.adapters.gathering_repository import GatheringRepository
from flowlearn_sharing.adapters.kudos_repository import KudosRepository
from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.adapters.post_repository import PostRepository
from flowlearn_sharing.adapters.review_repository import ReviewRepository
from flowlearn_sharing.service_layer.curation import CollectionService
from flowlearn_sharing.service_layer.experiments import ExperimentService
from flowlearn_sharing.service_layer.gatherings import GatheringService
from flowlearn_sharing.service_layer.kudos import KudosService
from flowlearn_sharing.service_layer.people import PeopleService
from flowlearn_sharing.service_layer.reviews import ReviewService
from flowlearn_sharing.service_layer.sweeper import Sweeper


@dataclass
class Social:
    kudos: KudosService
    collections: CollectionService
    gatherings: GatheringService
    experiments: ExperimentService
    reviews: ReviewService
    sweeper: Sweeper

    async def ensure_indexes(self) -> None:
        await self.kudos.kudos.ensure_indexes()
        await self.collections.collections.ensure_indexes()
        await self.gatherings.gatherings.ensure_indexes()
        await self.experiments.experiments.ensure_indexes()
        await self.reviews.reviews.ensure_indexes()

    def start(self) -> None:
        self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()


def build_social(
    db: AsyncDatabase[dict[str, Any]],
    people_repository: PeopleRepository,
    post_repository: PostRepository,
    people: PeopleService,
    outbox: Outbox,
    uow: UnitOfWork,
    clock: Callable[[], datetime],
    sweep_interval_seconds: float,
) -> Social:
    common = (people_repository, people, outbox, uow, clock)
    gatherings = GatheringService(GatheringRepository(db), *common)
    reviews = ReviewService(ReviewRepository(db), outbox, uow, clock)
    return Social(
        kudos=KudosService(KudosRepository(db), *common),
        collections=CollectionService(CurationRepository(db), post_repository, *common),
        gatherings=gatherings,
        experiments=ExperimentService(ExperimentRepository(db), *common),
        reviews=reviews,
        sweeper=Sweeper(
            {"gatherings_ended": gatherings.publish_ended, "reviews_due": reviews.publish_due},
            sweep_interval_seconds,
        ),
    )
