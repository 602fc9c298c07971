"""What a person does with their nudges over the API: preferences, inbox, responses.
Everything is scoped to the caller: another person's nudge does not exist for them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flowlearn_shared.contracts.nudges import (
    AckRequest,
    ChannelDelivery,
    InboxRequest,
    NudgePage,
    NudgePreferences,
    NudgePublic,
    NudgeType,
    PreferencesRequest,
    TypePreference,
    UpdatePreferencesRequest,
)
from flowlearn_shared.rpc import Actor, Conflict, InvalidInput, NotFound
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.nudge_repository import InvalidCursor, NudgeRepository
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.domain.model import Person
from flowlearn_nudges.domain.nudge import InvalidTransition, Nudge, NudgeNotFound, acknowledge
from flowlearn_nudges.domain.recurrence import InvalidRecurrence, normalise_rrule
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_nudges.service_layer.destinations import Destinations, public_preferences
from flowlearn_nudges.service_layer.planner import Planner

Clock = Callable[[], datetime]


def nudge_public(nudge: Nudge) -> NudgePublic:
    deliveries: dict[Any, ChannelDelivery] = {
        channel: ChannelDelivery.model_validate(state)
        for channel, state in nudge.deliveries.items()
    }
    return NudgePublic(
        id=nudge.id,
        type=nudge.type,
        message=nudge.message,
        status=nudge.status,
        due_at=nudge.due_at,
        delivered_at=nudge.delivered_at,
        opened_at=nudge.opened_at,
        acted_at=nudge.acted_at,
        dismissed_at=nudge.dismissed_at,
        snoozed_until=nudge.snoozed_until,
        expires_at=nudge.expires_at,
        channels=nudge.channels,
        deliveries=deliveries,
        context=nudge.context,
        created_at=nudge.created_at,
    )


def with_every_type(preferences: NudgePreferences) -> NudgePreferences:
    """Preferences as shown: every type listed, the ones never set at their defaults."""
    types = {t: preferences.types.get(t) or TypePreference() for t in NudgeType}
    return preferences.model_copy(update={"types": types})


class NudgesApi:
    def __init__(
        self,
        nudges: NudgeRepository,
        people: PeopleRepository,
        planner: Planner,
        uow: UnitOfWork,
        clock: Clock,
        *,
        destinations: Destinations,
    ) -> None:
        self.nudges = nudges
        self.people = people
        self.planner = planner
        self.uow = uow
        self.clock = clock
        self.destinations = destinations

    async def _person(self, actor: Actor) -> Person:
        """A person first met through the API gets their token's time zone until their
        profile says otherwise, and their recurring nudges."""
        if not await self.people.known(actor.user_id):

            async def work(session: AsyncClientSession) -> None:
                schedule = PersonSchedule.from_profile(
                    actor.timezone, [1, 2, 3, 4, 5], "09:00", "17:00"
                )
                if await self.people.ensure(actor.user_id, schedule, session):
                    await self.planner.first_sight(
                        await self.people.get(actor.user_id, session), session
                    )

            await self.uow.run(work)
        return await self.people.get(actor.user_id)

    async def get_preferences(self, request: PreferencesRequest) -> NudgePreferences:
        preferences = (await self._person(request.actor)).preferences
        return with_every_type(public_preferences(preferences))

    async def update_preferences(self, request: UpdatePreferencesRequest) -> NudgePreferences:
        person = await self._person(request.actor)
        # Destinations are checked (and the webhook secret kept) before anything is saved.
        preferences = await self.destinations.prepare(person.preferences, request.preferences)
        types: dict[Any, TypePreference] = {}
        errors = []
        since = dict(person.rrule_since)
        today = person.schedule.local_date(self.clock())
        for nudge_type, preference in preferences.types.items():
            if preference.rrule is None:
                since.pop(nudge_type, None)
                types[nudge_type] = preference
                continue
            try:
                rule = normalise_rrule(preference.rrule)
            except InvalidRecurrence as exc:
                loc = ["preferences", "types", str(nudge_type), "rrule"]
                errors.append({"loc": loc, "msg": str(exc), "type": "value_error"})
                continue
            old = person.preferences.types.get(nudge_type)
            if old is None or old.rrule != rule or nudge_type not in since:
                since[nudge_type] = today  # a changed rule counts from today
            types[nudge_type] = preference.model_copy(update={"rrule": rule})
        if errors:
            raise InvalidInput("a schedule is not a valid RRULE", errors)
        saved = preferences.model_copy(update={"types": types})
        since_days: dict[str, date] = {str(k): v for k, v in since.items()}

        async def work(session: AsyncClientSession) -> None:
            await self.people.save_preferences(request.actor.user_id, saved, since_days, session)
            await self.planner.replan(request.actor.user_id, session)

        await self.uow.run(work)
        return with_every_type(public_preferences(saved))

    async def inbox(self, request: InboxRequest) -> NudgePage:
        query = request.query
        try:
            items, next_cursor = await self.nudges.inbox(
                request.actor.user_id, query.status, query.cursor, query.limit
            )
        except InvalidCursor as exc:
            loc = ["query", "cursor"]
            error = {"loc": loc, "msg": str(exc), "type": "value_error"}
            raise InvalidInput(str(exc), [error]) from None
        return NudgePage(items=[nudge_public(n) for n in items], next_cursor=next_cursor)

    async def ack(self, request: AckRequest) -> NudgePublic:
        user_id, ack = request.actor.user_id, request.ack
        result: Nudge | None = None

        async def work(session: AsyncClientSession) -> None:
            nonlocal result
            nudge = await self.nudges.get_for(user_id, request.nudge_id, session)
            if nudge is None:
                raise NudgeNotFound(request.nudge_id)
            person = await self.people.get(user_id, session)
            changed = acknowledge(nudge, ack.action, self.clock(), person.schedule, ack.minutes)
            if changed != nudge and not await self.nudges.save(
                changed, session, expect_status=nudge.status
            ):
                raise InvalidTransition("the nudge changed meanwhile; try again")
            result = changed

        try:
            await self.uow.run(work)
        except NudgeNotFound:
            raise NotFound("no such nudge") from None
        except InvalidTransition as exc:
            raise Conflict(str(exc)) from None
        assert result is not None
        return nudge_public(result)
