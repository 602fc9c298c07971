"""The event envelope (CloudEvents attribute names) and the typed payload of every event.

An event's ``type`` is its versioned subject, so a consumer can pick the payload model
from the envelope alone. Older versions are upcast to the current one on read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from flowlearn_shared.subjects import WORK_EVENT_PREFIX, EventSubject


class EventData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JournalEntryFacts(EventData):
    """Metadata of a journal entry. Never the body or title: entries are private."""

    entry_id: str
    owner_id: str
    kind: str
    tags: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    nudge_id: str | None = None
    occurred_on: date
    minutes: int | None = None
    version: int = 1


class JournalEntryDeletedData(EventData):
    entry_id: str
    owner_id: str


class JournalEntrySharedData(EventData):
    """What the author chose to share: the excerpt, never the rest of the entry."""

    share_id: str
    entry_id: str
    owner_id: str
    entry_kind: str
    title: str | None = None
    excerpt: str
    tags: list[str] = Field(default_factory=list)
    audience: str
    anonymous: bool = False


class WorkingHoursData(EventData):
    days: list[int]
    start: str
    end: str


class QuietHoursData(EventData):
    start: str
    end: str


class ProfileFacts(EventData):
    user_id: str
    display_name: str
    timezone: str
    working_hours: WorkingHoursData
    quiet_hours: QuietHoursData | None = None


class TeamMembershipData(EventData):
    team_id: str
    team_name: str
    user_id: str
    role: str
    changed_by: str


class CommunityMembershipData(EventData):
    community_id: str
    community_name: str
    user_id: str


class PostFacts(EventData):
    """A post's metadata. ``author_id`` is for services acting for the author (portfolio,
    nudges); when ``anonymous`` it must never be shown to anyone else."""

    post_id: str
    kind: str
    author_id: str
    anonymous: bool
    audience: str
    tags: list[str] = Field(default_factory=list)
    source_entry_id: str | None = None
    review_by: date | None = None
    nudge_id: str | None = Field(default=None, description="The nudge the post answers")


class PostDeletedData(EventData):
    post_id: str
    author_id: str


class PostReviewDueData(EventData):
    """A post reached its review date: its owner is asked to re-verify it."""

    post_id: str
    owner_id: str
    review_by: date
    kind: str
    title: str | None = None


class KudosGivenData(EventData):
    """The message is included: the kudos belongs to its recipient, whose journal
    portfolio keeps it as evidence. Consumers show it to the recipient (and sender) only."""

    kudos_id: str
    from_id: str
    to_id: str
    strengths: list[str] = Field(default_factory=list)
    visibility: Literal["private", "team"]
    message: str


class CollectionEnrolledData(EventData):
    collection_id: str
    user_id: str
    title: str
    interval_days: int = Field(ge=1, le=30)
    item_count: int


class CollectionUnenrolledData(EventData):
    collection_id: str
    user_id: str


class GatheringEndedData(EventData):
    """Sent once per gathering; ``attendee_ids`` are the people who were going (not the
    waitlist), for a reflection prompt after the event."""

    gathering_id: str
    kind: str
    title: str
    host_id: str
    ended_at: datetime
    attendee_ids: list[str] = Field(default_factory=list)


class ExperimentStageChangedData(EventData):
    """``from_stage`` is null when the experiment was just pitched."""

    experiment_id: str
    owner_id: str
    team_id: str
    title: str
    from_stage: str | None
    to_stage: str
    learned: str | None = None


class QuestionAskedData(EventData):
    """A question's metadata and the people suggested to help; never its text."""

    question_id: str
    asker_id: str
    tags: list[str] = Field(default_factory=list)
    audience: str
    suggested_experts: list[str] = Field(
        default_factory=list, max_length=3, description="User ids, best match first"
    )


class AnswerAcceptedData(EventData):
    question_id: str
    answer_id: str
    asker_id: str
    answerer_id: str
    tags: list[str] = Field(default_factory=list)


class NudgeDeliveredData(EventData):
    """A nudge reached its person's in-app inbox; ``channels`` are where else it goes."""

    nudge_id: str
    user_id: str
    nudge_type: str
    message: str
    channels: list[str] = Field(default_factory=list)
    delivered_at: datetime
    redelivery: bool = Field(default=False, description="Delivered again after a snooze")
    context: dict[str, str] = Field(default_factory=dict)


class ErasureRequestedData(EventData):
    """A person asked to be erased everywhere. ``posts``: what becomes of what they wrote
    for others (posts, questions, answers...): deleted, or kept without any trace of them."""

    erasure_id: str
    user_id: str
    posts: Literal["delete", "anonymise"]


class PersonErasedData(EventData):
    """One service erased everything it held of the person."""

    erasure_id: str
    user_id: str
    service: str


class WorkEventData(BaseModel):
    """An outside tool's payload, as it sent it (any JSON object). Rules read its fields by
    name, e.g. ``participants`` (user ids)."""

    model_config = ConfigDict(frozen=True, extra="allow")


class _Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid4)
    source: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str = Field(description="The user or aggregate the event is about.")
    datacontenttype: Literal["application/json"] = "application/json"

    def nats_subject(self) -> str:
        return str(getattr(self, "type"))  # noqa: B009 - every concrete event defines it


class JournalEntryCreated(_Envelope):
    type: Literal[EventSubject.JOURNAL_ENTRY_CREATED] = EventSubject.JOURNAL_ENTRY_CREATED
    data: JournalEntryFacts


class JournalEntryUpdated(_Envelope):
    type: Literal[EventSubject.JOURNAL_ENTRY_UPDATED] = EventSubject.JOURNAL_ENTRY_UPDATED
    data: JournalEntryFacts


class JournalEntryDeleted(_Envelope):
    type: Literal[EventSubject.JOURNAL_ENTRY_DELETED] = EventSubject.JOURNAL_ENTRY_DELETED
    data: JournalEntryDeletedData


class JournalEntryShared(_Envelope):
    type: Literal[EventSubject.JOURNAL_ENTRY_SHARED] = EventSubject.JOURNAL_ENTRY_SHARED
    data: JournalEntrySharedData


class ProfileUpdated(_Envelope):
    type: Literal[EventSubject.PROFILE_UPDATED] = EventSubject.PROFILE_UPDATED
    data: ProfileFacts


class TeamMemberAdded(_Envelope):
    type: Literal[EventSubject.TEAM_MEMBER_ADDED] = EventSubject.TEAM_MEMBER_ADDED
    data: TeamMembershipData


class TeamMemberRemoved(_Envelope):
    type: Literal[EventSubject.TEAM_MEMBER_REMOVED] = EventSubject.TEAM_MEMBER_REMOVED
    data: TeamMembershipData


class CommunityMemberJoined(_Envelope):
    type: Literal[EventSubject.COMMUNITY_MEMBER_JOINED] = EventSubject.COMMUNITY_MEMBER_JOINED
    data: CommunityMembershipData


class CommunityMemberLeft(_Envelope):
    type: Literal[EventSubject.COMMUNITY_MEMBER_LEFT] = EventSubject.COMMUNITY_MEMBER_LEFT
    data: CommunityMembershipData


class PostCreated(_Envelope):
    type: Literal[EventSubject.POST_CREATED] = EventSubject.POST_CREATED
    data: PostFacts


class PostDeleted(_Envelope):
    type: Literal[EventSubject.POST_DELETED] = EventSubject.POST_DELETED
    data: PostDeletedData


class PostReviewDue(_Envelope):
    type: Literal[EventSubject.POST_REVIEW_DUE] = EventSubject.POST_REVIEW_DUE
    data: PostReviewDueData


class KudosGiven(_Envelope):
    type: Literal[EventSubject.KUDOS_GIVEN] = EventSubject.KUDOS_GIVEN
    data: KudosGivenData


class CollectionEnrolled(_Envelope):
    type: Literal[EventSubject.COLLECTION_ENROLLED] = EventSubject.COLLECTION_ENROLLED
    data: CollectionEnrolledData


class CollectionUnenrolled(_Envelope):
    type: Literal[EventSubject.COLLECTION_UNENROLLED] = EventSubject.COLLECTION_UNENROLLED
    data: CollectionUnenrolledData


class GatheringEnded(_Envelope):
    type: Literal[EventSubject.GATHERING_ENDED] = EventSubject.GATHERING_ENDED
    data: GatheringEndedData


class ExperimentStageChanged(_Envelope):
    type: Literal[EventSubject.EXPERIMENT_STAGE_CHANGED] = EventSubject.EXPERIMENT_STAGE_CHANGED
    data: ExperimentStageChangedData


class QuestionAsked(_Envelope):
    type: Literal[EventSubject.QUESTION_ASKED] = EventSubject.QUESTION_ASKED
    data: QuestionAskedData


class AnswerAccepted(_Envelope):
    type: Literal[EventSubject.ANSWER_ACCEPTED] = EventSubject.ANSWER_ACCEPTED
    data: AnswerAcceptedData


class NudgeDelivered(_Envelope):
    type: Literal[EventSubject.NUDGE_DELIVERED] = EventSubject.NUDGE_DELIVERED
    data: NudgeDeliveredData


class PersonErasureRequested(_Envelope):
    type: Literal[EventSubject.PERSON_ERASURE_REQUESTED] = EventSubject.PERSON_ERASURE_REQUESTED
    data: ErasureRequestedData


class PersonErased(_Envelope):
    """One type per confirming service (``flow.<service>.person.erased.v1``), one model."""

    type: Literal[
        EventSubject.JOURNAL_PERSON_ERASED,
        EventSubject.SHARING_PERSON_ERASED,
        EventSubject.NUDGES_PERSON_ERASED,
    ]
    data: PersonErasedData


WORK_TYPE_PATTERN = r"^flow\.work\.[a-z0-9_-]+(\.[a-z0-9_-]+)+\.v[0-9]+$"


class WorkEvent(_Envelope):
    """An event from an outside tool (CI, incident tracker...) received by the gateway's
    signed hook. Its type is not a fixed list: ``flow.work.<source>.<type>.v1``. The id is
    derived from the tool's own event id, so a resent event is recognised as the same."""

    type: str = Field(pattern=WORK_TYPE_PATTERN)
    data: WorkEventData = Field(default_factory=WorkEventData)
    originid: str = Field(max_length=200, description="The id the tool gave the event")
    origintype: str = Field(max_length=200, description="The type the tool gave the event")


KnownEvent = Annotated[
    JournalEntryCreated
    | JournalEntryUpdated
    | JournalEntryDeleted
    | JournalEntryShared
    | ProfileUpdated
    | TeamMemberAdded
    | TeamMemberRemoved
    | CommunityMemberJoined
    | CommunityMemberLeft
    | PostCreated
    | PostDeleted
    | PostReviewDue
    | KudosGiven
    | CollectionEnrolled
    | CollectionUnenrolled
    | GatheringEnded
    | ExperimentStageChanged
    | QuestionAsked
    | AnswerAccepted
    | NudgeDelivered
    | PersonErasureRequested
    | PersonErased,
    Field(discriminator="type"),
]
# Work events have open-ended types, so they are told apart by their prefix instead.
Event = KnownEvent | WorkEvent
_event_adapter: TypeAdapter[KnownEvent] = TypeAdapter(KnownEvent)

# Upcasters turn the raw JSON of an older event version into the next version, keyed by
# the old type. They run in a chain until the type is one this code knows.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[str, Upcaster] = {}


def register_upcaster(old_type: str) -> Callable[[Upcaster], Upcaster]:
    def decorate(fn: Upcaster) -> Upcaster:
        UPCASTERS[old_type] = fn
        return fn

    return decorate


def upcast(raw: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    while (kind := raw.get("type")) in UPCASTERS and kind not in seen:
        seen.add(kind)
        raw = UPCASTERS[kind](dict(raw))
    return raw


def parse_event(payload: bytes | str | dict[str, Any]) -> Event:
    """Parse any known event, upcasting older versions. Raises pydantic.ValidationError."""
    raw = payload if isinstance(payload, dict) else _raw_adapter.validate_json(payload)
    kind = raw.get("type")
    if isinstance(kind, str) and kind.startswith(WORK_EVENT_PREFIX):
        return WorkEvent.model_validate(raw)
    return _event_adapter.validate_python(upcast(raw))


_raw_adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def serialize_event(event: _Envelope) -> bytes:
    return event.model_dump_json().encode()
