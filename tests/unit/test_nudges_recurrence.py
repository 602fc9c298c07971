"""Per-type schedules as RRULEs in local time, and the types that recur by default."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flowlearn_nudges.domain.catalogue import Timing
from flowlearn_nudges.domain.recurrence import (
    InvalidRecurrence,
    Recurrence,
    default_rrule,
    next_occurrence,
    normalise_rrule,
    recurrence_for,
)
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import NudgeType, TypePreference

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_1630 = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=16;BYMINUTE=30"


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def berlin() -> PersonSchedule:
    return PersonSchedule.from_profile("Europe/Berlin", [1, 2, 3, 4, 5], "09:00", "17:00")


def chosen(rule: str, since: date = date(2026, 1, 1)) -> Recurrence:
    return Recurrence(normalise_rrule(rule), since, Timing.OUTSIDE_QUIET)


def test_weekday_rule_is_read_in_local_time() -> None:
    rule = chosen(WEEKDAYS_1630)
    friday_evening = at(BERLIN, 2026, 6, 12, 17, 0)
    assert next_occurrence(rule, NudgeType.REFLECT, berlin(), friday_evening) == at(
        BERLIN, 2026, 6, 15, 16, 30
    )
    # Strictly after: an occurrence at the very moment is not the next one.
    same = at(BERLIN, 2026, 6, 15, 16, 30)
    assert next_occurrence(rule, NudgeType.REFLECT, berlin(), same) == at(
        BERLIN, 2026, 6, 16, 16, 30
    )


def test_local_time_holds_across_daylight_saving_changes() -> None:
    rule = chosen(WEEKDAYS_1630)
    before_spring = at(BERLIN, 2026, 3, 27, 17, 0)  # Friday, CET
    after = next_occurrence(rule, NudgeType.REFLECT, berlin(), before_spring)
    assert after == datetime(2026, 3, 30, 14, 30, tzinfo=UTC)  # 16:30 CEST
    before_autumn = at(BERLIN, 2026, 10, 23, 17, 0)  # Friday, CEST
    after = next_occurrence(rule, NudgeType.REFLECT, berlin(), before_autumn)
    assert after == datetime(2026, 10, 26, 15, 30, tzinfo=UTC)  # 16:30 CET


def test_an_occurrence_in_the_spring_forward_gap_comes_at_its_end() -> None:
    rule = chosen("FREQ=DAILY;BYHOUR=2;BYMINUTE=30")
    saturday = at(BERLIN, 2026, 3, 28, 12, 0)
    assert next_occurrence(rule, NudgeType.LEARNING_HABIT, berlin(), saturday) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


def test_an_occurrence_in_the_repeated_hour_comes_once() -> None:
    rule = chosen("FREQ=DAILY;BYHOUR=2;BYMINUTE=30")
    first = next_occurrence(
        rule, NudgeType.LEARNING_HABIT, berlin(), at(BERLIN, 2026, 10, 24, 12, 0)
    )
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)
    second = next_occurrence(rule, NudgeType.LEARNING_HABIT, berlin(), first)  # type: ignore[arg-type]
    assert second == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # next day, 02:30 CET


def test_a_rule_without_a_time_uses_the_types_default_time() -> None:
    rule = chosen("FREQ=WEEKLY;BYDAY=MO")
    monday = next_occurrence(rule, NudgeType.LEARNING_HABIT, berlin(), at(BERLIN, 2026, 6, 10, 9))
    assert monday == at(BERLIN, 2026, 6, 15, 10, 0)


def test_interval_counts_from_the_day_the_rule_was_set() -> None:
    rule = chosen("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=0", since=date(2026, 6, 1))
    nxt = next_occurrence(rule, NudgeType.THREE_PS, berlin(), at(BERLIN, 2026, 6, 2, 9))
    assert nxt == at(BERLIN, 2026, 6, 15, 9, 0)


def test_a_finished_rule_has_no_next_occurrence() -> None:
    rule = chosen("FREQ=DAILY;COUNT=2;BYHOUR=9;BYMINUTE=0", since=date(2026, 6, 1))
    assert next_occurrence(rule, NudgeType.REFLECT, berlin(), at(BERLIN, 2026, 6, 5, 9)) is None


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=MINUTELY",
        "FREQ=HOURLY;INTERVAL=1",
        "BYDAY=MO",
        "FREQ=DAILY;BYHOUR=25",
        "FREQ=WEEKLY;BYDAY=XX",
        "DTSTART:20260101T090000\nRRULE:FREQ=DAILY",
        "FREQ=DAILY;BYSECOND=5",
    ],
)
def test_invalid_rules_are_refused(text: str) -> None:
    with pytest.raises(InvalidRecurrence):
        normalise_rrule(text)


def test_rules_are_normalised() -> None:
    assert normalise_rrule(" rrule:freq=daily;byhour=9 ") == "FREQ=DAILY;BYHOUR=9"


def test_default_recurrences_follow_working_days() -> None:
    part_time = PersonSchedule.from_profile("Europe/Berlin", [1, 3], "08:00", "12:00")
    assert default_rrule(NudgeType.LEARNING_HABIT, part_time) == (
        "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=9;BYMINUTE=0"
    )
    assert default_rrule(NudgeType.REFLECT, part_time) == (
        "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=11;BYMINUTE=30"
    )
    habit = recurrence_for(NudgeType.LEARNING_HABIT, TypePreference(), part_time, None)
    assert habit is not None
    assert habit.timing == Timing.WORKING
    tuesday = at(BERLIN, 2026, 6, 9, 12)
    assert next_occurrence(habit, NudgeType.LEARNING_HABIT, part_time, tuesday) == at(
        BERLIN, 2026, 6, 10, 9, 0
    )


def test_which_types_recur() -> None:
    s = berlin()
    assert recurrence_for(NudgeType.HELP_REQUEST, TypePreference(), s, None) is None
    assert recurrence_for(NudgeType.REFLECT, TypePreference(enabled=False), s, None) is None
    own = recurrence_for(NudgeType.SPOT_STRENGTH, TypePreference(rrule=WEEKDAYS_1630), s, None)
    assert own is not None
    assert own.timing == Timing.OUTSIDE_QUIET
