"""Rules without servers: who may send a campaign to which audience, counts hidden below
five recipients, work-event subjects from outside input, and hook signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flowlearn_gateway.domain.hooks import (
    SignatureRejected,
    check_signature,
    check_timestamp,
    event_id,
    signature,
    work_event,
)
from flowlearn_nudges.domain.campaigns import (
    Audience,
    AudienceKind,
    NotAllowed,
    check_may_send,
    tally,
)
from flowlearn_nudges.domain.rules import Rule, Target, named_recipients
from flowlearn_shared.contracts.campaigns import CampaignCreate
from flowlearn_shared.contracts.hooks import CloudEventIn
from flowlearn_shared.contracts.nudges import NudgeType
from flowlearn_shared.events import WorkEvent, parse_event, serialize_event
from flowlearn_shared.subjects import work_subject
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_audiences_parse() -> None:
    assert Audience.parse("org") == Audience(AudienceKind.ORG)
    assert Audience.parse("team:t1") == Audience(AudienceKind.TEAM, ("t1",))
    assert Audience.parse("people:a,b,a") == Audience(AudienceKind.PEOPLE, ("a", "b"))


@pytest.mark.parametrize(
    ("audience", "roles", "allowed"),
    [
        ("team:mine", ["manager"], True),
        ("team:other", ["manager"], False),
        ("team:mine", ["member"], False),  # leading a team is not enough without the role
        ("people:a,b", ["manager"], True),
        ("people:a,z", ["manager"], False),
        ("community:c", ["manager"], False),
        ("org", ["manager"], False),
        ("org", ["curator"], True),
        ("community:c", ["admin"], True),
        ("team:other", ["curator"], True),
    ],
)
def test_who_may_send_a_campaign(audience: str, roles: list[str], allowed: bool) -> None:
    def check() -> None:
        check_may_send(Audience.parse(audience), roles, {"mine"}, {"a", "b"})

    if allowed:
        check()
    else:
        with pytest.raises(NotAllowed):
            check()


def test_counts_are_suppressed_below_five() -> None:
    at = datetime(2026, 6, 10, tzinfo=UTC)
    four = [{"status": "opened", "delivered_at": at, "opened_at": at}] * 4
    assert tally(four).suppressed
    counts = tally([*four, {"status": "snoozed", "delivered_at": at}])
    assert not counts.suppressed
    assert (counts.recipients, counts.delivered, counts.opened, counts.snoozed) == (5, 5, 4, 1)


def test_a_campaign_needs_a_real_message_and_a_sensible_time() -> None:
    with pytest.raises(ValidationError):
        CampaignCreate(message="   ", audience="org")
    with pytest.raises(ValidationError):
        CampaignCreate(message="hi", audience="org", send_at=datetime(2026, 6, 10, 9, 0))
    with pytest.raises(ValidationError):
        CampaignCreate(message="hi", audience="org", send_at=datetime.now(UTC) - timedelta(days=2))
    assert CampaignCreate(message=" hi ", audience="org").type == NudgeType.CUSTOM


def test_work_subjects_are_sanitised() -> None:
    assert work_subject("incident", "closed") == "flow.work.incident.closed.v1"
    assert work_subject("PagerDuty Prod", "Incident.Resolved") == (
        "flow.work.pagerduty_prod.incident.resolved.v1"
    )
    # Wildcards and separators from outside cannot widen or split the subject.
    assert work_subject("ci.*", "build.>.done") == "flow.work.ci.build.done.v1"
    with pytest.raises(ValueError, match="letters or digits"):
        work_subject("ci", "***")


def test_signatures_and_timestamps() -> None:
    body = b'{"id":"1"}'
    good = signature("s3cret", "1700000000", body)
    assert good.startswith("sha256=")
    assert len(good) == len("sha256=") + 64
    check_signature("s3cret", "1700000000", body, good)
    for wrong in (None, "", good.upper(), signature("other", "1700000000", body)):
        with pytest.raises(SignatureRejected):
            check_signature("s3cret", "1700000000", body, wrong)
    now = datetime.fromtimestamp(1700000000, UTC)
    check_timestamp("1699999750", now, 300)
    for stamp in (None, "", "abc", "1699999600", "1700000400"):
        with pytest.raises(SignatureRejected):
            check_timestamp(stamp, now, 300)


def test_a_work_event_round_trips_and_targets_its_participants() -> None:
    incoming = CloudEventIn.model_validate(
        {
            "specversion": "1.0",
            "id": "42",
            "source": "incident",
            "type": "closed",
            "data": {"participants": ["ana", "bob"], "incident_id": "INC-1"},
        }
    )
    event = work_event(incoming, datetime(2026, 6, 10, tzinfo=UTC))
    assert event.id == event_id("incident", "42")  # the same tool event, the same id
    parsed = parse_event(serialize_event(event))
    assert isinstance(parsed, WorkEvent)
    assert parsed == event
    rule = Rule(id="r", on=event.type, nudge=NudgeType.REFLECT, to=Target.PARTICIPANTS)
    data = parsed.data.model_dump(mode="json")
    assert named_recipients(rule, data, parsed.subject) == ["ana", "bob"]
