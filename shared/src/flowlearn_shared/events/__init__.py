"""Every event Flowlearn publishes: the envelope, the typed payloads, parsing (with
upcasting of older versions) and serialising. Import from here, not from the submodules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from flowlearn_shared.events.envelopes import (
    WORK_TYPE_PATTERN,
    AnswerAccepted,
    CollectionEnrolled,
    CollectionUnenrolled,
    CommunityMemberJoined,
    CommunityMemberLeft,
    ExperimentStageChanged,
    GatheringEnded,
    JournalEntryCreated,
    JournalEntryDeleted,
    JournalEntryShared,
    JournalEntryUpdated,
    KudosGiven,
    NudgeDelivered,
    PersonErased,
    PersonErasureRequested,
    PostCreated,
    PostDeleted,
    PostReviewDue,
    ProfileUpdated,
    QuestionAsked,
    TeamMemberAdded,
    TeamMemberRemoved,
    WorkEvent,
    _Envelope,
)
from flowlearn_shared.events.payloads import (
    AnswerAcceptedData,
    CollectionEnrolledData,
    CollectionUnenrolledData,
    CommunityMembershipData,
    ErasureRequestedData,
    EventData,
    ExperimentStageChangedData,
    GatheringEndedData,
    JournalEntryDeletedData,
    JournalEntryFacts,
    JournalEntrySharedData,
    KudosGivenData,
    NudgeDeliveredData,
    PersonErasedData,
    PostDeletedData,
    PostFacts,
    PostReviewDueData,
    ProfileFacts,
    QuestionAskedData,
    QuietHoursData,
    TeamMembershipData,
    WorkEventData,
    WorkingHoursData,
)
from flowlearn_shared.subjects import WORK_EVENT_PREFIX

__all__ = [
    "UPCASTERS",
    "WORK_TYPE_PATTERN",
    "AnswerAccepted",
    "AnswerAcceptedData",
    "CollectionEnrolled",
    "CollectionEnrolledData",
    "CollectionUnenrolled",
    "CollectionUnenrolledData",
    "CommunityMemberJoined",
    "CommunityMemberLeft",
    "CommunityMembershipData",
    "ErasureRequestedData",
    "Event",
    "EventData",
    "ExperimentStageChanged",
    "ExperimentStageChangedData",
    "GatheringEnded",
    "GatheringEndedData",
    "JournalEntryCreated",
    "JournalEntryDeleted",
    "JournalEntryDeletedData",
    "JournalEntryFacts",
    "JournalEntryShared",
    "JournalEntrySharedData",
    "JournalEntryUpdated",
    "KnownEvent",
    "KudosGiven",
    "KudosGivenData",
    "NudgeDelivered",
    "NudgeDeliveredData",
    "PersonErased",
    "PersonErasedData",
    "PersonErasureRequested",
    "PostCreated",
    "PostDeleted",
    "PostDeletedData",
    "PostFacts",
    "PostReviewDue",
    "PostReviewDueData",
    "ProfileFacts",
    "ProfileUpdated",
    "QuestionAsked",
    "QuestionAskedData",
    "QuietHoursData",
    "TeamMemberAdded",
    "TeamMemberRemoved",
    "TeamMembershipData",
    "Upcaster",
    "WorkEvent",
    "WorkEventData",
    "WorkingHoursData",
    "_Envelope",
    "parse_event",
    "register_upcaster",
    "serialize_event",
    "upcast",
]

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
