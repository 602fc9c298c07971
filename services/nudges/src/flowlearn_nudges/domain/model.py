"""What the nudges service knows about a person, learned from events and their settings.

It never sees journal text: only that an entry was written, when, and for which nudge.
The inactivity rule ("no entry for N days -> one gentle reflect nudge") reads this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flowlearn_shared.contracts.nudges import NudgePreferences, NudgeType

from flowlearn_nudges.domain.catalogue import INACTIVITY_MESSAGE, Origin
from flowlearn_nudges.domain.nudge import NudgeSpec, nudge_id
from flowlearn_nudges.domain.recurrence import default_time
from flowlearn_nudges.domain.schedule import PersonSchedule, first_instant_at

DEFAULT_INACTIVITY_DAYS = 3


@dataclass(frozen=True)
class JournalActivity:
    user_id: str
    entries_written: int
    last_entry_on: date | None
    last_written_at: datetime | None = None

    def inactive_on(self, today: date, days: int = DEFAULT_INACTIVITY_DAYS) -> bool:
        if self.last_entry_on is None:
            return False  # someone who never journalled gets onboarding, not a reminder
        return today - self.last_entry_on >= timedelta(days=days)


@dataclass(frozen=True)
class Person:
    user_id: str
    schedule: PersonSchedule = field(default_factory=PersonSchedule)
    preferences: NudgePreferences = field(default_factory=NudgePreferences)
    # Per type, the local day its RRULE was set: the rule counts from there.
    rrule_since: dict[str, date] = field(default_factory=dict)


def inactivity_nudge(activity: JournalActivity, person: Person) -> NudgeSpec | None:
    """One gentle reflect, at the end of the working day N days after the last entry was
    written. Its id is tied to that entry, so it is not repeated until a new one."""
    if activity.last_written_at is None:
        return None
    schedule = person.schedule
    days = person.preferences.inactivity_days
    day = schedule.local_date(activity.last_written_at) + timedelta(days=days)
    wanted = first_instant_at(
        datetime.combine(day, default_time(NudgeType.REFLECT, schedule)), schedule.tz
    )
    return NudgeSpec(
        id=nudge_id("inactivity", person.user_id, activity.last_written_at.isoformat()),
        user_id=person.user_id,
        type=NudgeType.REFLECT,
        wanted_at=wanted,
        origin=Origin.INACTIVITY,
        message=INACTIVITY_MESSAGE,
    )
