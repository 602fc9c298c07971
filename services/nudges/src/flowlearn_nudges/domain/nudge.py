"""A nudge's life: when it is due, whether it may go out now, and what a response does.

scheduled -> delivered -> opened -> acted | snoozed -> delivered again | dismissed
scheduled -> expired (type turned off, too late to be useful, or over the daily cap for
too long); failed is for channels that gave up.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

from flowlearn_shared.contracts.nudges import (
    AckAction,
    Channel,
    NudgePreferences,
    NudgeStatus,
    NudgeType,
    TypePreference,
)

from flowlearn_nudges.domain.catalogue import CATALOGUE, Origin, Timing
from flowlearn_nudges.domain.schedule import (
    PersonSchedule,
    next_allowed_moment,
    next_digest_moment,
    parse_clock,
    start_of_next_day,
)

PENDING = frozenset({NudgeStatus.SCHEDULED, NudgeStatus.SNOOZED})
# Statuses a person has seen (or should have): what the inbox lists by default.
REACHED = frozenset(
    {
        NudgeStatus.DELIVERED,
        NudgeStatus.OPENED,
        NudgeStatus.ACTED,
        NudgeStatus.SNOOZED,
        NudgeStatus.DISMISSED,
        NudgeStatus.FAILED,
    }
)
_NAMESPACE = uuid5(NAMESPACE_URL, "https://flowlearn.dev/nudges")


class NudgeNotFound(Exception):
    """No such nudge for this person (or not delivered yet, so not theirs to see)."""


class InvalidTransition(Exception):
    pass


def nudge_id(*parts: str) -> str:
    """A stable id from what the nudge is for, so a repeated trigger makes no second one."""
    return str(uuid5(_NAMESPACE, "\x1f".join(parts)))


@dataclass(frozen=True)
class Nudge:
    id: str
    user_id: str
    type: NudgeType
    message: str
    status: NudgeStatus
    origin: Origin
    timing: Timing
    wanted_at: datetime  # the moment its trigger asked for, before the person's hours
    due_at: datetime | None  # when it goes out; None once it is out or over
    expires_at: datetime | None
    created_at: datetime
    context: dict[str, str] = field(default_factory=dict)
    rule_id: str | None = None
    event_id: str | None = None
    channels: list[Channel] = field(default_factory=list)
    deliveries: dict[str, dict[str, object]] = field(default_factory=dict)
    counted_on: str | None = None  # the local day it counted against the daily cap
    delivered_at: datetime | None = None
    opened_at: datetime | None = None
    acted_at: datetime | None = None
    dismissed_at: datetime | None = None
    snoozed_until: datetime | None = None
    ended_reason: str | None = None

    @property
    def pending(self) -> bool:
        return self.status in PENDING


def type_preference(preferences: NudgePreferences, nudge_type: NudgeType) -> TypePreference:
    return preferences.types.get(nudge_type) or TypePreference()


def plan_due(
    wanted_at: datetime,
    now: datetime,
    schedule: PersonSchedule,
    preferences: NudgePreferences,
    timing: Timing,
) -> datetime:
    """When a nudge wanted at ``wanted_at`` goes out: within the person's hours and, with a
    digest, at the next digest time."""
    due = next_allowed_moment(max(wanted_at, now), schedule, working_hours=timing == Timing.WORKING)
    if preferences.digest.enabled:
        due = next_digest_moment(due, schedule, parse_clock(preferences.digest.at))
    return due


def expiry_of(nudge_type: NudgeType, wanted_at: datetime) -> datetime | None:
    expires_after = CATALOGUE[nudge_type].expires_after
    return None if expires_after is None else wanted_at + expires_after


@dataclass(frozen=True)
class NudgeSpec:
    """What a trigger asks for, before the person's hours and preferences are applied."""

    id: str
    user_id: str
    type: NudgeType
    wanted_at: datetime
    origin: Origin
    timing: Timing = Timing.WORKING
    message: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    rule_id: str | None = None
    event_id: str | None = None


def new_nudge(
    spec: NudgeSpec, now: datetime, schedule: PersonSchedule, preferences: NudgePreferences
) -> Nudge | None:
    """The scheduled nudge, or None when the person turned the type off or it is too late."""
    if not type_preference(preferences, spec.type).enabled:
        return None
    expires_at = expiry_of(spec.type, spec.wanted_at)
    if expires_at is not None and expires_at <= now:
        return None
    return Nudge(
        id=spec.id,
        user_id=spec.user_id,
        type=spec.type,
        message=spec.message or CATALOGUE[spec.type].message,
        status=NudgeStatus.SCHEDULED,
        origin=spec.origin,
        timing=spec.timing,
        wanted_at=spec.wanted_at,
        due_at=plan_due(spec.wanted_at, now, schedule, preferences, spec.timing),
        expires_at=expires_at,
        created_at=now,
        context=dict(spec.context),
        rule_id=spec.rule_id,
        event_id=spec.event_id,
    )


def retime(
    nudge: Nudge, now: datetime, schedule: PersonSchedule, preferences: NudgePreferences
) -> Nudge:
    """A pending nudge after the person's hours or preferences changed."""
    if not nudge.pending:
        return nudge
    if not type_preference(preferences, nudge.type).enabled:
        return end(nudge, NudgeStatus.EXPIRED, "turned off")
    if nudge.status == NudgeStatus.SNOOZED and nudge.snoozed_until is not None:
        due = next_allowed_moment(max(nudge.snoozed_until, now), schedule, working_hours=False)
    else:
        due = plan_due(nudge.wanted_at, now, schedule, preferences, nudge.timing)
    return replace(nudge, due_at=due)


@dataclass(frozen=True)
class Ready:
    pass


@dataclass(frozen=True)
class Defer:
    due_at: datetime


@dataclass(frozen=True)
class Drop:
    reason: str


Decision = Ready | Defer | Drop


def may_go_out(
    nudge: Nudge, now: datetime, schedule: PersonSchedule, preferences: NudgePreferences
) -> Decision:
    """Checked when the scheduler picks a due nudge up: things may have changed since."""
    if not type_preference(preferences, nudge.type).enabled:
        return Drop("turned off")
    snoozed = nudge.status == NudgeStatus.SNOOZED
    if not snoozed and nudge.expires_at is not None and now >= nudge.expires_at:
        return Drop("expired")
    # A digest time or a snooze is the person's own choice: only quiet hours hold it back.
    working = nudge.timing == Timing.WORKING and not snoozed and not preferences.digest.enabled
    if schedule.allows(now, working_hours=working):
        return Ready()
    if snoozed:
        return Defer(next_allowed_moment(now, schedule, working_hours=False))
    return Defer(plan_due(now, now, schedule, preferences, nudge.timing))


def over_cap(
    nudge: Nudge, now: datetime, schedule: PersonSchedule, preferences: NudgePreferences
) -> Decision:
    """The day's cap is reached: try again the next local day, unless that is too late."""
    due = plan_due(start_of_next_day(now, schedule), now, schedule, preferences, nudge.timing)
    if nudge.expires_at is not None and due >= nudge.expires_at:
        return Drop("over the daily cap")
    return Defer(due)


def deliver(nudge: Nudge, now: datetime, channels: list[Channel], counted_on: str) -> Nudge:
    """Out in the in-app inbox; other channels are left pending for their senders."""
    deliveries: dict[str, dict[str, object]] = {}
    for channel in channels:
        if channel == Channel.IN_APP:
            deliveries[channel] = {"status": "delivered", "at": now, "attempts": 1}
        else:
            deliveries[channel] = {"status": "pending", "at": None, "attempts": 0}
    return replace(
        nudge,
        status=NudgeStatus.DELIVERED,
        due_at=None,
        delivered_at=now,
        snoozed_until=None,
        channels=list(channels),
        deliveries=deliveries,
        counted_on=nudge.counted_on or counted_on,
    )


def end(nudge: Nudge, status: NudgeStatus, reason: str) -> Nudge:
    return replace(nudge, status=status, due_at=None, ended_reason=reason)


_ACK_FROM: dict[AckAction, frozenset[NudgeStatus]] = {
    AckAction.OPENED: frozenset({NudgeStatus.DELIVERED, NudgeStatus.SNOOZED}),
    AckAction.ACTED: frozenset(
        {NudgeStatus.DELIVERED, NudgeStatus.OPENED, NudgeStatus.SNOOZED, NudgeStatus.DISMISSED}
    ),
    AckAction.SNOOZED: frozenset({NudgeStatus.DELIVERED, NudgeStatus.OPENED, NudgeStatus.SNOOZED}),
    AckAction.DISMISSED: frozenset(
        {NudgeStatus.DELIVERED, NudgeStatus.OPENED, NudgeStatus.SNOOZED}
    ),
}


def acknowledge(
    nudge: Nudge,
    action: AckAction,
    now: datetime,
    schedule: PersonSchedule,
    minutes: int | None = None,
) -> Nudge:
    """The person's response. Repeating a response changes nothing; opening what was
    already acted on keeps it acted."""
    if nudge.delivered_at is None:
        raise NudgeNotFound(nudge.id)  # not out yet: the person cannot know it
    if action == AckAction.OPENED and nudge.status in (NudgeStatus.OPENED, NudgeStatus.ACTED):
        return nudge
    if action == AckAction.ACTED and nudge.status == NudgeStatus.ACTED:
        return nudge
    if action == AckAction.DISMISSED and nudge.status == NudgeStatus.DISMISSED:
        return nudge
    if nudge.status not in _ACK_FROM[action]:
        raise InvalidTransition(f"a nudge that is {nudge.status} cannot be {action}")
    if action == AckAction.OPENED:  # opening a snoozed nudge ends the snooze
        return replace(
            nudge,
            status=NudgeStatus.OPENED,
            opened_at=nudge.opened_at or now,
            due_at=None,
            snoozed_until=None,
        )
    if action == AckAction.ACTED:
        return replace(
            nudge,
            status=NudgeStatus.ACTED,
            acted_at=now,
            opened_at=nudge.opened_at or now,
            due_at=None,
            snoozed_until=None,
        )
    if action == AckAction.DISMISSED:
        return replace(
            nudge, status=NudgeStatus.DISMISSED, dismissed_at=now, due_at=None, snoozed_until=None
        )
    if minutes is None:
        raise InvalidTransition("snoozed needs minutes")
    until = now + timedelta(minutes=minutes)
    return replace(
        nudge,
        status=NudgeStatus.SNOOZED,
        snoozed_until=until,
        due_at=next_allowed_moment(until, schedule, working_hours=False),
    )
