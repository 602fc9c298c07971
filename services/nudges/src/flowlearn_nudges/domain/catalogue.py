"""The nudge types: default wording, how long each stays useful, and which recur by default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flowlearn_shared.contracts.nudges import NudgeType


class Timing(StrEnum):
    """Which of the person's hours a nudge must respect."""

    # Working days and hours, outside quiet hours: the default for prompts.
    WORKING = "working"
    # Only outside quiet hours: a time the person chose (their RRULE, a snooze).
    OUTSIDE_QUIET = "outside_quiet"


class Origin(StrEnum):
    RULE = "rule"
    RECURRING = "recurring"
    INACTIVITY = "inactivity"
    CAMPAIGN = "campaign"


@dataclass(frozen=True)
class TypePolicy:
    message: str
    # After this long past its intended moment a nudge is dropped rather than deferred.
    # None: it stays useful until delivered.
    expires_after: timedelta | None
    # Recurs on its own (a clock-driven habit) unless the person turns it off.
    recurring: bool = False


CATALOGUE: dict[NudgeType, TypePolicy] = {
    NudgeType.LEARNING_HABIT: TypePolicy(
        "Time for your learning slot: 20 to 30 minutes on something you want to get better at.",
        timedelta(hours=12),
        recurring=True,
    ),
    NudgeType.REFLECT: TypePolicy(
        "What have you learned today?", timedelta(hours=20), recurring=True
    ),
    NudgeType.MISTAKE_MOMENT: TypePolicy(
        "Do you have five minutes? Note a mistake and what you learned from it.",
        timedelta(days=3),
    ),
    NudgeType.SPOT_STRENGTH: TypePolicy(
        'Recognise one person on your team today: "I see you at your best when..."',
        timedelta(days=7),
    ),
    NudgeType.THREE_PS: TypePolicy(
        "How is your experiment going? Pitch, Prototype or Pilot: which stage is it at now?",
        timedelta(days=7),
    ),
    NudgeType.MICRO_LEARNING: TypePolicy("Your next learning item is ready.", None),
    NudgeType.EVENT_FOLLOWUP: TypePolicy(
        "How was the session? Take two minutes to note what you took away from it.",
        timedelta(days=2),
    ),
    NudgeType.HELP_REQUEST: TypePolicy(
        "A colleague asked a question that matches your expertise. Can you help?",
        timedelta(days=2),
    ),
    NudgeType.CUSTOM: TypePolicy("A message from your team.", timedelta(days=7)),
}

INACTIVITY_MESSAGE = (
    "It has been a few days since your last journal entry. Anything from this week worth "
    "noting? Two lines are enough."
)


def default_message(nudge_type: NudgeType) -> str:
    return CATALOGUE[nudge_type].message


def recurring_types() -> list[NudgeType]:
    return [t for t, policy in CATALOGUE.items() if policy.recurring]
