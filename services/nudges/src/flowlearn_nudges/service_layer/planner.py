"""Putting nudges on a person's calendar: from a trigger, from their recurring types, and
anew when their hours or preferences change. Every method runs inside the caller's
transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flowlearn_shared.contracts.nudges import NudgeType
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.nudge_repository import NEVER, NudgeRepository
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.adapters.repository import ActivityRepository
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.model import Person, inactivity_nudge
from flowlearn_nudges.domain.nudge import (
    Nudge,
    NudgeSpec,
    new_nudge,
    nudge_id,
    retime,
    type_preference,
)
from flowlearn_nudges.domain.recurrence import next_occurrence, recurrence_for

Clock = Callable[[], datetime]
# Planned from the person's settings and activity, so re-planned from scratch.
DERIVED = [Origin.RECURRING, Origin.INACTIVITY]


class Planner:
    def __init__(
        self,
        nudges: NudgeRepository,
        people: PeopleRepository,
        activity: ActivityRepository,
        clock: Clock,
    ) -> None:
        self.nudges = nudges
        self.people = people
        self.activity = activity
        self.clock = clock

    async def schedule(
        self, spec: NudgeSpec, session: AsyncClientSession, person: Person | None = None
    ) -> Nudge | None:
        """Schedule ``spec`` for its person; None when they turned the type off, it is
        too late to be useful, or it was scheduled before (same id)."""
        if person is None:
            # The caller has not read the person in this transaction: see PeopleRepository.lock.
            await self.people.lock(spec.user_id, session)
            person = await self.people.get(spec.user_id, session)
        nudge = new_nudge(spec, self.clock(), person.schedule, person.preferences)
        if nudge is None or not await self.nudges.add(nudge, session):
            return None
        return nudge

    async def plan_recurring(
        self,
        person: Person,
        nudge_type: NudgeType,
        after: datetime,
        session: AsyncClientSession,
    ) -> Nudge | None:
        """The next occurrence of a recurring type after ``after``, if it recurs."""
        preference = type_preference(person.preferences, nudge_type)
        recurrence = recurrence_for(
            nudge_type, preference, person.schedule, person.rrule_since.get(nudge_type)
        )
        if recurrence is None:
            return None
        occurrence = next_occurrence(recurrence, nudge_type, person.schedule, after)
        if occurrence is None:
            return None
        spec = NudgeSpec(
            id=nudge_id("recurring", person.user_id, nudge_type, occurrence.isoformat()),
            user_id=person.user_id,
            type=nudge_type,
            wanted_at=occurrence,
            origin=Origin.RECURRING,
            timing=recurrence.timing,
        )
        return await self.schedule(spec, session, person)

    async def plan_inactivity(self, person: Person, session: AsyncClientSession) -> None:
        activity = await self.activity.get(person.user_id, session)
        spec = inactivity_nudge(activity, person) if activity else None
        if spec is not None:
            await self.schedule(spec, session, person)

    async def replan(self, user_id: str, session: AsyncClientSession) -> None:
        """After the person's hours or preferences changed: derived nudges are planned
        again from scratch, the others keep their trigger's moment and are re-timed."""
        await self.people.lock(user_id, session)
        person = await self.people.get(user_id, session)
        now = self.clock()
        # Those already due are left to the scheduler, which may be delivering them now.
        await self.nudges.remove_scheduled(user_id, DERIVED, now, session)
        for nudge in await self.nudges.pending_of(user_id, session):
            changed = retime(nudge, now, person.schedule, person.preferences)
            if changed != nudge:
                await self.nudges.save(changed, session, expect_status=nudge.status)
        for nudge_type in NudgeType:
            await self.plan_recurring(person, nudge_type, now, session)
        await self.plan_inactivity(person, session)

    async def after_entry(self, user_id: str, session: AsyncClientSession) -> None:
        """A new journal entry: the inactivity reminder moves to N days from now."""
        await self.people.lock(user_id, session)
        person = await self.people.get(user_id, session)
        # Even one due this minute: the entry makes it moot.
        await self.nudges.remove_scheduled(user_id, [Origin.INACTIVITY], NEVER, session)
        await self.plan_inactivity(person, session)

    async def first_sight(self, person: Person, session: AsyncClientSession) -> None:
        await self.people.lock(person.user_id, session)
        for nudge_type in NudgeType:
            await self.plan_recurring(person, nudge_type, self.clock(), session)
