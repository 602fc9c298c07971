"""Journal API schemas (``XCreate / XUpdate / XPublic``) and the journal's request models.

The gateway renders these as its OpenAPI; the journal service validates the same models.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from flowlearn_shared.contracts.posts import Audience
from flowlearn_shared.idempotency import IDEMPOTENCY_KEY_PATTERN
from flowlearn_shared.rpc import Actor

BODY_MAX_CHARS = 20_000
TITLE_MAX_CHARS = 200
MAX_TAGS = 20
PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100


class EntryKind(StrEnum):
    REFLECTION = "reflection"
    LEARNED = "learned"
    MISTAKE = "mistake"
    GEM = "gem"
    ACHIEVEMENT = "achievement"
    INTERACTION = "interaction"
    EXPERIMENT = "experiment"


Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def _normalise_labels(values: list[str]) -> list[str]:
    """Tags and skills compare case-insensitively; keep the first spelling, drop repeats."""
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value.strip().lower(), None)
    return list(seen)


class Evidence(BaseModel):
    """Marks an entry as portfolio evidence, optionally with a link to the work."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)


class _EntryFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("tags", "skills", mode="after", check_fields=False)
    @classmethod
    def _labels(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _normalise_labels(values)


class EntryCreate(_EntryFields):
    kind: EntryKind
    title: str | None = Field(default=None, max_length=TITLE_MAX_CHARS)
    body: str = Field(min_length=1, max_length=BODY_MAX_CHARS, description="Markdown")
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    skills: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    occurred_on: date | None = Field(
        default=None, description="Day the work happened; defaults to today in the user's zone."
    )
    minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    nudge_id: str | None = Field(default=None, max_length=100)
    evidence: Evidence | None = None


class EntryUpdate(_EntryFields):
    """Fields to change; absent fields stay as they are, ``null`` clears optional ones."""

    kind: EntryKind | None = None
    title: str | None = Field(default=None, max_length=TITLE_MAX_CHARS)
    body: str | None = Field(default=None, min_length=1, max_length=BODY_MAX_CHARS)
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    skills: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    occurred_on: date | None = None
    minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    evidence: Evidence | None = None


class EntryPublic(BaseModel):
    id: str
    kind: EntryKind
    title: str | None
    body: str
    tags: list[str]
    skills: list[str]
    occurred_on: date
    minutes: int | None
    nudge_id: str | None
    evidence: Evidence | None
    version: int
    created_at: datetime
    updated_at: datetime


class EntryPage(BaseModel):
    items: list[EntryPublic]
    next_cursor: str | None


class EntryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EntryKind | None = None
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    q: str | None = Field(default=None, max_length=200)
    from_date: date | None = None
    to_date: date | None = None
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=200)


class JournalStats(BaseModel):
    current_streak_days: int
    longest_streak_days: int
    minutes_this_week: int
    entries_by_kind: dict[str, int]
    total_entries: int
    timezone: str


class Prompt(BaseModel):
    kind: EntryKind
    text: str


class PromptList(BaseModel):
    items: list[Prompt]


# Requests from the gateway. Each names the verified actor.
class CreateEntryRequest(BaseModel):
    actor: Actor
    entry: EntryCreate
    # A client retrying a create after a lost reply sends the same key: it gets the entry
    # the first attempt stored instead of a second one.
    idempotency_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)


class EntryRef(BaseModel):
    actor: Actor
    entry_id: str = Field(max_length=100)


class UpdateEntryRequest(BaseModel):
    actor: Actor
    entry_id: str = Field(max_length=100)
    # Sent with exclude_unset, so the journal sees which fields the client named.
    changes: EntryUpdate
    if_match_version: int | None = None


class DeleteEntryRequest(BaseModel):
    actor: Actor
    entry_id: str = Field(max_length=100)
    if_match_version: int | None = None


class ListEntriesRequest(BaseModel):
    actor: Actor
    query: EntryQuery


class StatsRequest(BaseModel):
    actor: Actor
    # Set only when the client named a zone; otherwise the person's profile zone applies.
    timezone: str | None = Field(default=None, max_length=64)


class EntryShare(BaseModel):
    """What to share from an entry. Only the excerpt leaves the journal."""

    model_config = ConfigDict(extra="forbid")

    audience: Audience
    excerpt: str | None = Field(
        default=None,
        min_length=1,
        max_length=BODY_MAX_CHARS,
        description="Defaults to the whole body.",
    )
    include_title: bool = True
    anonymous: bool = Field(
        default=False, description="Mistakes only: share as an anonymous lesson"
    )


class ShareEntryRequest(BaseModel):
    actor: Actor
    entry_id: str = Field(max_length=100)
    share: EntryShare


class ShareAccepted(BaseModel):
    share_id: str
    status: str = "accepted"
