"""The journal's rules. Pure Python: no driver, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from flowlearn_shared.contracts.journal import (
    EntryCreate,
    EntryKind,
    EntryPublic,
    EntryShare,
    EntryUpdate,
)
from flowlearn_shared.events import (
    JournalEntryCreated,
    JournalEntryDeleted,
    JournalEntryDeletedData,
    JournalEntryFacts,
    JournalEntryShared,
    JournalEntrySharedData,
    JournalEntryUpdated,
)
from flowlearn_shared.idempotency import derived_id

SOURCE = "flowlearn/journal"


@dataclass(frozen=True)
class Entry:
    id: str
    owner_id: str
    kind: EntryKind
    title: str | None
    body: str
    tags: list[str]
    skills: list[str]
    occurred_on: date
    minutes: int | None
    nudge_id: str | None
    evidence: dict[str, Any] | None
    version: int
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    def is_owned_by(self, user_id: str) -> bool:
        return self.owner_id == user_id

    def facts(self) -> JournalEntryFacts:
        """What other services may know about an entry: metadata, never the text."""
        return JournalEntryFacts(
            entry_id=self.id,
            owner_id=self.owner_id,
            kind=self.kind.value,
            tags=self.tags,
            skills=self.skills,
            nudge_id=self.nudge_id,
            occurred_on=self.occurred_on,
            minutes=self.minutes,
            version=self.version,
        )

    def to_public(self) -> EntryPublic:
        return EntryPublic(
            id=self.id,
            kind=self.kind,
            title=self.title,
            body=self.body,
            tags=self.tags,
            skills=self.skills,
            occurred_on=self.occurred_on,
            minutes=self.minutes,
            nudge_id=self.nudge_id,
            evidence=self.evidence,  # type: ignore[arg-type]
            version=self.version,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def today_in(timezone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


# Ids of entries created with an idempotency key: the same person and key, the same id.
IDEMPOTENT_IDS = UUID("6f1d3c2e-5b7a-4e0f-9a41-2c8d7e6b5a30")


def entry_id_for_key(owner_id: str, idempotency_key: str) -> str:
    return derived_id(IDEMPOTENT_IDS, owner_id, idempotency_key)


def same_request(entry: Entry, data: EntryCreate) -> bool:
    """Whether ``data`` asks for what ``entry`` was created from (a retry), as far as
    the request said: a day left out was filled in from the clock at the first attempt."""
    return (
        entry.kind == data.kind
        and entry.title == data.title
        and entry.body == data.body
        and entry.tags == data.tags
        and entry.skills == data.skills
        and (data.occurred_on is None or entry.occurred_on == data.occurred_on)
        and entry.minutes == data.minutes
        and entry.nudge_id == data.nudge_id
    )


def new_entry(
    owner_id: str, data: EntryCreate, timezone: str, now: datetime, entry_id: str | None = None
) -> Entry:
    entry = Entry(
        id=entry_id or str(uuid4()),
        owner_id=owner_id,
        kind=data.kind,
        title=data.title,
        body=data.body,
        tags=data.tags,
        skills=data.skills,
        occurred_on=data.occurred_on or today_in(timezone, now),
        minutes=data.minutes,
        nudge_id=data.nudge_id,
        evidence=data.evidence.model_dump() if data.evidence else None,
        version=1,
        created_at=now,
        updated_at=now,
    )
    entry.events.append(
        JournalEntryCreated(source=SOURCE, subject=owner_id, time=now, data=entry.facts())
    )
    return entry


class StaleVersion(Exception):
    pass


def check_version(entry: Entry, expected: int | None) -> None:
    if expected is not None and expected != entry.version:
        raise StaleVersion(f"entry is at version {entry.version}, not {expected}")


def apply_update(entry: Entry, changes: EntryUpdate, now: datetime) -> Entry:
    """Only fields the client named change; naming an optional field as null clears it."""
    named = changes.model_fields_set
    values: dict[str, Any] = {}
    for name in named:
        value = getattr(changes, name)
        if name in {"kind", "body", "occurred_on"} and value is None:
            continue  # required fields cannot be cleared
        if name in {"tags", "skills"} and value is None:
            value = []
        if name == "evidence" and value is not None:
            value = value.model_dump()
        values[name] = value
    updated = replace(entry, **values, version=entry.version + 1, updated_at=now, events=[])
    updated.events.append(
        JournalEntryUpdated(source=SOURCE, subject=entry.owner_id, time=now, data=updated.facts())
    )
    return updated


def deletion_event(entry: Entry, now: datetime) -> JournalEntryDeleted:
    return JournalEntryDeleted(
        source=SOURCE,
        subject=entry.owner_id,
        time=now,
        data=JournalEntryDeletedData(entry_id=entry.id, owner_id=entry.owner_id),
    )


def streaks(days: set[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days with an entry.

    The current streak still counts when today has no entry yet but yesterday had one:
    the day is not over.
    """
    longest = run = 0
    previous: date | None = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    cursor = today if today in days else today - timedelta(days=1)
    while cursor in days:
        current += 1
        cursor -= timedelta(days=1)
    return current, longest


def week_start(today: date) -> date:
    """Weeks start on Monday (ISO 8601)."""
    return today - timedelta(days=today.weekday())


class NotShareable(Exception):
    pass


def share_event(entry: Entry, share: EntryShare, now: datetime) -> JournalEntryShared:
    """The one event that carries journal text: the excerpt its author chose to share."""
    if share.anonymous and entry.kind != EntryKind.MISTAKE:
        raise NotShareable("only a mistake can be shared anonymously, as a lesson")
    return JournalEntryShared(
        source=SOURCE,
        subject=entry.owner_id,
        time=now,
        data=JournalEntrySharedData(
            share_id=str(uuid4()),
            entry_id=entry.id,
            owner_id=entry.owner_id,
            entry_kind=entry.kind.value,
            title=entry.title if share.include_title else None,
            excerpt=share.excerpt or entry.body,
            tags=entry.tags,
            audience=share.audience,
            anonymous=share.anonymous,
        ),
    )
