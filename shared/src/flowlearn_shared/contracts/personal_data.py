"""Personal data: the export of everything a person owns, and the erasure of it.

The gateway gathers an export from every service that holds personal data, in parts: a
part is a JSON object of named sections (lists of items) small enough for one NATS reply,
and ``next_cursor`` asks for the rest. Each service builds its whole export, cuts it into
parts with ``pack`` and the gateway glues them back together with ``assemble``.

Erasure is event-driven (``flow.people.person.erasure_requested.v1``); each service confirms
with ``flow.<service>.person.erased.v1``. What a person wrote for others (posts, questions,
answers, kudos given, collections, gatherings, experiments) is deleted or kept under the
tombstone ``ERASED_PERSON`` as they choose; everything else of theirs is deleted.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field
from pydantic_core import to_json

from flowlearn_shared.contracts.journal import EntryPublic
from flowlearn_shared.contracts.nudges import NudgePreferences, NudgePublic
from flowlearn_shared.contracts.people import ProfilePublic
from flowlearn_shared.contracts.portfolio import AcceptedAnswer, KudosReceived
from flowlearn_shared.rpc import Actor

# Stands in for an erased author wherever their work is kept. Outside the id pattern of the
# API, so nobody can name it as a recipient, a member or a user.
ERASED_PERSON = "~erased"
ERASED_PERSON_NAME = "Erased person"
# The services that hold personal data; an erasure is complete when each has confirmed.
ERASING_SERVICES = ("journal", "sharing", "nudges")
# A part of an export stays well below NATS' default 1 MB message limit.
EXPORT_PART_MAX_BYTES = 600_000
ERASURE_ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"


def user_hash(user_id: str) -> str:
    """What an erasure record keeps of the person: a pseudonym to match a later request
    of the same token, never the id itself."""
    return hashlib.sha256(f"flowlearn-erasure:{user_id}".encode()).hexdigest()


class ContentChoice(StrEnum):
    """What becomes of what the person wrote for others."""

    DELETE = "delete"
    ANONYMISE = "anonymise"


# Requests from the gateway ------------------------------------------------------------------


class ExportPartRequest(BaseModel):
    actor: Actor
    cursor: str | None = Field(default=None, max_length=100)


class ExportPart(BaseModel):
    service: str
    sections: dict[str, list[dict[str, Any]]]
    next_cursor: str | None = None


class EraseRequest(BaseModel):
    actor: Actor
    posts: ContentChoice = ContentChoice.ANONYMISE


class ErasureAccepted(BaseModel):
    erasure_id: str = Field(description="Ask `GET /v1/me/erasure/{erasure_id}` for progress")
    status: Literal["pending", "erased"] = "pending"


class ErasureRef(BaseModel):
    actor: Actor
    erasure_id: str = Field(pattern=ERASURE_ID_PATTERN)


class ServiceErasure(BaseModel):
    status: Literal["pending", "erased"]
    erased_at: datetime | None = None


class ErasureStatus(BaseModel):
    erasure_id: str
    status: Literal["pending", "erased"] = Field(description="`erased` once every service is")
    posts: ContentChoice
    requested_at: datetime
    completed_at: datetime | None = None
    services: dict[str, ServiceErasure]


# The journal's part ---------------------------------------------------------------------------


class ExperimentStepExport(BaseModel):
    step_id: str
    experiment_id: str
    team_id: str
    title: str
    from_stage: str | None
    to_stage: str
    learned: str | None
    at: datetime


class KnownProfile(BaseModel):
    """What a service remembers of the person's profile (time zone, name)."""

    timezone: str | None = None
    display_name: str | None = None
    as_of: datetime | None = None


class JournalExport(BaseModel):
    entries: list[EntryPublic] = Field(default_factory=list, description="Oldest first")
    portfolio_kudos: list[KudosReceived] = Field(default_factory=list)
    portfolio_answers: list[AcceptedAnswer] = Field(default_factory=list)
    portfolio_experiment_steps: list[ExperimentStepExport] = Field(default_factory=list)
    known_profile: KnownProfile | None = None


# The sharing service's part -------------------------------------------------------------------


class TeamMembershipExport(BaseModel):
    team_id: str
    team_name: str
    role: str


class CommunityMembershipExport(BaseModel):
    community_id: str
    community_name: str | None
    joined_at: datetime | None


class PostExport(BaseModel):
    id: str
    kind: str
    title: str | None
    body: str
    tags: list[str]
    url: str | None
    audience: str
    anonymous: bool = Field(description="Shared without the author's name")
    review_by: date | None
    reactions: dict[str, int]
    comment_count: int
    source_entry_id: str | None
    created_at: datetime
    updated_at: datetime


class CommentExport(BaseModel):
    id: str
    post_id: str
    body: str
    created_at: datetime


class ReactionExport(BaseModel):
    post_id: str
    kind: str


class QuestionExport(BaseModel):
    id: str
    title: str
    body: str
    tags: list[str]
    audience: str
    answer_count: int
    accepted_answer_id: str | None
    score: int
    created_at: datetime
    updated_at: datetime


class AnswerExport(BaseModel):
    id: str
    question_id: str
    body: str
    score: int
    accepted: bool
    created_at: datetime


class VoteExport(BaseModel):
    target: str
    target_id: str
    value: int


class KudosExport(BaseModel):
    id: str
    from_id: str
    to_id: str
    message: str
    strengths: list[str]
    visibility: str
    created_at: datetime


class CollectionExport(BaseModel):
    id: str
    title: str
    description: str
    tags: list[str]
    audience: str
    items: list[dict[str, Any]]
    enrolled_count: int
    created_at: datetime
    updated_at: datetime


class EnrolmentExport(BaseModel):
    collection_id: str
    interval_days: int
    enrolled_at: datetime


class GatheringExport(BaseModel):
    id: str
    kind: str
    title: str
    description: str
    starts_at: datetime
    duration_minutes: int
    capacity: int
    location: str | None
    audience: str
    going_count: int
    waitlist_count: int
    created_at: datetime


class RsvpExport(BaseModel):
    gathering_id: str
    status: str
    created_at: datetime


class ExperimentExport(BaseModel):
    id: str
    team_id: str
    title: str
    pitch: str
    stage: str
    history: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class SharingExport(BaseModel):
    profile: ProfilePublic | None = None
    teams: list[TeamMembershipExport] = Field(default_factory=list)
    communities: list[CommunityMembershipExport] = Field(default_factory=list)
    posts: list[PostExport] = Field(
        default_factory=list, description="Posts written, anonymous ones included (marked)"
    )
    comments: list[CommentExport] = Field(default_factory=list)
    reactions: list[ReactionExport] = Field(default_factory=list)
    questions: list[QuestionExport] = Field(default_factory=list)
    answers: list[AnswerExport] = Field(default_factory=list)
    votes: list[VoteExport] = Field(default_factory=list)
    kudos_given: list[KudosExport] = Field(default_factory=list)
    kudos_received: list[KudosExport] = Field(default_factory=list)
    collections: list[CollectionExport] = Field(default_factory=list, description="Curated")
    enrolments: list[EnrolmentExport] = Field(default_factory=list)
    gatherings_hosted: list[GatheringExport] = Field(default_factory=list)
    rsvps: list[RsvpExport] = Field(default_factory=list)
    experiments: list[ExperimentExport] = Field(default_factory=list)


# The nudges service's part --------------------------------------------------------------------


class NudgesPersonExport(BaseModel):
    schedule: dict[str, Any] | None = Field(description="Time zone, working and quiet hours")
    created_at: datetime | None = None


class ActivityExport(BaseModel):
    entries_written: int
    last_entry_on: date | None
    last_written_at: datetime | None


class MembershipExport(BaseModel):
    """A team or community membership as the nudges service learned it from events."""

    group: Literal["team", "community"]
    group_id: str
    role: str | None = None
    active: bool
    at: datetime


class CampaignExport(BaseModel):
    id: str
    type: str
    message: str
    audience: str
    send_at: datetime | None
    status: str
    created_at: datetime


class NudgesExport(BaseModel):
    person: NudgesPersonExport | None = None
    preferences: NudgePreferences | None = Field(
        default=None, description="Webhook secrets are never included: see `has_secret`"
    )
    nudges: list[NudgePublic] = Field(default_factory=list, description="Oldest first")
    activity: ActivityExport | None = None
    memberships: list[MembershipExport] = Field(default_factory=list)
    campaigns: list[CampaignExport] = Field(default_factory=list, description="Created")


# The whole document ---------------------------------------------------------------------------


class ServiceAnswer(BaseModel):
    status: Literal["answered"] = "answered"
    parts: int = Field(ge=1, description="Replies the export took from this service")


class PersonalDataExport(BaseModel):
    user_id: str
    exported_at: datetime
    services: dict[str, ServiceAnswer] = Field(
        description="Every service that holds personal data, and that it answered"
    )
    journal: JournalExport
    sharing: SharingExport
    nudges: NudgesExport


# Cutting an export into parts and putting it together again -----------------------------------

M = TypeVar("M", bound=BaseModel)
Sections = list[tuple[str, list[dict[str, Any]]]]


def sections_of(export: BaseModel) -> Sections:
    """Every field as a list of JSON items, in declaration order (a single value is a list
    of at most one)."""
    dumped = export.model_dump(mode="json")
    out: Sections = []
    for name in type(export).model_fields:
        value = dumped[name]
        items = value if isinstance(value, list) else ([] if value is None else [value])
        out.append((name, items))
    return out


def _position(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    try:
        section, item = (int(part) for part in cursor.split(".", 1))
    except ValueError:
        return 0, 0
    return max(section, 0), max(item, 0)


def pack(
    service: str, sections: Sections, cursor: str | None, max_bytes: int = EXPORT_PART_MAX_BYTES
) -> ExportPart:
    """The part starting at ``cursor``: as many items as fit in ``max_bytes`` (at least one,
    so every call makes progress). Items are in a stable order, oldest first, so a cursor
    taken while the person adds something still points at the right place."""
    start_section, start_item = _position(cursor)
    out: dict[str, list[dict[str, Any]]] = {}
    size, taken = 200, 0
    for index in range(start_section, len(sections)):
        name, items = sections[index]
        chosen = out.setdefault(name, [])
        first = start_item if index == start_section else 0
        for position in range(first, len(items)):
            item_size = len(to_json(items[position])) + 1
            if taken and size + item_size > max_bytes:
                return ExportPart(service=service, sections=out, next_cursor=f"{index}.{position}")
            chosen.append(items[position])
            size += item_size
            taken += 1
        size += len(name) + 8
    return ExportPart(service=service, sections=out)


def assemble(model: type[M], sections: dict[str, list[dict[str, Any]]]) -> M:
    """The export model from the sections of every part (raises pydantic.ValidationError)."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        items = sections.get(name, [])
        is_list = getattr(field.annotation, "__origin__", None) is list
        values[name] = items if is_list else (items[0] if items else None)
    return model.model_validate(values)
