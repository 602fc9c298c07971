"""Campaigns: a manager's or curator's message sent as a nudge to an audience, and its
aggregate response counts (suppressed for fewer than five recipients)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowlearn_shared.contracts.nudges import NudgeType
from flowlearn_shared.contracts.posts import Audience
from flowlearn_shared.rpc import Actor

CAMPAIGN_MESSAGE_MAX = 1000
# Counts over fewer people than this would say what individuals did.
MIN_GROUP_SIZE = 5
SEND_AT_MAX_AHEAD = timedelta(days=365)
SEND_AT_MAX_BEHIND = timedelta(hours=1)


class CampaignStatus(StrEnum):
    SCHEDULING = "scheduling"  # recipients are being resolved and their nudges planned
    SCHEDULED = "scheduled"


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: NudgeType = Field(
        default=NudgeType.CUSTOM, description="The nudge type; recipients may have it off"
    )
    message: str = Field(min_length=1, max_length=CAMPAIGN_MESSAGE_MAX)
    audience: Audience = Field(
        description="`team:<id>`, `community:<id>`, `org` or `people:<id>,<id>`"
    )
    send_at: datetime | None = Field(
        default=None,
        description=(
            "When to send (with a time zone); none means now. Each recipient still gets it "
            "within their own working hours and outside quiet hours."
        ),
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message must not be blank")
        return value.strip()

    @field_validator("send_at")
    @classmethod
    def _sensible_time(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("send_at needs a time zone, e.g. 2026-06-10T09:00:00Z")
        now = datetime.now(UTC)
        if value < now - SEND_AT_MAX_BEHIND or value > now + SEND_AT_MAX_AHEAD:
            raise ValueError("send_at must be between an hour ago and a year from now")
        return value.astimezone(UTC)


class CampaignCreated(BaseModel):
    id: str


class CampaignStats(BaseModel):
    """Aggregates only: never who received, opened or acted on it."""

    id: str
    type: NudgeType
    audience: str
    message: str
    status: CampaignStatus
    send_at: datetime
    created_at: datetime
    recipients: int | None = Field(
        description="Nudges planned for the audience (null while still scheduling)"
    )
    suppressed: bool = Field(
        description=f"True below {MIN_GROUP_SIZE} recipients: the counts are then null"
    )
    delivered: int | None = Field(description="Reached the recipient's inbox")
    opened: int | None
    acted: int | None
    snoozed: int | None = Field(description="Snoozed right now")
    dismissed: int | None


# Requests from the gateway.
class CreateCampaignRequest(BaseModel):
    actor: Actor
    campaign: CampaignCreate


class GetCampaignRequest(BaseModel):
    actor: Actor
    campaign_id: str = Field(min_length=1, max_length=200)
