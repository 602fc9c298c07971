"""People directory (owned by the sharing service): profiles, teams, communities."""

from __future__ import annotations

import re
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from flowlearn_shared.rpc import Actor

ID_PATTERN = r"^[A-Za-z0-9_.@:-]{1,100}$"
Id = Annotated[str, Field(pattern=ID_PATTERN)]


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone; use an IANA name such as 'Europe/Berlin'") from exc
    return name


def _clock(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError("use 24-hour HH:MM")
    return value


TimeZoneName = Annotated[str, AfterValidator(_timezone)]
ClockTime = Annotated[str, AfterValidator(_clock)]


def clock_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class WorkingHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5],
        min_length=1,
        max_length=7,
        description="ISO weekdays: 1 = Monday ... 7 = Sunday",
    )
    start: ClockTime = "09:00"
    end: ClockTime = "17:00"

    @model_validator(mode="after")
    def _order(self) -> Self:
        if len(set(self.days)) != len(self.days):
            raise ValueError("days must not repeat")
        if clock_time(self.start) >= clock_time(self.end):
            raise ValueError("start must be before end")
        self.days = sorted(self.days)
        return self


class QuietHours(BaseModel):
    """May span midnight (22:00-07:00)."""

    model_config = ConfigDict(extra="forbid")

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    timezone: TimeZoneName | None = None
    working_hours: WorkingHours | None = None
    quiet_hours: QuietHours | None = None


class ProfilePublic(BaseModel):
    user_id: str
    display_name: str
    timezone: str
    working_hours: WorkingHours
    quiet_hours: QuietHours | None
    roles: list[str]
    created_at: datetime
    updated_at: datetime


class PersonSummary(BaseModel):
    user_id: str
    display_name: str


class TeamRole(StrEnum):
    MEMBER = "member"
    LEAD = "lead"


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


class TeamMemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id
    role: TeamRole = TeamRole.MEMBER


class TeamMember(BaseModel):
    user_id: str
    display_name: str
    role: TeamRole


class TeamPublic(BaseModel):
    id: str
    name: str
    members: list[TeamMember]
    created_at: datetime


class TeamList(BaseModel):
    items: list[TeamPublic]


class CommunityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )


class CommunityPublic(BaseModel):
    id: str
    name: str
    description: str
    tags: list[str]
    member_count: int
    is_member: bool
    created_at: datetime


class CommunityList(BaseModel):
    items: list[CommunityPublic]


# Requests from the gateway.
class ActorRequest(BaseModel):
    actor: Actor


class UpdateProfileRequest(BaseModel):
    actor: Actor
    changes: ProfileUpdate


class CreateTeamRequest(BaseModel):
    actor: Actor
    team: TeamCreate


class TeamRef(BaseModel):
    actor: Actor
    team_id: Id


class AddTeamMemberRequest(BaseModel):
    actor: Actor
    team_id: Id
    member: TeamMemberAdd


class RemoveTeamMemberRequest(BaseModel):
    actor: Actor
    team_id: Id
    user_id: Id


class CreateCommunityRequest(BaseModel):
    actor: Actor
    community: CommunityCreate


class CommunityRef(BaseModel):
    actor: Actor
    community_id: Id
