"""Kudos use cases: give one, read one, list the received or given ones the caller may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from flowlearn_shared.contracts.kudos import (
    GiveKudosRequest,
    KudosPage,
    KudosPublic,
    KudosRef,
    ListKudosRequest,
)
from flowlearn_shared.contracts.people import PersonSummary
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import InvalidInput, NotFound
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.kudos_repository import KudosRepository
from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.domain import kudos as rules
from flowlearn_sharing.domain.kudos import Kudos
from flowlearn_sharing.service_layer.people import PeopleService
from flowlearn_sharing.service_layer.rule_errors import refusals

Clock = Callable[[], datetime]


class KudosService:
    def __init__(
        self,
        kudos: KudosRepository,
        people: PeopleRepository,
        directory: PeopleService,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self.kudos = kudos
        self.people = people
        self.directory = directory
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def present(self, items: list[Kudos]) -> list[KudosPublic]:
        names = await self.people.display_names(
            {k.from_id for k in items} | {k.to_id for k in items}
        )
        return [
            KudosPublic(
                id=k.id,
                sender=PersonSummary(user_id=k.from_id, display_name=names[k.from_id]),
                recipient=PersonSummary(user_id=k.to_id, display_name=names[k.to_id]),
                message=k.message,
                strengths=k.strengths,
                visibility=k.visibility,
                created_at=k.created_at,
            )
            for k in items
        ]

    async def give(self, request: GiveKudosRequest) -> KudosPublic:
        await self.directory.ensure_profile(request.actor)
        recipient_teams = {t.id for t in await self.people.teams_of(request.kudos.to)}
        with refusals():
            kudos = rules.give_kudos(
                str(uuid4()), request.actor.user_id, request.kudos, recipient_teams, self.clock()
            )

        async def work(session: AsyncClientSession) -> None:
            await self.kudos.add(kudos, session)
            for event in kudos.events:
                await self.outbox.add(event, session)

        await self.uow.run(work)
        [public] = await self.present([kudos])
        return public

    async def get(self, request: KudosRef) -> KudosPublic:
        viewer = await self.people.viewer(request.actor.user_id, request.actor.roles)
        kudos = await self.kudos.get(request.kudos_id)
        if kudos is None or not kudos.can_see(viewer):
            raise NotFound("no such kudos")
        [public] = await self.present([kudos])
        return public

    async def browse(self, request: ListKudosRequest) -> KudosPage:
        actor, query = request.actor, request.query
        owner = query.user or actor.user_id
        if query.box == "given" and owner != actor.user_id:
            raise InvalidInput(
                "only your own given kudos can be listed",
                [{"loc": ["user"], "msg": "leave out for box=given", "type": "value_error"}],
            )
        viewer = await self.people.viewer(actor.user_id, actor.roles)
        with refusals():
            items, next_cursor = await self.kudos.page(viewer, query, owner)
        return KudosPage(items=await self.present(items), next_cursor=next_cursor)
