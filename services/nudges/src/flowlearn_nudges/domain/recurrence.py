"""Clock-driven nudges: iCalendar RRULEs read in the person's local time.

A person may give each type an RRULE (``FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=16;BYMINUTE=30``).
Types that recur by default (the learning habit, the end-of-day reflection) follow the
person's working days without one. Occurrences are wall-clock times, so "16:30" stays
16:30 across a daylight-saving change and after a move to another time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr
from flowlearn_shared.contracts.nudges import NudgeType, TypePreference

from flowlearn_nudges.domain.catalogue import CATALOGUE, Timing
from flowlearn_nudges.domain.schedule import PersonSchedule, first_instant_at

ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")
_ISO_DAYS = {1: "MO", 2: "TU", 3: "WE", 4: "TH", 5: "FR", 6: "SA", 7: "SU"}
_MAX_STEPS = 400  # occurrences inspected before giving up (e.g. a rule whose UNTIL passed)


class InvalidRecurrence(ValueError):
    pass


def normalise_rrule(text: str) -> str:
    """The rule in canonical form, or :class:`InvalidRecurrence` saying what is wrong."""
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    rule = rule.upper()
    if not rule or "\n" in rule or "DTSTART" in rule:
        raise InvalidRecurrence("give one RRULE line without DTSTART")
    parts = dict(part.partition("=")[::2] for part in rule.split(";") if part)
    if parts.get("FREQ") not in ALLOWED_FREQUENCIES:
        raise InvalidRecurrence(f"FREQ must be one of {', '.join(ALLOWED_FREQUENCIES)}")
    if "BYSECOND" in parts:
        raise InvalidRecurrence("BYSECOND is not supported")
    if "UNTIL" in parts and parts["UNTIL"].endswith("Z"):
        parts["UNTIL"] = parts["UNTIL"][:-1]  # read in local time like the rest of the rule
    rule = ";".join(f"{key}={value}" for key, value in parts.items())
    try:
        _parse(rule, datetime(2026, 1, 1, 9, 0))
    except (ValueError, TypeError) as exc:
        raise InvalidRecurrence(f"not a valid RRULE: {exc}") from None
    return rule


def _parse(rule: str, dtstart: datetime) -> Any:
    return rrulestr(rule, dtstart=dtstart, cache=False)


def default_time(nudge_type: NudgeType, schedule: PersonSchedule) -> time:
    """When a type arrives on its own: the habit an hour into the day, the reflection half an
    hour before the day ends, anything else at the start of the day."""
    start = datetime.combine(date.min, schedule.work_start)
    end = datetime.combine(date.min, schedule.work_end)
    if nudge_type == NudgeType.LEARNING_HABIT:
        moment = min(start + timedelta(hours=1), end - timedelta(minutes=1))
    elif nudge_type == NudgeType.REFLECT:
        moment = max(end - timedelta(minutes=30), start)
    else:
        moment = start
    return moment.time()


def default_rrule(nudge_type: NudgeType, schedule: PersonSchedule) -> str:
    at = default_time(nudge_type, schedule)
    days = ",".join(_ISO_DAYS[d] for d in sorted(schedule.working_days))
    return f"FREQ=WEEKLY;BYDAY={days};BYHOUR={at.hour};BYMINUTE={at.minute}"


@dataclass(frozen=True)
class Recurrence:
    rule: str
    # The first day the rule counts from (its DTSTART), so INTERVAL and COUNT are stable.
    # None for a rule without phase (weekly on fixed days): counted from a week back.
    since: date | None
    timing: Timing


def recurrence_for(
    nudge_type: NudgeType,
    preference: TypePreference,
    schedule: PersonSchedule,
    since: date | None,
) -> Recurrence | None:
    """How ``nudge_type`` recurs for this person, or None when it does not."""
    if not preference.enabled:
        return None
    if preference.rrule:
        # A time the person chose: only quiet hours move it.
        return Recurrence(preference.rrule, since, Timing.OUTSIDE_QUIET)
    if CATALOGUE[nudge_type].recurring:
        return Recurrence(default_rrule(nudge_type, schedule), None, Timing.WORKING)
    return None


def next_occurrence(
    recurrence: Recurrence,
    nudge_type: NudgeType,
    schedule: PersonSchedule,
    after: datetime,
) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC), or None when the rule ended."""
    # Start a little before: in a fall-back hour the wall clock reads earlier than it did.
    cursor = schedule.local(after) - timedelta(hours=3)
    since = recurrence.since or (cursor.date() - timedelta(days=7))
    rule = _parse(recurrence.rule, datetime.combine(since, default_time(nudge_type, schedule)))
    tz = schedule.tz
    for _ in range(_MAX_STEPS):
        wall = rule.after(cursor)
        if wall is None:
            return None
        instant = first_instant_at(wall, tz)
        if instant > after:
            return instant
        cursor = wall
    return None
