"""Journal domain rules, no servers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flowlearn_journal.adapters.repository import BadCursor, decode_cursor, encode_cursor
from flowlearn_journal.domain import model
from flowlearn_shared.contracts.journal import EntryCreate, EntryKind, EntryUpdate
from flowlearn_shared.events import JournalEntryCreated, JournalEntryUpdated
from pydantic import ValidationError

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)


def entry(**fields: object) -> model.Entry:
    data = EntryCreate.model_validate({"kind": "learned", "body": "b", **fields})
    return model.new_entry("alice", data, "UTC", NOW)


def test_occurred_on_defaults_to_today_in_the_users_zone() -> None:
    data = EntryCreate(kind=EntryKind.REFLECTION, body="late-night thought")
    assert model.new_entry("a", data, "UTC", NOW).occurred_on == date(2026, 3, 29)
    assert model.new_entry("a", data, "Asia/Tokyo", NOW).occurred_on == date(2026, 3, 30)
    assert model.new_entry("a", data, "America/New_York", NOW).occurred_on == date(2026, 3, 29)


def test_new_entry_raises_a_created_event_without_text() -> None:
    created = entry(title="Private", tags=["Ops"], nudge_id="n1")
    [event] = created.events
    assert isinstance(event, JournalEntryCreated)
    dumped = event.model_dump_json()
    assert "Private" not in dumped
    assert '"b"' not in dumped
    assert event.data.tags == ["ops"]
    assert event.data.nudge_id == "n1"


def test_tags_are_case_insensitive_and_unique_and_bounded() -> None:
    assert entry(tags=[" Rust ", "rust", "Go"]).tags == ["rust", "go"]
    with pytest.raises(ValidationError):
        EntryCreate.model_validate({"kind": "gem", "body": "b", "tags": ["t"] * 21})
    with pytest.raises(ValidationError):
        EntryCreate.model_validate({"kind": "gem", "body": "x" * 20_001})
    with pytest.raises(ValidationError):
        EntryCreate.model_validate({"kind": "gem", "body": "b", "unknown": 1})


def test_update_changes_only_named_fields_and_bumps_the_version() -> None:
    original = entry(title="t", minutes=30, tags=["a"])
    changes = EntryUpdate.model_validate({"minutes": None, "body": "new"})
    updated = model.apply_update(original, changes, NOW)
    assert (updated.title, updated.minutes, updated.body) == ("t", None, "new")
    assert updated.tags == ["a"]
    assert updated.version == original.version + 1
    assert isinstance(updated.events[0], JournalEntryUpdated)


def test_required_fields_cannot_be_cleared() -> None:
    original = entry()
    updated = model.apply_update(original, EntryUpdate.model_validate({"kind": None}), NOW)
    assert updated.kind == original.kind


def test_stale_version_is_refused() -> None:
    with pytest.raises(model.StaleVersion):
        model.check_version(entry(), 2)
    model.check_version(entry(), 1)
    model.check_version(entry(), None)


@pytest.mark.parametrize(
    ("days", "today", "expected"),
    [
        (set(), date(2026, 1, 10), (0, 0)),
        ({date(2026, 1, 10)}, date(2026, 1, 10), (1, 1)),
        # Today not written yet: yesterday's run still counts.
        ({date(2026, 1, 8), date(2026, 1, 9)}, date(2026, 1, 10), (2, 2)),
        # A gap of a day breaks it.
        ({date(2026, 1, 7), date(2026, 1, 8)}, date(2026, 1, 10), (0, 2)),
        (
            {date(2026, 1, d) for d in (1, 2, 3, 4, 8, 9, 10)},
            date(2026, 1, 10),
            (3, 4),
        ),
        # Across a month end and a DST change (Europe, 29 March 2026).
        ({date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)}, date(2026, 3, 30), (3, 3)),
    ],
)
def test_streaks(days: set[date], today: date, expected: tuple[int, int]) -> None:
    assert model.streaks(days, today) == expected


def test_week_starts_on_monday() -> None:
    assert model.week_start(date(2026, 11, 22)) == date(2026, 11, 16)
    assert model.week_start(date(2026, 11, 23)) == date(2026, 11, 23)


def test_cursor_round_trip_and_garbage() -> None:
    e = entry()
    day, created_at, entry_id = decode_cursor(encode_cursor(e))
    assert (day, created_at, entry_id) == (e.occurred_on.isoformat(), e.created_at, e.id)
    for garbage in ("", "!!!", "bm90IGpzb24", "eyJ4IjogMX0"):
        with pytest.raises(BadCursor):
            decode_cursor(garbage)
