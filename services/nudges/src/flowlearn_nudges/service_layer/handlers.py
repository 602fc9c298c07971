"""Reactions to events from the journal, the people directory and sharing. Each runs inside
``ProcessedEvents.apply_once``: one transaction, applied once per event whatever the
redeliveries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from flowlearn_shared.consumer import ProcessedEvents
from flowlearn_shared.contracts.nudges import AckAction
from flowlearn_shared.events import (
    Event,
    JournalEntryCreated,
    PostCreated,
    ProfileUpdated,
    TeamMemberAdded,
    TeamMemberRemoved,
)
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.nudge_repository import NudgeRepository
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.adapters.repository import ActivityRepository
from flowlearn_nudges.domain.nudge import InvalidTransition, NudgeNotFound, acknowledge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_nudges.service_layer.planner import Planner
from flowlearn_nudges.service_layer.rule_engine import RuleEngine

Clock = Callable[[], datetime]
Reaction = Callable[[Event, AsyncClientSession], Awaitable[None]]


class Reactions:
    def __init__(
        self,
        activity: ActivityRepository,
        nudges: NudgeRepository,
        people: PeopleRepository,
        planner: Planner,
        rules: RuleEngine,
        clock: Clock,
    ) -> None:
        self.activity = activity
        self.nudges = nudges
        self.people = people
        self.planner = planner
        self.rules = rules
        self.clock = clock

    async def on_journal(self, event: Event, session: AsyncClientSession) -> None:
        if isinstance(event, JournalEntryCreated):
            facts = event.data
            await self.activity.record_entry(facts.owner_id, facts.occurred_on, event.time, session)
            if await self.people.ensure(facts.owner_id, PersonSchedule(), session):
                await self.planner.first_sight(
                    await self.people.get(facts.owner_id, session), session
                )
            await self.planner.after_entry(facts.owner_id, session)
            if facts.nudge_id:
                await self.mark_acted(facts.owner_id, facts.nudge_id, session)
        await self.rules.apply(event, session)

    async def on_people(self, event: Event, session: AsyncClientSession) -> None:
        if isinstance(event, ProfileUpdated):
            facts = event.data
            quiet = facts.quiet_hours
            schedule = PersonSchedule.from_profile(
                facts.timezone,
                facts.working_hours.days,
                facts.working_hours.start,
                facts.working_hours.end,
                (quiet.start, quiet.end) if quiet else None,
            )
            if await self.people.apply_profile(facts.user_id, schedule, event.time, session):
                await self.planner.replan(facts.user_id, session)
        elif isinstance(event, TeamMemberAdded | TeamMemberRemoved):
            membership = event.data
            await self.people.set_membership(
                membership.team_id,
                membership.user_id,
                membership.role,
                isinstance(event, TeamMemberAdded),
                event.time,
                session,
            )
        await self.rules.apply(event, session)

    async def on_sharing(self, event: Event, session: AsyncClientSession) -> None:
        if isinstance(event, PostCreated) and event.data.nudge_id:
            await self.mark_acted(event.data.author_id, event.data.nudge_id, session)
        await self.rules.apply(event, session)

    async def mark_acted(self, user_id: str, nudge_id: str, session: AsyncClientSession) -> None:
        """Only the person's own nudge, and only once it reached them; anything else is
        ignored (a stale or foreign id in a post must not fail the consumer)."""
        nudge = await self.nudges.get_for(user_id, nudge_id, session)
        if nudge is None:
            return
        person = await self.people.get(user_id, session)
        try:
            acted = acknowledge(nudge, AckAction.ACTED, self.clock(), person.schedule)
        except (NudgeNotFound, InvalidTransition):
            return
        if acted != nudge:
            await self.nudges.save(acted, session, expect_status=nudge.status)


def once(processed: ProcessedEvents, reaction: Reaction) -> Callable[[Event], Awaitable[None]]:
    """A consumer handler applying ``reaction`` once per event."""

    async def handle(event: Event) -> None:
        async def effect(session: AsyncClientSession) -> None:
            await reaction(event, session)

        await processed.apply_once(str(event.id), effect)

    return handle
