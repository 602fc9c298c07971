"""The event envelope, parsing and upcasting; settings fallbacks."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from flowlearn_shared import events
from flowlearn_shared.events import (
    JournalEntryCreated,
    JournalEntryFacts,
    parse_event,
    serialize_event,
)
from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.subjects import EVENTS_STREAM_SUBJECTS, EventSubject
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def sample() -> JournalEntryCreated:
    return JournalEntryCreated(
        source="flowlearn/journal",
        subject="alice",
        data=JournalEntryFacts(
            entry_id="e1", owner_id="alice", kind="gem", occurred_on=date(2026, 1, 2)
        ),
    )


def test_envelope_uses_cloudevents_attribute_names() -> None:
    raw = json.loads(serialize_event(sample()))
    assert {
        "specversion",
        "id",
        "type",
        "source",
        "time",
        "subject",
        "datacontenttype",
        "data",
    } <= set(raw)
    assert raw["type"] == "flow.journal.entry.created.v1"
    assert raw["specversion"] == "1.0"


def test_round_trip_picks_the_payload_model_by_type() -> None:
    event = sample()
    parsed = parse_event(serialize_event(event))
    assert isinstance(parsed, JournalEntryCreated)
    assert parsed == event


def test_unknown_type_and_malformed_payloads_are_rejected() -> None:
    raw = json.loads(serialize_event(sample()))
    with pytest.raises(ValidationError):
        parse_event({**raw, "type": "flow.journal.entry.exploded.v1"})
    with pytest.raises(ValidationError):
        parse_event({**raw, "data": {"entry_id": "e1"}})
    with pytest.raises(ValidationError):
        parse_event(b"not json")


def test_older_versions_are_upcast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A v0 event (owner under another name) is upcast to v1 before validation."""

    def v0_to_v1(raw: dict[str, Any]) -> dict[str, Any]:
        data = dict(raw["data"])
        data["owner_id"] = data.pop("author")
        return {**raw, "type": EventSubject.JOURNAL_ENTRY_CREATED.value, "data": data}

    monkeypatch.setitem(events.UPCASTERS, "flow.journal.entry.created.v0", v0_to_v1)
    raw = json.loads(serialize_event(sample()))
    data = dict(raw["data"])
    data["author"] = data.pop("owner_id")
    old = {**raw, "type": "flow.journal.entry.created.v0", "data": data}
    parsed = parse_event(json.dumps(old))
    assert parsed.data.owner_id == "alice"


def test_every_event_subject_is_in_the_events_stream() -> None:
    for subject in EventSubject:
        assert subject.value.startswith("flow.")
        assert subject.value.rsplit(".", 1)[1].startswith("v")
    assert EVENTS_STREAM_SUBJECTS == ["flow.>"]


def test_service_settings_fall_back_to_common_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowlearn_journal.settings import JournalSettings

    monkeypatch.setenv("FLOWLEARN_NATS_URL", "nats://common:4222")
    monkeypatch.setenv("FLOWLEARN_JOURNAL_MONGODB_URI", "mongodb://journal-only")
    monkeypatch.setenv("FLOWLEARN_MONGODB_URI", "mongodb://common")
    settings = JournalSettings()
    assert settings.nats_url == "nats://common:4222"
    assert settings.mongodb_uri == "mongodb://journal-only"
    assert ServiceSettings().mongodb_uri == "mongodb://common"
