"""Turns an event into the nudges its rules ask for, inside the consumer's transaction."""

from __future__ import annotations

from typing import Any

from flowlearn_shared.events import Event
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.adapters.rule_repository import RuleRepository
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import Nudge, NudgeSpec, nudge_id
from flowlearn_nudges.domain.rules import (
    TEAM_TARGETS,
    Rule,
    Target,
    author_of,
    finalise_recipients,
    named_recipients,
)
from flowlearn_nudges.service_layer.planner import Planner


def context_of(data: dict[str, Any]) -> dict[str, str]:
    """Ids of what the event is about (``question_id``, ``gathering_id``...), for links.
    People's ids are left out: recipients need not learn who else was nudged."""
    people = {
        "user_id",
        "owner_id",
        "author_id",
        "asker_id",
        "answerer_id",
        "host_id",
        "from_id",
        "to_id",
    }
    return {
        name: value
        for name, value in data.items()
        if name.endswith("_id") and name not in people and isinstance(value, str)
    }


class RuleEngine:
    def __init__(self, rules: RuleRepository, people: PeopleRepository, planner: Planner) -> None:
        self.rules = rules
        self.people = people
        self.planner = planner

    async def apply(self, event: Event, session: AsyncClientSession) -> list[Nudge]:
        rules = await self.rules.for_event(str(event.type), session)
        if not rules:
            return []
        data = event.data.model_dump(mode="json")
        scheduled = []
        for rule in rules:
            if not rule.matches(data):
                continue
            for user_id in await self.recipients(rule, data, event.subject, session):
                spec = NudgeSpec(
                    id=nudge_id("rule", rule.id, str(event.id), user_id),
                    user_id=user_id,
                    type=rule.nudge,
                    wanted_at=event.time + rule.after,
                    origin=Origin.RULE,
                    message=rule.message,
                    context=context_of(data),
                    rule_id=rule.id,
                    event_id=str(event.id),
                )
                if nudge := await self.planner.schedule(spec, session):
                    scheduled.append(nudge)
        return scheduled

    async def recipients(
        self, rule: Rule, data: dict[str, Any], subject: str, session: AsyncClientSession
    ) -> list[str]:
        author = author_of(data, subject)
        if rule.to in TEAM_TARGETS:
            if author is None:
                return []
            found = await self.people.colleagues(
                author, leads_only=rule.to == Target.MANAGER, session=session
            )
        else:
            found = named_recipients(rule, data, subject)
        return finalise_recipients(rule, found, author)
