"""Gathering use cases: create, list, RSVP (waitlisted when full), cancel (the first on the
waitlist takes the seat), and publishing the end of each gathering exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

from flowlearn_shared.contracts.gatherings import (
    Attendees,
    CreateGatheringRequest,
    GatheringPage,
    GatheringPublic,
    GatheringRef,
    ListGatheringsRequest,
    MyRsvp,
    RsvpStatus,
)
from flowlearn_shared.contracts.people import PersonSummary
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import Actor, NotFound
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.gathering_repository import GatheringRepository
from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.domain import gatherings as rules
from flowlearn_sharing.domain.audience import Audience, Viewer
from flowlearn_sharing.domain.gatherings import Gathering
from flowlearn_sharing.service_layer.people import PeopleService
from flowlearn_sharing.service_layer.rule_errors import refusals

log = logging.getLogger("flowlearn.sharing.gatherings")
Clock = Callable[[], datetime]


class GatheringService:
    def __init__(
        self,
        gatherings: GatheringRepository,
        people: PeopleRepository,
        directory: PeopleService,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self.gatherings = gatherings
        self.people = people
        self.directory = directory
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def viewer(self, actor: Actor) -> Viewer:
        return await self.people.viewer(actor.user_id, actor.roles)

    async def _my_rsvp(self, rsvp: dict[str, Any] | None) -> MyRsvp | None:
        if rsvp is None:
            return None
        status = RsvpStatus(rsvp["status"])
        position = None
        if status == RsvpStatus.WAITLISTED:
            position = await self.gatherings.waitlist_position(rsvp["gathering_id"], rsvp["seq"])
        return MyRsvp(status=status, waitlist_position=position)

    async def present(self, viewer: Viewer, items: list[Gathering]) -> list[GatheringPublic]:
        names = await self.people.display_names({g.host_id for g in items})
        mine = await self.gatherings.rsvps_of(viewer.user_id, [g.id for g in items])
        now = self.clock()
        return [
            GatheringPublic(
                id=g.id,
                kind=g.kind,
                title=g.title,
                description=g.description,
                starts_at=g.starts_at,
                ends_at=g.ends_at,
                duration_minutes=g.duration_minutes,
                capacity=g.capacity,
                location=g.location,
                audience=str(g.audience),
                host=PersonSummary(user_id=g.host_id, display_name=names[g.host_id]),
                is_mine=g.host_id == viewer.user_id,
                going_count=g.going_count,
                waitlist_count=g.waitlist_count,
                my_rsvp=await self._my_rsvp(mine.get(g.id)),
                status=g.status(now),
                created_at=g.created_at,
            )
            for g in items
        ]

    async def create(self, request: CreateGatheringRequest) -> GatheringPublic:
        actor, data = request.actor, request.gathering
        await self.directory.ensure_profile(actor)
        viewer = await self.viewer(actor)
        with refusals():
            viewer.check_can_address(Audience.parse(data.audience))
            gathering = rules.new_gathering(str(uuid4()), actor.user_id, data, self.clock())

        async def work(session: AsyncClientSession) -> None:
            await self.gatherings.add(gathering, session)

        await self.uow.run(work)
        [public] = await self.present(viewer, [gathering])
        return public

    async def _visible(self, viewer: Viewer, gathering_id: str) -> Gathering:
        gathering = await self.gatherings.get(gathering_id)
        if gathering is None or not viewer.can_see(gathering.audience, gathering.host_id):
            raise NotFound("no such gathering")
        return gathering

    async def get(self, request: GatheringRef) -> GatheringPublic:
        viewer = await self.viewer(request.actor)
        [public] = await self.present(viewer, [await self._visible(viewer, request.gathering_id)])
        return public

    async def browse(self, request: ListGatheringsRequest) -> GatheringPage:
        viewer = await self.viewer(request.actor)
        with refusals():
            items, next_cursor = await self.gatherings.page(viewer, request.query, self.clock())
        return GatheringPage(items=await self.present(viewer, items), next_cursor=next_cursor)

    async def rsvp(self, request: GatheringRef) -> MyRsvp:
        """Asking again returns the place one has; it never takes a second one."""
        await self.directory.ensure_profile(request.actor)
        viewer = await self.viewer(request.actor)
        gathering = await self._visible(viewer, request.gathering_id)
        now = self.clock()
        with refusals():
            gathering.check_rsvp_open(now)

        async def work(session: AsyncClientSession) -> dict[str, Any]:
            current = await self.gatherings.rsvp_of(gathering.id, viewer.user_id, session)
            if current is not None:
                return current
            return await self.gatherings.take_place(gathering, viewer.user_id, now, session)

        rsvp = await self.uow.run(work)
        my = await self._my_rsvp(rsvp)
        assert my is not None
        return my

    async def cancel_rsvp(self, request: GatheringRef) -> None:
        viewer = await self.viewer(request.actor)
        gathering = await self._visible(viewer, request.gathering_id)
        with refusals():
            gathering.check_cancel_open(self.clock())

        async def work(session: AsyncClientSession) -> str | None:
            current = await self.gatherings.rsvp_of(gathering.id, viewer.user_id, session)
            if current is None:
                raise NotFound("you have not RSVPed to this gathering")
            promoted = await self.gatherings.give_up_place(current, session)
            return promoted["user_id"] if promoted else None

        promoted = await self.uow.run(work)
        if promoted:
            log.info("waitlisted person got a seat", extra={"gathering_id": gathering.id})

    async def attendees(self, request: GatheringRef) -> Attendees:
        viewer = await self.viewer(request.actor)
        gathering = await self._visible(viewer, request.gathering_id)
        going = await self.gatherings.attendees(gathering.id, RsvpStatus.GOING)
        waiting = await self.gatherings.attendees(gathering.id, RsvpStatus.WAITLISTED)
        names = await self.people.display_names(set(going) | set(waiting))
        return Attendees(
            going=[PersonSummary(user_id=u, display_name=names[u]) for u in going],
            waitlisted=[PersonSummary(user_id=u, display_name=names[u]) for u in waiting],
        )

    async def publish_ended(self) -> int:
        """Send ``gathering.ended`` for every gathering past its end, once. The flag and the
        event commit together, and a gathering another replica claimed first is skipped."""
        now, published = self.clock(), 0
        for gathering_id in await self.gatherings.ended_unpublished(now):

            async def work(session: AsyncClientSession, gathering_id: str = gathering_id) -> bool:
                gathering = await self.gatherings.claim_ended(gathering_id, now, session)
                if gathering is None:
                    return False
                going = await self.gatherings.attendees(gathering_id, RsvpStatus.GOING, session)
                await self.outbox.add(rules.ended_event(gathering, going, now), session)
                return True

            published += await self.uow.run(work)
        return published
