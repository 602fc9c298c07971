"""When a nudge may reach a person: working days and hours, quiet hours, time zones, DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from flowlearn_nudges.domain.schedule import (
    PersonSchedule,
    first_instant_at,
    next_allowed_moment,
    next_digest_moment,
    start_of_next_day,
)

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)  # type: ignore[misc]


def schedule(
    timezone: str = "Europe/Berlin",
    days: tuple[int, ...] = (1, 2, 3, 4, 5),
    start: str = "09:00",
    end: str = "17:00",
    quiet: tuple[str, str] | None = None,
) -> PersonSchedule:
    return PersonSchedule.from_profile(timezone, days, start, end, quiet)


def test_a_moment_inside_working_hours_is_kept() -> None:
    due = local(BERLIN, 2026, 6, 10, 11, 15)  # a Wednesday
    assert next_allowed_moment(due, schedule()) == due


def test_before_work_moves_to_the_start_of_the_day() -> None:
    due = local(BERLIN, 2026, 6, 10, 6, 30)
    assert next_allowed_moment(due, schedule()) == local(BERLIN, 2026, 6, 10, 9, 0)


def test_after_work_on_friday_moves_to_monday_morning() -> None:
    due = local(BERLIN, 2026, 6, 12, 17, 0)  # Friday, at the end: the end is exclusive
    assert next_allowed_moment(due, schedule()) == local(BERLIN, 2026, 6, 15, 9, 0)


def test_each_person_in_their_own_time_zone() -> None:
    due = utc(2026, 6, 10, 12, 0)  # 14:00 in Berlin, 08:00 in New York
    assert next_allowed_moment(due, schedule("Europe/Berlin")) == due
    assert next_allowed_moment(due, schedule("America/New_York")) == utc(2026, 6, 10, 13, 0)
    tokyo = next_allowed_moment(due, schedule("Asia/Tokyo"))  # 21:00 there
    assert tokyo == datetime(2026, 6, 11, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_quiet_hours_inside_the_working_day_are_skipped() -> None:
    lunch = schedule(quiet=("12:00", "13:30"))
    due = local(BERLIN, 2026, 6, 10, 12, 10)
    assert next_allowed_moment(due, lunch) == local(BERLIN, 2026, 6, 10, 13, 30)


def test_quiet_hours_spanning_midnight() -> None:
    nights = schedule(
        days=(1, 2, 3, 4, 5, 6, 7), start="06:00", end="23:00", quiet=("22:00", "07:30")
    )
    assert nights.is_quiet(datetime(2026, 6, 10, 23, 30))
    assert nights.is_quiet(datetime(2026, 6, 10, 2, 0))
    assert not nights.is_quiet(datetime(2026, 6, 10, 7, 30))
    late = local(BERLIN, 2026, 6, 10, 22, 5)
    assert next_allowed_moment(late, nights) == local(BERLIN, 2026, 6, 11, 7, 30)
    early = local(BERLIN, 2026, 6, 11, 6, 15)
    assert next_allowed_moment(early, nights) == local(BERLIN, 2026, 6, 11, 7, 30)
    # Quiet hours only (a time the person chose): evening before 22:00 is fine.
    evening = local(BERLIN, 2026, 6, 13, 21, 0)  # a Saturday
    assert next_allowed_moment(evening, nights, working_hours=False) == evening


def test_quiet_hours_covering_the_whole_working_day_win() -> None:
    odd = schedule(quiet=("08:00", "18:00"))
    due = local(BERLIN, 2026, 6, 10, 10, 0)
    assert next_allowed_moment(due, odd) == local(BERLIN, 2026, 6, 10, 18, 0)


def test_spring_forward_in_berlin_keeps_the_local_start_of_work() -> None:
    # Friday 27 March 2026, 17:30 CET; clocks go forward on Sunday 29 March.
    due = local(BERLIN, 2026, 3, 27, 17, 30)
    monday = next_allowed_moment(due, schedule())
    assert monday == utc(2026, 3, 30, 7, 0)  # 09:00 CEST, UTC+2 now
    assert monday.astimezone(BERLIN).hour == 9


def test_a_moment_inside_the_spring_forward_gap_is_the_end_of_the_gap() -> None:
    # 02:00-03:00 does not exist in Berlin on 29 March 2026; quiet hours end at 02:30.
    nights = schedule(quiet=("22:00", "02:30"))
    due = local(BERLIN, 2026, 3, 28, 23, 0)
    moved = next_allowed_moment(due, nights, working_hours=False)
    assert moved == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, the first instant after 02:30
    assert moved.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"
    assert first_instant_at(datetime(2026, 3, 29, 2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_fall_back_in_berlin_takes_the_first_of_two_equal_local_times() -> None:
    # 02:00-03:00 happens twice in Berlin on 25 October 2026 (CEST, then CET).
    nights = schedule(quiet=("22:00", "02:30"))
    due = local(BERLIN, 2026, 10, 24, 23, 0)
    assert next_allowed_moment(due, nights, working_hours=False) == utc(2026, 10, 25, 0, 30)
    # Starting inside the repeated hour, after the first 02:30: the second one it is.
    second_pass = utc(2026, 10, 25, 1, 10)  # 02:10 CET
    assert second_pass.astimezone(BERLIN).fold == 1
    moved = next_allowed_moment(second_pass, nights, working_hours=False)
    assert moved == utc(2026, 10, 25, 1, 30)  # 02:30 CET
    assert moved > second_pass


def test_fall_back_in_berlin_keeps_the_local_start_of_work() -> None:
    due = local(BERLIN, 2026, 10, 23, 18, 0)  # Friday before the change, CEST
    assert next_allowed_moment(due, schedule()) == utc(2026, 10, 26, 8, 0)  # 09:00 CET


def test_new_york_transitions() -> None:
    # Spring forward on Sunday 8 March 2026, fall back on Sunday 1 November 2026.
    friday_evening = local(NEW_YORK, 2026, 3, 6, 18, 0)
    assert next_allowed_moment(friday_evening, schedule("America/New_York")) == utc(
        2026, 3, 9, 13, 0
    )
    assert first_instant_at(datetime(2026, 3, 8, 2, 30), NEW_YORK) == utc(2026, 3, 8, 7, 0)
    assert first_instant_at(datetime(2026, 11, 1, 1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)
    assert first_instant_at(
        datetime(2026, 11, 1, 1, 30), NEW_YORK, not_before=utc(2026, 11, 1, 6, 0)
    ) == utc(2026, 11, 1, 6, 30)
    before_change = local(NEW_YORK, 2026, 10, 30, 20, 0)
    assert next_allowed_moment(before_change, schedule("America/New_York")) == utc(
        2026, 11, 2, 14, 0
    )


def test_short_working_window_swallowed_by_the_gap_moves_on() -> None:
    night_shift = schedule(days=(7,), start="02:10", end="02:50")
    due = local(BERLIN, 2026, 3, 28, 12, 0)
    # That Sunday's window does not exist: the next Sunday's is used.
    assert next_allowed_moment(due, night_shift) == local(BERLIN, 2026, 4, 5, 2, 10)


def test_start_of_next_day_and_digest_moments() -> None:
    s = schedule(quiet=("22:00", "07:00"))
    assert start_of_next_day(local(BERLIN, 2026, 6, 10, 23, 30), s) == local(
        BERLIN, 2026, 6, 11, 0, 0
    )
    friday_evening = local(BERLIN, 2026, 6, 12, 16, 45)
    assert next_digest_moment(friday_evening, s, time(16, 30)) == local(BERLIN, 2026, 6, 15, 16, 30)
    assert next_digest_moment(local(BERLIN, 2026, 6, 12, 10, 0), s, time(16, 30)) == local(
        BERLIN, 2026, 6, 12, 16, 30
    )


def test_unknown_time_zone_and_bad_hours_fall_back_to_defaults() -> None:
    odd = PersonSchedule.from_profile("Mars/Olympus", [], "18:00", "08:00")
    assert odd.timezone == "UTC"
    assert odd.working_days == frozenset({1, 2, 3, 4, 5})
    assert (odd.work_start, odd.work_end) == (time(9, 0), time(17, 0))
