"""People use cases: profiles (created on first sight of a token), teams and communities."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

from flowlearn_shared.contracts.people import (
    ActorRequest,
    AddTeamMemberRequest,
    CommunityList,
    CommunityPublic,
    CommunityRef,
    CreateCommunityRequest,
    CreateTeamRequest,
    ProfilePublic,
    RemoveTeamMemberRequest,
    TeamList,
    TeamMember,
    TeamPublic,
    TeamRef,
    TeamRole,
    UpdateProfileRequest,
)
from flowlearn_shared.contracts.posts import normalise_tags
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import Actor, Forbidden, NotFound
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.people_repository import PeopleRepository, ProfileExists
from flowlearn_sharing.domain import people
from flowlearn_sharing.domain.people import Profile, Team

Clock = Callable[[], datetime]


def profile_public(profile: Profile) -> ProfilePublic:
    return ProfilePublic(
        user_id=profile.user_id,
        display_name=profile.display_name,
        timezone=profile.timezone,
        working_hours=profile.working_hours,
        quiet_hours=profile.quiet_hours,
        roles=profile.roles,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


def community_public(doc: dict[str, Any], member_of: set[str]) -> CommunityPublic:
    return CommunityPublic(
        id=doc["_id"],
        name=doc["name"],
        description=doc.get("description", ""),
        tags=list(doc.get("tags", [])),
        member_count=int(doc.get("member_count", 0)),
        is_member=doc["_id"] in member_of,
        created_at=doc["created_at"],
    )


class PeopleService:
    def __init__(
        self, repository: PeopleRepository, outbox: Outbox, uow: UnitOfWork, clock: Clock
    ) -> None:
        self.repository = repository
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def ensure_profile(self, actor: Actor) -> Profile:
        """The first request of a new token subject creates the profile from its claims."""
        existing = await self.repository.get_profile(actor.user_id)
        if existing is not None:
            return existing
        profile = people.new_profile(
            actor.user_id, actor.name, actor.timezone, actor.roles, self.clock()
        )

        async def work(session: AsyncClientSession) -> None:
            if await self.repository.add_profile(profile, session):
                for event in profile.events:
                    await self.outbox.add(event, session)

        # Two first requests at once: the other one created it.
        with contextlib.suppress(ProfileExists):
            await self.uow.run(work)
        return await self.repository.get_profile(actor.user_id) or profile

    async def me(self, request: ActorRequest) -> ProfilePublic:
        return profile_public(await self.ensure_profile(request.actor))

    async def update_me(self, request: UpdateProfileRequest) -> ProfilePublic:
        current = await self.ensure_profile(request.actor)
        updated = people.update_profile(current, request.changes, self.clock())

        async def work(session: AsyncClientSession) -> None:
            await self.repository.save_profile(updated, session)
            for event in updated.events:
                await self.outbox.add(event, session)

        await self.uow.run(work)
        return profile_public(updated)

    async def _team_public(self, team: Team) -> TeamPublic:
        names = await self.repository.display_names(set(team.members))
        members = [
            TeamMember(user_id=uid, display_name=names[uid], role=role)
            for uid, role in sorted(team.members.items())
        ]
        return TeamPublic(id=team.id, name=team.name, members=members, created_at=team.created_at)

    async def create_team(self, request: CreateTeamRequest) -> TeamPublic:
        actor = request.actor
        try:
            people.check_can_create_team(actor.roles)
        except people.NotAllowed as exc:
            raise Forbidden(str(exc)) from exc
        await self.ensure_profile(actor)
        now = self.clock()
        # The creator leads the new team, so they can add its members.
        team = Team(
            str(uuid4()), request.team.name, {actor.user_id: TeamRole.LEAD}, actor.user_id, now
        )

        async def work(session: AsyncClientSession) -> None:
            await self.repository.add_team(team, session)
            event = people.membership_event(
                team, actor.user_id, TeamRole.LEAD, actor.user_id, now, True
            )
            await self.outbox.add(event, session)

        await self.uow.run(work)
        return await self._team_public(team)

    async def _managed_team(self, actor: Actor, team_id: str) -> Team:
        team = await self.repository.get_team(team_id)
        # As for reading the roster: outsiders are not told the team exists.
        if team is None or not (team.is_member(actor.user_id) or "admin" in actor.roles):
            raise NotFound("no such team")
        try:
            people.check_can_manage_members(team, actor.user_id, actor.roles)
        except people.NotAllowed as exc:
            raise Forbidden(str(exc)) from exc
        return team

    async def add_member(self, request: AddTeamMemberRequest) -> TeamPublic:
        team = await self._managed_team(request.actor, request.team_id)
        member, now = request.member, self.clock()

        async def work(session: AsyncClientSession) -> None:
            await self.repository.set_member(team.id, member.user_id, member.role, session)
            event = people.membership_event(
                team, member.user_id, member.role, request.actor.user_id, now, True
            )
            await self.outbox.add(event, session)

        await self.uow.run(work)
        return await self.get_team(TeamRef(actor=request.actor, team_id=team.id))

    async def remove_member(self, request: RemoveTeamMemberRequest) -> TeamPublic:
        team = await self._managed_team(request.actor, request.team_id)
        role = team.members.get(request.user_id)
        if role is None:
            raise NotFound("not a member of this team")
        now = self.clock()

        async def work(session: AsyncClientSession) -> None:
            await self.repository.remove_member(team.id, request.user_id, session)
            event = people.membership_event(
                team, request.user_id, role, request.actor.user_id, now, False
            )
            await self.outbox.add(event, session)

        await self.uow.run(work)
        return await self.get_team(TeamRef(actor=request.actor, team_id=team.id))

    async def get_team(self, request: TeamRef) -> TeamPublic:
        team = await self.repository.get_team(request.team_id)
        # A team's roster is for its members and admins; others are told it does not exist.
        if team is None or not (
            team.is_member(request.actor.user_id) or "admin" in request.actor.roles
        ):
            raise NotFound("no such team")
        return await self._team_public(team)

    async def my_teams(self, request: ActorRequest) -> TeamList:
        teams = await self.repository.teams_of(request.actor.user_id)
        return TeamList(items=[await self._team_public(t) for t in teams])

    async def create_community(self, request: CreateCommunityRequest) -> CommunityPublic:
        actor, data = request.actor, request.community
        await self.ensure_profile(actor)
        community_id = str(uuid4())
        doc: dict[str, Any] = {
            "_id": community_id,
            "name": data.name,
            "description": data.description,
            "tags": normalise_tags(data.tags),
            "member_count": 0,
            "created_by": actor.user_id,
            "created_at": self.clock(),
        }

        async def work(session: AsyncClientSession) -> None:
            await self.repository.add_community(doc, session)
            await self._join(doc, actor.user_id, session)

        await self.uow.run(work)
        return community_public({**doc, "member_count": 1}, {community_id})

    async def list_communities(self, request: ActorRequest) -> CommunityList:
        mine = await self.repository.community_ids_of(request.actor.user_id)
        docs = await self.repository.list_communities()
        return CommunityList(items=[community_public(d, mine) for d in docs])

    async def _join(
        self, community: dict[str, Any], user_id: str, session: AsyncClientSession
    ) -> None:
        now = self.clock()
        if await self.repository.join(community["_id"], user_id, now, session):
            await self.outbox.add(people.community_event(community, user_id, now, True), session)

    async def join_community(self, request: CommunityRef) -> CommunityPublic:
        community = await self.repository.get_community(request.community_id)
        if community is None:
            raise NotFound("no such community")
        await self.ensure_profile(request.actor)

        async def work(session: AsyncClientSession) -> None:
            await self._join(community, request.actor.user_id, session)

        await self.uow.run(work)
        return await self._community(request)

    async def leave_community(self, request: CommunityRef) -> CommunityPublic:
        community = await self.repository.get_community(request.community_id)
        if community is None:
            raise NotFound("no such community")
        user_id = request.actor.user_id

        async def work(session: AsyncClientSession) -> None:
            if await self.repository.leave(community["_id"], user_id, session):
                event = people.community_event(community, user_id, self.clock(), False)
                await self.outbox.add(event, session)

        await self.uow.run(work)
        return await self._community(request)

    async def _community(self, request: CommunityRef) -> CommunityPublic:
        doc = await self.repository.get_community(request.community_id)
        if doc is None:
            raise NotFound("no such community")
        mine = await self.repository.community_ids_of(request.actor.user_id)
        return community_public(doc, mine)
