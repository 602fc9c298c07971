"""A person's hours and the next moment a nudge may reach them.

All reasoning happens on the local wall clock of the person's time zone; instants are UTC.
Daylight-saving transitions are handled explicitly:

- a local time that does not exist (inside a spring-forward gap) is reached at the end of
  the gap, the first instant the clock shows that time or later;
- a local time that occurs twice (fall-back) is the first of the two, unless that lies
  before the moment we start from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WORK_DAYS_DEFAULT = frozenset({1, 2, 3, 4, 5})
_DAY = timedelta(days=1)
_SEARCH_DAYS = 15  # working days repeat weekly; two weeks covers any gap


def parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # an unknown zone must not stop the person's nudges


@dataclass(frozen=True)
class PersonSchedule:
    timezone: str = "UTC"
    working_days: frozenset[int] = WORK_DAYS_DEFAULT  # ISO: 1 = Monday ... 7 = Sunday
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    quiet_start: time | None = None
    quiet_end: time | None = None

    @classmethod
    def from_profile(
        cls,
        timezone: str,
        days: Iterable[int],
        start: str,
        end: str,
        quiet: tuple[str, str] | None = None,
    ) -> PersonSchedule:
        work_days = frozenset(d for d in days if 1 <= d <= 7) or WORK_DAYS_DEFAULT
        work_start, work_end = parse_clock(start), parse_clock(end)
        if work_start >= work_end:
            work_start, work_end = time(9, 0), time(17, 0)
        quiet_start, quiet_end = (
            (parse_clock(quiet[0]), parse_clock(quiet[1])) if quiet else (None, None)
        )
        if quiet_start == quiet_end:
            quiet_start = quiet_end = None
        return cls(zone(timezone).key, work_days, work_start, work_end, quiet_start, quiet_end)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def local(self, instant: datetime) -> datetime:
        """The wall-clock reading (naive) at ``instant``."""
        return instant.astimezone(self.tz).replace(tzinfo=None)

    def local_date(self, instant: datetime) -> date:
        return self.local(instant).date()

    def is_quiet(self, wall: datetime) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        at = wall.time()
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= at < self.quiet_end
        return at >= self.quiet_start or at < self.quiet_end  # spans midnight

    def is_working(self, wall: datetime) -> bool:
        return (
            wall.isoweekday() in self.working_days
            and self.work_start <= wall.time() < self.work_end
        )

    def allows(self, instant: datetime, *, working_hours: bool = True) -> bool:
        wall = self.local(instant)
        if self.is_quiet(wall):
            return False
        return not working_hours or self.is_working(wall)

    def free_intervals(self, day: date, *, working_hours: bool) -> list[tuple[datetime, datetime]]:
        """Wall-clock intervals of ``day`` in which a nudge may arrive, in order."""
        midnight = datetime.combine(day, time())
        if working_hours:
            if day.isoweekday() not in self.working_days:
                return []
            allowed = [
                (datetime.combine(day, self.work_start), datetime.combine(day, self.work_end))
            ]
        else:
            allowed = [(midnight, midnight + _DAY)]
        for quiet_from, quiet_to in self._quiet_intervals(day):
            allowed = _subtract(allowed, quiet_from, quiet_to)
        return allowed

    def _quiet_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.quiet_start is None or self.quiet_end is None:
            return []
        midnight = datetime.combine(day, time())
        start = datetime.combine(day, self.quiet_start)
        end = datetime.combine(day, self.quiet_end)
        if self.quiet_start < self.quiet_end:
            return [(start, end)]
        return [(midnight, end), (start, midnight + _DAY)]


def _subtract(
    intervals: list[tuple[datetime, datetime]], cut_from: datetime, cut_to: datetime
) -> list[tuple[datetime, datetime]]:
    result = []
    for start, end in intervals:
        if cut_to <= start or cut_from >= end:
            result.append((start, end))
            continue
        if start < cut_from:
            result.append((start, cut_from))
        if cut_to < end:
            result.append((cut_to, end))
    return result


def first_instant_at(wall: datetime, tz: ZoneInfo, not_before: datetime | None = None) -> datetime:
    """The first UTC instant at which the local clock shows ``wall`` (or later, in a gap),
    not earlier than ``not_before``."""
    earlier = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if earlier.astimezone(tz).replace(tzinfo=None) == wall:
        if not_before is None or earlier >= not_before:
            return earlier
        later = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)  # the repeat after fall-back
        return later if later >= not_before else not_before
    # Inside a spring-forward gap: fold=1 reads the wall with the offset after the gap
    # (an instant before it), fold=0 with the offset before (an instant after it).
    low = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    high = int(earlier.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    end_of_gap = datetime.fromtimestamp(high, UTC)
    if not_before is not None and end_of_gap < not_before:
        return not_before
    return end_of_gap


def next_allowed_moment(
    due: datetime, schedule: PersonSchedule, *, working_hours: bool = True
) -> datetime:
    """``due`` itself when the person may be nudged then, else the next moment they may.

    ``working_hours=False`` respects quiet hours only (a time the person chose).
    """
    wall = schedule.local(due)
    tz = schedule.tz
    for offset in range(_SEARCH_DAYS):
        day = wall.date() + timedelta(days=offset)
        for start, end in schedule.free_intervals(day, working_hours=working_hours):
            if end <= wall:
                continue
            if start <= wall:
                return due
            instant = first_instant_at(start, tz, not_before=due)
            if schedule.local(instant) < end:  # a gap may swallow a short interval
                return instant
    if working_hours:
        # Quiet hours cover the whole working day: quiet hours win, working hours give way.
        return next_allowed_moment(due, schedule, working_hours=False)
    return due  # unreachable: quiet hours never cover a whole day


def start_of_next_day(instant: datetime, schedule: PersonSchedule) -> datetime:
    """The first instant of the person's next local day."""
    next_day = schedule.local_date(instant) + _DAY
    return first_instant_at(datetime.combine(next_day, time()), schedule.tz)


def next_digest_moment(after: datetime, schedule: PersonSchedule, at: time) -> datetime:
    """The first digest time (``at`` local, on a working day, outside quiet hours) at or
    after ``after``."""
    tz = schedule.tz
    first_day = schedule.local_date(after)
    for offset in range(_SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if day.isoweekday() not in schedule.working_days:
            continue
        wall = datetime.combine(day, at)
        if schedule.is_quiet(wall):
            continue
        instant = first_instant_at(wall, tz)
        if instant >= after:
            return instant
    return next_allowed_moment(after, schedule, working_hours=False)
