"""The typed payload (``data``) of every event."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
