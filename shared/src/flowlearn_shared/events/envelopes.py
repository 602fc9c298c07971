"""The envelope (CloudEvents attribute names) and one class per event type: the ``type``
literal is the versioned subject, so a consumer picks the payload model from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from flowlearn_shared.events.payloads import (
    AnswerAcceptedData,
    CollectionEnrolledData,
    CollectionUnenrolledData,
    CommunityMembershipData,
    ErasureRequestedData,
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
    TeamMembershipData,
    WorkEventData,
)
from flowlearn_shared.subjects import EventSubject


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
