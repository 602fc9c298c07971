"""Three Ps experiment use cases. An experiment is seen by its team's members (and its
owner); anyone else is told it does not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from flowlearn_shared.contracts.experiments import (
    ChangeStageRequest,
    CreateExperimentRequest,
    ExperimentPage,
    ExperimentPublic,
    ExperimentRef,
    ListExperimentsRequest,
    StageRecord,
)
from flowlearn_shared.contracts.people import PersonSummary
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import Actor, Conflict, NotFound
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.experiment_repository import ExperimentRepository
from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.domain import experiments as rules
from flowlearn_sharing.domain.audience import Viewer
from flowlearn_sharing.domain.experiments import Experiment
from flowlearn_sharing.service_layer.people import PeopleService
from flowlearn_sharing.service_layer.rule_errors import refusals

Clock = Callable[[], datetime]


class ExperimentService:
    def __init__(
        self,
        experiments: ExperimentRepository,
        people: PeopleRepository,
        directory: PeopleService,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self.experiments = experiments
        self.people = people
        self.directory = directory
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def viewer(self, actor: Actor) -> Viewer:
        return await self.people.viewer(actor.user_id, actor.roles)

    async def present(self, viewer: Viewer, items: list[Experiment]) -> list[ExperimentPublic]:
        names = await self.people.display_names({e.owner_id for e in items})
        return [
            ExperimentPublic(
                id=e.id,
                team_id=e.team_id,
                title=e.title,
                pitch=e.pitch,
                stage=e.stage,
                owner=PersonSummary(user_id=e.owner_id, display_name=names[e.owner_id]),
                is_mine=e.owner_id == viewer.user_id,
                history=[
                    StageRecord(
                        from_stage=s.from_stage, to_stage=s.to_stage, learned=s.learned, at=s.at
                    )
                    for s in e.history
                ],
                version=e.version,
                created_at=e.created_at,
                updated_at=e.updated_at,
            )
            for e in items
        ]

    async def _store(self, experiment: Experiment, expected_version: int | None) -> None:
        async def work(session: AsyncClientSession) -> None:
            if expected_version is None:
                await self.experiments.add(experiment, session)
            elif not await self.experiments.replace_if_version(
                experiment, expected_version, session
            ):
                raise Conflict("the experiment changed meanwhile; read it and retry")
            for event in experiment.events:
                await self.outbox.add(event, session)

        await self.uow.run(work)

    async def create(self, request: CreateExperimentRequest) -> ExperimentPublic:
        await self.directory.ensure_profile(request.actor)
        viewer = await self.viewer(request.actor)
        with refusals():
            experiment = rules.pitch(str(uuid4()), viewer, request.experiment, self.clock())
        await self._store(experiment, None)
        [public] = await self.present(viewer, [experiment])
        return public

    async def _visible(self, viewer: Viewer, experiment_id: str) -> Experiment:
        experiment = await self.experiments.get(experiment_id)
        if experiment is None or not experiment.can_see(viewer):
            raise NotFound("no such experiment")
        return experiment

    async def get(self, request: ExperimentRef) -> ExperimentPublic:
        viewer = await self.viewer(request.actor)
        [public] = await self.present(viewer, [await self._visible(viewer, request.experiment_id)])
        return public

    async def browse(self, request: ListExperimentsRequest) -> ExperimentPage:
        viewer = await self.viewer(request.actor)
        with refusals():
            items, next_cursor = await self.experiments.page(viewer, request.query)
        return ExperimentPage(items=await self.present(viewer, items), next_cursor=next_cursor)

    async def change_stage(self, request: ChangeStageRequest) -> ExperimentPublic:
        viewer = await self.viewer(request.actor)
        experiment = await self._visible(viewer, request.experiment_id)
        with refusals():
            moved = rules.change_stage(experiment, viewer.user_id, request.change, self.clock())
        await self._store(moved, experiment.version)
        [public] = await self.present(viewer, [moved])
        return public
