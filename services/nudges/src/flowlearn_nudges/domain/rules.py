"""Event-triggered rules: "when <event> happens (and its fields match), nudge <whom> with
<type> after <delay>". Stored in the database; the built-in defaults are seeded at start.

A rule names its recipients by role (``author``, ``asker``, ``attendees``, ``experts``,
``manager``, ``team``, ``participants``); each role is read from the event's payload by
field name, so a new event plugs in by a new rule as long as it names people the usual way
(``owner_id``, ``asker_id``, ``attendee_ids``, ``participants``...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from flowlearn_shared.contracts.nudges import NudgeType
from flowlearn_shared.subjects import EventSubject, work_subject


class Target(StrEnum):
    AUTHOR = "author"
    ASKER = "asker"
    ATTENDEES = "attendees"
    EXPERTS = "experts"
    MANAGER = "manager"  # the leads of the author's teams
    TEAM = "team"  # everyone else in the author's teams
    PARTICIPANTS = "participants"  # people a work event lists (an incident's responders...)


# Payload fields naming each role, in order of preference.
TARGET_FIELDS: dict[Target, tuple[str, ...]] = {
    Target.AUTHOR: ("author_id", "owner_id", "user_id", "host_id", "asker_id", "from_id"),
    Target.ASKER: ("asker_id",),
    Target.ATTENDEES: ("attendee_ids",),
    Target.EXPERTS: ("suggested_experts", "expert_ids"),
    Target.PARTICIPANTS: ("participants", "participant_ids"),
}
# Recipients drawn from the author's teams.
TEAM_TARGETS = frozenset({Target.MANAGER, Target.TEAM})
# Targets that help or recognise the author, who is never among them.
OTHERS_TARGETS = frozenset({Target.EXPERTS, Target.MANAGER, Target.TEAM})
# Journal events are private to their author: no rule may nudge anyone else about them.
PRIVATE_EVENT_PREFIX = "flow.journal."
MAX_RECIPIENTS = 200

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class InvalidRule(ValueError):
    pass


def parse_delay(value: str | int | float) -> timedelta:
    """Seconds, or an ISO-8601 duration without years and months (``PT2H``, ``P1D``)."""
    if isinstance(value, bool):
        raise InvalidRule("a delay is seconds or an ISO-8601 duration")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().upper()
        if text.replace(".", "", 1).isdigit():
            seconds = float(text)
        else:
            match = _DURATION.match(text)
            if match is None or text in ("P", "PT") or text.endswith("T"):
                raise InvalidRule(f"not an ISO-8601 duration: {value!r}")
            parts = {k: int(v) for k, v in match.groupdict().items() if v}
            seconds = timedelta(**parts).total_seconds()
    if seconds < 0 or seconds > timedelta(days=365).total_seconds():
        raise InvalidRule("a delay is between 0 and 365 days")
    return timedelta(seconds=seconds)


def format_delay(delay: timedelta) -> str:
    """An ISO-8601 duration, as people write them in rules."""
    seconds = int(delay.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return "PT0S" if text == "P" else text


@dataclass(frozen=True)
class Rule:
    id: str
    on: str  # the event type (its subject)
    nudge: NudgeType
    to: Target
    after: timedelta = timedelta(0)
    where: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None  # at most this many recipients, in the payload's order
    message: str | None = None
    enabled: bool = True
    builtin: bool = False

    def __post_init__(self) -> None:
        if self.on.startswith(PRIVATE_EVENT_PREFIX) and self.to != Target.AUTHOR:
            raise InvalidRule("a rule on a journal event may only nudge the entry's author")
        if self.limit is not None and self.limit < 1:
            raise InvalidRule("limit must be at least 1")

    def matches(self, data: Mapping[str, Any]) -> bool:
        if not self.enabled:
            return False
        if data.get("anonymous") is True and self.to in TEAM_TARGETS:
            return False  # nudging the author's team would tell them who wrote it
        return all(
            _condition_holds(lookup(data, path), expected) for path, expected in self.where.items()
        )


def lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _condition_holds(actual: Any, expected: Any) -> bool:
    """Equality; a list field holds when it contains the value; a list of expected values
    holds when any of them matches."""
    if isinstance(expected, list):
        return any(_condition_holds(actual, option) for option in expected)
    if isinstance(actual, list):
        return expected in actual
    return bool(actual == expected)


def _people(value: Any) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list):
        found: list[str] = []
        for item in value:
            if isinstance(item, Mapping):
                item = item.get("user_id")
            if isinstance(item, str) and item:
                found.append(item)
        return found
    return []


def author_of(data: Mapping[str, Any], subject: str | None = None) -> str | None:
    for name in TARGET_FIELDS[Target.AUTHOR]:
        if people := _people(data.get(name)):
            return people[0]
    return subject or None


def named_recipients(rule: Rule, data: Mapping[str, Any], subject: str | None) -> list[str]:
    """Recipients named in the payload itself (not for team-based targets)."""
    if rule.to == Target.AUTHOR:
        author = author_of(data, subject)
        return [author] if author else []
    for name in TARGET_FIELDS.get(rule.to, ()):
        if people := _people(data.get(name)):
            return people
    return []


def finalise_recipients(rule: Rule, recipients: list[str], author: str | None) -> list[str]:
    """Unique, in order, without the author (for others' targets) and within the limit."""
    unique = list(dict.fromkeys(recipients))
    if rule.to in OTHERS_TARGETS and author is not None:
        unique = [person for person in unique if person != author]
    return unique[: min(rule.limit or MAX_RECIPIENTS, MAX_RECIPIENTS)]


DEFAULT_RULES: list[Rule] = [
    Rule(
        id="builtin:answer-accepted-reflect",
        on=EventSubject.ANSWER_ACCEPTED,
        nudge=NudgeType.REFLECT,
        to=Target.ASKER,
        after=timedelta(hours=2),
        message="Your question got an answer you accepted. What did you learn from it?",
        builtin=True,
    ),
    Rule(
        id="builtin:gathering-ended-followup",
        on=EventSubject.GATHERING_ENDED,
        nudge=NudgeType.EVENT_FOLLOWUP,
        to=Target.ATTENDEES,
        after=timedelta(hours=1),
        builtin=True,
    ),
    Rule(
        id="builtin:mistake-share-lesson",
        on=EventSubject.JOURNAL_ENTRY_CREATED,
        where={"kind": "mistake"},
        nudge=NudgeType.MISTAKE_MOMENT,
        to=Target.AUTHOR,
        after=timedelta(days=1),
        message=(
            "Yesterday you noted a mistake and what it taught you. Would you share it as a "
            "lesson? You choose the audience, and you can share it anonymously."
        ),
        builtin=True,
    ),
    Rule(
        id="builtin:question-asked-help",
        on=EventSubject.QUESTION_ASKED,
        nudge=NudgeType.HELP_REQUEST,
        to=Target.EXPERTS,
        limit=3,
        builtin=True,
    ),
    Rule(
        id="builtin:experiment-stage-check-in",
        on=EventSubject.EXPERIMENT_STAGE_CHANGED,
        nudge=NudgeType.THREE_PS,
        to=Target.AUTHOR,
        after=timedelta(days=7),
        builtin=True,
    ),
    Rule(
        id="builtin:post-review-due",
        on=EventSubject.POST_REVIEW_DUE,
        nudge=NudgeType.CUSTOM,
        to=Target.AUTHOR,
        message="One of your posts is due for review. Is it still right? Update or confirm it.",
        builtin=True,
    ),
    Rule(
        id="builtin:collection-enrolled-first-item",
        on=EventSubject.COLLECTION_ENROLLED,
        nudge=NudgeType.MICRO_LEARNING,
        to=Target.AUTHOR,
        message="You enrolled in a collection. Its first item is ready for you.",
        builtin=True,
    ),
    # Work events from a hook source named "incident" (its secret configured on the gateway).
    Rule(
        id="builtin:incident-closed-reflect",
        on=work_subject("incident", "closed"),
        nudge=NudgeType.REFLECT,
        to=Target.PARTICIPANTS,
        message="The incident you worked on is closed. While it is fresh: what did you learn?",
        builtin=True,
    ),
]
