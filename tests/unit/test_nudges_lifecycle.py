"""A nudge's life: planning, the daily cap, expiry, delivery, responses and inactivity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flowlearn_nudges.domain.catalogue import Origin, Timing
from flowlearn_nudges.domain.model import JournalActivity, Person, inactivity_nudge
from flowlearn_nudges.domain.nudge import (
    Defer,
    Drop,
    InvalidTransition,
    Nudge,
    NudgeNotFound,
    NudgeSpec,
    Ready,
    acknowledge,
    deliver,
    may_go_out,
    new_nudge,
    nudge_id,
    over_cap,
    retime,
)
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import (
    AckAction,
    Channel,
    DigestPreference,
    NudgeAck,
    NudgePreferences,
    NudgeStatus,
    NudgeType,
    TypePreference,
)
from pydantic import ValidationError

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = PersonSchedule.from_profile(
    "Europe/Berlin", [1, 2, 3, 4, 5], "09:00", "17:00", ("12:00", "13:00")
)
PREFS = NudgePreferences()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def spec(
    nudge_type: NudgeType = NudgeType.EVENT_FOLLOWUP, wanted: datetime | None = None
) -> NudgeSpec:
    return NudgeSpec(
        id="n1",
        user_id="ana",
        type=nudge_type,
        wanted_at=wanted or at(2026, 6, 10, 10, 0),
        origin=Origin.RULE,
    )


def scheduled(nudge_type: NudgeType = NudgeType.EVENT_FOLLOWUP, **prefs: object) -> Nudge:
    nudge = new_nudge(spec(nudge_type), at(2026, 6, 10, 8, 0), SCHEDULE, NudgePreferences(**prefs))  # type: ignore[arg-type]
    assert nudge is not None
    return nudge


def delivered(nudge_type: NudgeType = NudgeType.EVENT_FOLLOWUP) -> Nudge:
    return deliver(scheduled(nudge_type), at(2026, 6, 10, 10, 0), [Channel.IN_APP], "2026-06-10")


def test_new_nudge_is_timed_by_the_persons_hours_and_default_wording() -> None:
    nudge = new_nudge(spec(wanted=at(2026, 6, 10, 12, 15)), at(2026, 6, 10, 8), SCHEDULE, PREFS)
    assert nudge is not None
    assert nudge.due_at == at(2026, 6, 10, 13, 0)  # after the lunch quiet hour
    assert nudge.status == NudgeStatus.SCHEDULED
    assert nudge.message.startswith("How was the session?")
    assert nudge.expires_at == at(2026, 6, 12, 12, 15)


def test_a_type_turned_off_or_already_expired_is_not_scheduled() -> None:
    off = NudgePreferences(types={NudgeType.EVENT_FOLLOWUP: TypePreference(enabled=False)})
    assert new_nudge(spec(), at(2026, 6, 10, 8), SCHEDULE, off) is None
    late = at(2026, 6, 13, 0, 0)  # more than two days after the session
    assert new_nudge(spec(), late, SCHEDULE, PREFS) is None
    # A wanted moment in the past (a replayed event) goes out at the next allowed moment.
    nudge = new_nudge(spec(), at(2026, 6, 11, 20, 0), SCHEDULE, PREFS)
    assert nudge is not None
    assert nudge.due_at == at(2026, 6, 12, 9, 0)


def test_digest_bundles_nudges_at_the_digest_time() -> None:
    digest = NudgePreferences(digest=DigestPreference(enabled=True, at="16:30"))
    nudge = new_nudge(spec(), at(2026, 6, 10, 8), SCHEDULE, digest)
    assert nudge is not None
    assert nudge.due_at == at(2026, 6, 10, 16, 30)
    # At the digest time the person's own choice counts, even past working hours.
    late_digest = NudgePreferences(digest=DigestPreference(enabled=True, at="18:00"))
    nudge = new_nudge(spec(), at(2026, 6, 10, 8), SCHEDULE, late_digest)
    assert nudge is not None
    assert nudge.due_at == at(2026, 6, 10, 18, 0)
    assert may_go_out(nudge, at(2026, 6, 10, 18, 0, 5), SCHEDULE, late_digest) == Ready()


def test_may_go_out_rechecks_hours_expiry_and_the_off_switch() -> None:
    nudge = scheduled()
    assert may_go_out(nudge, at(2026, 6, 10, 10, 0), SCHEDULE, PREFS) == Ready()
    # The scheduler was late and it is lunch time now: wait until the quiet hour ends.
    assert may_go_out(nudge, at(2026, 6, 10, 12, 5), SCHEDULE, PREFS) == Defer(
        at(2026, 6, 10, 13, 0)
    )
    assert may_go_out(nudge, at(2026, 6, 12, 10, 15), SCHEDULE, PREFS) == Drop("expired")
    off = NudgePreferences(types={NudgeType.EVENT_FOLLOWUP: TypePreference(enabled=False)})
    assert may_go_out(nudge, at(2026, 6, 10, 10, 0), SCHEDULE, off) == Drop("turned off")


def test_over_the_cap_waits_for_the_next_day_or_is_dropped_when_it_expires() -> None:
    followup = scheduled(NudgeType.EVENT_FOLLOWUP)  # useful for two days
    assert over_cap(followup, at(2026, 6, 10, 15, 0), SCHEDULE, PREFS) == Defer(
        at(2026, 6, 11, 9, 0)
    )
    friday = over_cap(followup, at(2026, 6, 12, 9, 30), SCHEDULE, PREFS)
    assert friday == Drop("over the daily cap")  # Monday is past its expiry
    habit = scheduled(NudgeType.LEARNING_HABIT)  # useful for twelve hours only
    assert over_cap(habit, at(2026, 6, 10, 10, 0), SCHEDULE, PREFS) == Drop("over the daily cap")
    learning = scheduled(NudgeType.MICRO_LEARNING)  # never expires
    assert over_cap(learning, at(2026, 6, 12, 10, 0), SCHEDULE, PREFS) == Defer(
        at(2026, 6, 15, 9, 0)
    )


def test_delivery_marks_in_app_delivered_and_other_channels_pending() -> None:
    nudge = deliver(scheduled(), at(2026, 6, 10, 10), [Channel.IN_APP, Channel.SLACK], "2026-06-10")
    assert nudge.status == NudgeStatus.DELIVERED
    assert nudge.due_at is None
    assert nudge.delivered_at == at(2026, 6, 10, 10)
    assert nudge.deliveries["in_app"]["status"] == "delivered"
    assert nudge.deliveries["slack"]["status"] == "pending"
    assert nudge.counted_on == "2026-06-10"


def test_responses() -> None:
    nudge = delivered()
    now = at(2026, 6, 10, 11)
    opened = acknowledge(nudge, AckAction.OPENED, now, SCHEDULE)
    assert (opened.status, opened.opened_at) == (NudgeStatus.OPENED, now)
    assert acknowledge(opened, AckAction.OPENED, now, SCHEDULE) == opened
    acted = acknowledge(opened, AckAction.ACTED, now, SCHEDULE)
    assert (acted.status, acted.acted_at) == (NudgeStatus.ACTED, now)
    assert acknowledge(acted, AckAction.OPENED, now, SCHEDULE) == acted  # stays acted
    with pytest.raises(InvalidTransition):
        acknowledge(acted, AckAction.SNOOZED, now, SCHEDULE, 30)
    dismissed = acknowledge(nudge, AckAction.DISMISSED, now, SCHEDULE)
    assert dismissed.status == NudgeStatus.DISMISSED
    # Acting later, after all, still counts.
    assert acknowledge(dismissed, AckAction.ACTED, now, SCHEDULE).status == NudgeStatus.ACTED


def test_a_nudge_not_yet_delivered_cannot_be_answered() -> None:
    with pytest.raises(NudgeNotFound):
        acknowledge(scheduled(), AckAction.OPENED, at(2026, 6, 10, 11), SCHEDULE)


def test_snooze_brings_it_back_after_the_minutes_but_not_in_quiet_hours() -> None:
    nudge = delivered()
    snoozed = acknowledge(nudge, AckAction.SNOOZED, at(2026, 6, 10, 10, 0), SCHEDULE, 30)
    assert snoozed.status == NudgeStatus.SNOOZED
    assert snoozed.due_at == snoozed.snoozed_until == at(2026, 6, 10, 10, 30)
    into_lunch = acknowledge(nudge, AckAction.SNOOZED, at(2026, 6, 10, 11, 50), SCHEDULE, 15)
    assert into_lunch.due_at == at(2026, 6, 10, 13, 0)
    # Snoozed past the end of work: the person chose the time, so it comes then.
    evening = acknowledge(nudge, AckAction.SNOOZED, at(2026, 6, 10, 16, 50), SCHEDULE, 60)
    assert evening.due_at == at(2026, 6, 10, 17, 50)
    assert may_go_out(evening, at(2026, 6, 10, 17, 50), SCHEDULE, PREFS) == Ready()
    # Coming back, it does not count against the cap a second time.
    again = deliver(evening, at(2026, 6, 10, 17, 50), [Channel.IN_APP], "2026-06-10")
    assert again.status == NudgeStatus.DELIVERED
    assert again.counted_on == "2026-06-10"


def test_ack_minutes_are_required_for_snooze_only() -> None:
    assert NudgeAck(action=AckAction.SNOOZED, minutes=5).minutes == 5
    for bad in (
        {"action": "snoozed"},
        {"action": "snoozed", "minutes": 4},
        {"action": "snoozed", "minutes": 1441},
        {"action": "opened", "minutes": 30},
        {"action": "archived"},
    ):
        with pytest.raises(ValidationError):
            NudgeAck.model_validate(bad)


def test_retime_follows_a_new_time_zone() -> None:
    nudge = scheduled()
    new_york = PersonSchedule.from_profile("America/New_York", [1, 2, 3, 4, 5], "09:00", "17:00")
    moved = retime(nudge, at(2026, 6, 10, 8), new_york, PREFS)
    assert moved.due_at == datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # 09:00 in New York
    off = NudgePreferences(types={NudgeType.EVENT_FOLLOWUP: TypePreference(enabled=False)})
    assert retime(nudge, at(2026, 6, 10, 8), SCHEDULE, off).status == NudgeStatus.EXPIRED


def test_preferences_always_include_in_app() -> None:
    assert NudgePreferences(channels=[Channel.SLACK, Channel.SLACK]).channels == [
        Channel.IN_APP,
        Channel.SLACK,
    ]
    with pytest.raises(ValidationError):
        NudgePreferences(daily_cap=0)


def test_inactivity_nudge_after_n_days_at_the_end_of_the_working_day() -> None:
    written = at(2026, 6, 8, 20, 0)  # Monday evening
    activity = JournalActivity("ana", 5, date(2026, 6, 8), written)
    person = Person("ana", SCHEDULE)
    reminder = inactivity_nudge(activity, person)
    assert reminder is not None
    assert reminder.type == NudgeType.REFLECT
    assert reminder.wanted_at == at(2026, 6, 11, 16, 30)  # Thursday
    assert reminder.origin == Origin.INACTIVITY
    assert reminder.timing == Timing.WORKING
    # Tied to the entry: the same activity gives the same nudge, a new entry a new one.
    assert inactivity_nudge(activity, person) == reminder
    later = JournalActivity("ana", 6, date(2026, 6, 9), written + timedelta(days=1))
    assert inactivity_nudge(later, person).id != reminder.id  # type: ignore[union-attr]
    five_days = Person("ana", SCHEDULE, NudgePreferences(inactivity_days=5))
    assert inactivity_nudge(activity, five_days).wanted_at == at(2026, 6, 13, 16, 30)  # type: ignore[union-attr]
    assert inactivity_nudge(JournalActivity("ana", 0, None), person) is None


def test_nudge_ids_are_stable() -> None:
    assert nudge_id("rule", "r1", "e1", "ana") == nudge_id("rule", "r1", "e1", "ana")
    assert nudge_id("rule", "r1", "e1", "ana") != nudge_id("rule", "r1", "e1", "bob")
