from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from flowlearn_nudges.domain.model import JournalActivity
from flowlearn_nudges.domain.rules import (
    DEFAULT_RULES,
    InvalidRule,
    Rule,
    Target,
    author_of,
    finalise_recipients,
    format_delay,
    named_recipients,
    parse_delay,
)
from flowlearn_shared.contracts.nudges import NudgeType

pytestmark = pytest.mark.unit


def test_inactivity_after_three_days_by_default() -> None:
    activity = JournalActivity("a", 4, date(2026, 11, 20))
    assert not activity.inactive_on(date(2026, 11, 22))
    assert activity.inactive_on(date(2026, 11, 23))
    assert not activity.inactive_on(date(2026, 11, 23), days=5)


def test_someone_who_never_wrote_is_not_inactive() -> None:
    assert not JournalActivity("a", 0, None).inactive_on(date(2026, 11, 23))


# Event-triggered rules.


def test_delays_are_seconds_or_iso_durations() -> None:
    assert parse_delay(90) == timedelta(seconds=90)
    assert parse_delay("3600") == timedelta(hours=1)
    assert parse_delay("PT2H") == timedelta(hours=2)
    assert parse_delay("P1D") == timedelta(days=1)
    assert parse_delay("P1DT2H30M") == timedelta(days=1, hours=2, minutes=30)
    assert parse_delay("P1W") == timedelta(weeks=1)
    for bad in ("P", "PT", "2 hours", "P1Y", "-5", "P400D"):
        with pytest.raises(InvalidRule):
            parse_delay(bad)
    for delay in (timedelta(0), timedelta(hours=2), timedelta(days=1, minutes=5)):
        assert parse_delay(format_delay(delay)) == delay
    assert format_delay(timedelta(hours=2)) == "PT2H"


def test_where_conditions() -> None:
    rule = Rule(
        id="r",
        on="flow.sharing.question.asked.v1",
        nudge=NudgeType.HELP_REQUEST,
        to=Target.EXPERTS,
        where={"tags": "ops", "audience": ["org", "team:t1"]},
    )
    assert rule.matches({"tags": ["ops", "k8s"], "audience": "org"})
    assert not rule.matches({"tags": ["k8s"], "audience": "org"})
    assert not rule.matches({"tags": ["ops"], "audience": "community:c1"})
    nested = Rule(id="n", on="x", nudge=NudgeType.REFLECT, to=Target.AUTHOR, where={"a.b": 1})
    assert nested.matches({"a": {"b": 1}})
    assert not nested.matches({"a": 1})
    assert not replace(rule, enabled=False).matches({"tags": ["ops"], "audience": "org"})


def test_recipients_are_read_from_the_payload() -> None:
    asked = {"question_id": "q1", "asker_id": "ana", "suggested_experts": ["bo", "ana", "cy", "di"]}
    experts = next(r for r in DEFAULT_RULES if r.on == "flow.sharing.question.asked.v1")
    found = named_recipients(experts, asked, "ana")
    # The asker is never asked to help with their own question; at most three experts.
    assert finalise_recipients(experts, found, author_of(asked)) == ["bo", "cy", "di"]
    accepted = {"question_id": "q1", "answer_id": "a1", "asker_id": "ana", "answerer_id": "bo"}
    reflect = next(r for r in DEFAULT_RULES if r.on == "flow.sharing.answer.accepted.v1")
    assert reflect.after == timedelta(hours=2)
    assert named_recipients(reflect, accepted, "q1") == ["ana"]
    ended = {"gathering_id": "g1", "host_id": "hal", "attendee_ids": ["ana", "bo"]}
    followup = next(r for r in DEFAULT_RULES if r.on == "flow.sharing.gathering.ended.v1")
    assert named_recipients(followup, ended, "g1") == ["ana", "bo"]
    entry = {"entry_id": "e1", "owner_id": "ana", "kind": "mistake"}
    mistake = next(r for r in DEFAULT_RULES if r.on == "flow.journal.entry.created.v1")
    assert mistake.matches(entry)
    assert not mistake.matches(entry | {"kind": "gem"})
    assert named_recipients(mistake, entry, "ana") == ["ana"]
    assert mistake.after == timedelta(days=1)


def test_journal_events_may_only_nudge_their_author() -> None:
    with pytest.raises(InvalidRule):
        Rule(id="leak", on="flow.journal.entry.created.v1", nudge=NudgeType.CUSTOM, to=Target.TEAM)


def test_team_targets_leave_out_the_author() -> None:
    manager = Rule(id="m", on="x", nudge=NudgeType.SPOT_STRENGTH, to=Target.MANAGER)
    assert finalise_recipients(manager, ["lee", "ana", "lee"], "ana") == ["lee"]


def test_an_anonymous_post_never_nudges_the_authors_team() -> None:
    post = {"post_id": "p1", "author_id": "ana", "anonymous": True, "kind": "lesson"}
    for target in (Target.MANAGER, Target.TEAM):
        rule = Rule(id="t", on="flow.sharing.post.created.v1", nudge=NudgeType.CUSTOM, to=target)
        assert not rule.matches(post)
        assert rule.matches(post | {"anonymous": False})
    author = Rule(
        id="a", on="flow.sharing.post.created.v1", nudge=NudgeType.REFLECT, to=Target.AUTHOR
    )
    assert author.matches(post)
