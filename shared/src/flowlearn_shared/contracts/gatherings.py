"""Social learning events ("gatherings"): lunch & learns and book clubs with a start time,
a capacity and RSVPs; when full, people join a waitlist in the order they asked."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from flowlearn_shared.contracts.people import Id, PersonSummary
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX, Audience
from flowlearn_shared.rpc import Actor

CAPACITY_MAX = 1000


class GatheringKind(StrEnum):
    LUNCH_AND_LEARN = "lunch_and_learn"
    BOOK_CLUB = "book_club"


class RsvpStatus(StrEnum):
    GOING = "going"
    WAITLISTED = "waitlisted"


class GatheringCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: GatheringKind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000, description="Markdown")
    starts_at: AwareDatetime = Field(
        description="With a UTC offset or 'Z', e.g. 2026-03-05T12:30:00+01:00"
    )
    duration_minutes: int = Field(default=60, ge=5, le=24 * 60)
    capacity: int = Field(ge=1, le=CAPACITY_MAX)
    location: str | None = Field(default=None, max_length=500, description="A room or a URL")
    audience: Audience


class MyRsvp(BaseModel):
    status: RsvpStatus
    waitlist_position: int | None = Field(description="1 = next to get a seat")


class GatheringPublic(BaseModel):
    id: str
    kind: GatheringKind
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    capacity: int
    location: str | None
    audience: str
    host: PersonSummary
    is_mine: bool
    going_count: int
    waitlist_count: int
    my_rsvp: MyRsvp | None
    status: Literal["upcoming", "ongoing", "ended"]
    created_at: datetime


class GatheringPage(BaseModel):
    items: list[GatheringPublic]
    next_cursor: str | None


class GatheringQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: Literal["upcoming", "past"] = Field(
        default="upcoming",
        description="upcoming: not yet ended, soonest first; past: ended, latest first",
    )
    kind: GatheringKind | None = None
    limit: int = Field(default=20, ge=1, le=PAGE_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=300)


class Attendees(BaseModel):
    going: list[PersonSummary]
    waitlisted: list[PersonSummary] = Field(description="In the order they get a seat")


# Requests from the gateway.
class CreateGatheringRequest(BaseModel):
    actor: Actor
    gathering: GatheringCreate


class GatheringRef(BaseModel):
    actor: Actor
    gathering_id: Id


class ListGatheringsRequest(BaseModel):
    actor: Actor
    query: GatheringQuery
