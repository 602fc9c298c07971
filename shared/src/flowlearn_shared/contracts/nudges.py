"""Nudges API schemas and the nudges service's request models.

The gateway renders these as its OpenAPI; the nudges service validates the same models.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from flowlearn_shared.contracts.people import ClockTime
from flowlearn_shared.rpc import Actor

DAILY_CAP_DEFAULT = 3
DAILY_CAP_MAX = 20
INACTIVITY_DAYS_DEFAULT = 3
SNOOZE_MIN_MINUTES = 5
SNOOZE_MAX_MINUTES = 24 * 60
RRULE_MAX_CHARS = 300
INBOX_LIMIT_DEFAULT = 20
INBOX_LIMIT_MAX = 100
DESTINATION_URL_MAX_CHARS = 2000
WEBHOOK_SECRET_MIN_CHARS = 16
WEBHOOK_SECRET_MAX_CHARS = 256
EMAIL_MAX_CHARS = 254


class NudgeType(StrEnum):
    LEARNING_HABIT = "learning_habit"
    REFLECT = "reflect"
    MISTAKE_MOMENT = "mistake_moment"
    SPOT_STRENGTH = "spot_strength"
    THREE_PS = "three_ps"
    MICRO_LEARNING = "micro_learning"
    EVENT_FOLLOWUP = "event_followup"
    HELP_REQUEST = "help_request"
    CUSTOM = "custom"


class NudgeStatus(StrEnum):
    SCHEDULED = "scheduled"
    DELIVERED = "delivered"
    OPENED = "opened"
    ACTED = "acted"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    EXPIRED = "expired"
    FAILED = "failed"


class Channel(StrEnum):
    """Where a nudge is delivered. The in-app inbox always receives every nudge."""

    IN_APP = "in_app"
    SLACK = "slack"
    TEAMS = "teams"
    WEBHOOK = "webhook"
    EMAIL = "email"


class AckAction(StrEnum):
    OPENED = "opened"
    ACTED = "acted"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"


class DigestPreference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Bundle nudges at one time of day")
    at: ClockTime = Field(default="16:30", description="Local time of the digest, HH:MM")


class TypePreference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    rrule: str | None = Field(
        default=None,
        min_length=1,
        max_length=RRULE_MAX_CHARS,
        description=(
            "iCalendar RRULE in local time, e.g. "
            "`FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=16;BYMINUTE=30`. "
            "DAILY, WEEKLY or MONTHLY."
        ),
    )


def _endpoint_url(value: str) -> str:
    """The shape of a URL we will post to. Whether its host is allowed (no loopback or
    private addresses in production) is the nudges service's check, at save and send time."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a URL has no spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("only http and https URLs are accepted")
    if "@" in parts.netloc:
        raise ValueError("a URL must not carry a user name or password")
    if not parts.hostname:
        raise ValueError("the URL needs a host")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValueError("the URL's port is not valid") from None
    return value


EndpointUrl = Annotated[
    str, Field(min_length=1, max_length=DESTINATION_URL_MAX_CHARS), AfterValidator(_endpoint_url)
]
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")


class SlackDestination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: EndpointUrl = Field(description="Slack incoming webhook URL")


class TeamsDestination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: EndpointUrl = Field(description="Microsoft Teams incoming webhook URL")


class WebhookDestination(BaseModel):
    """A URL that receives each nudge as JSON, signed with HMAC-SHA256 over
    `<X-Flowlearn-Timestamp>.<body>` in `X-Flowlearn-Signature: sha256=<hex>`."""

    model_config = ConfigDict(extra="forbid")

    url: EndpointUrl
    secret: str | None = Field(
        default=None,
        min_length=WEBHOOK_SECRET_MIN_CHARS,
        max_length=WEBHOOK_SECRET_MAX_CHARS,
        repr=False,
        exclude_if=lambda value: value is None,
        json_schema_extra={"writeOnly": True},
        description=(
            "Write-only signing secret: never returned. Leave it out to keep the current one."
        ),
    )
    has_secret: bool = Field(
        default=False, json_schema_extra={"readOnly": True}, description="A secret is set"
    )


class EmailDestination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=3, max_length=EMAIL_MAX_CHARS)

    @field_validator("address", mode="after")
    @classmethod
    def _an_address(cls, address: str) -> str:
        if not _EMAIL.match(address):
            raise ValueError("not an e-mail address")
        return address


class ChannelDestinations(BaseModel):
    """Where each outside channel delivers. A channel listed in `channels` needs its entry."""

    model_config = ConfigDict(extra="forbid")

    slack: SlackDestination | None = None
    teams: TeamsDestination | None = None
    webhook: WebhookDestination | None = None
    email: EmailDestination | None = None


class NudgePreferences(BaseModel):
    """A person's nudge settings. Time zone, working days and hours and quiet hours come
    from the profile (`PATCH /v1/me`)."""

    model_config = ConfigDict(extra="forbid")

    daily_cap: int = Field(
        default=DAILY_CAP_DEFAULT,
        ge=1,
        le=DAILY_CAP_MAX,
        description="Most nudges delivered per local day; more wait for the next day",
    )
    channels: list[Channel] = Field(
        default_factory=lambda: [Channel.IN_APP],
        max_length=len(Channel),
        description="Delivery channels; `in_app` is always included",
    )
    destinations: ChannelDestinations = Field(
        default_factory=ChannelDestinations,
        description="Slack and Teams webhook URLs, a signed webhook, an e-mail address",
    )
    digest: DigestPreference = Field(default_factory=DigestPreference)
    types: dict[NudgeType, TypePreference] = Field(
        default_factory=dict, description="Per type: on or off, and an optional schedule"
    )
    inactivity_days: int = Field(
        default=INACTIVITY_DAYS_DEFAULT,
        ge=1,
        le=30,
        description="Days without a journal entry before one gentle `reflect` nudge",
    )

    @field_validator("channels", mode="after")
    @classmethod
    def _in_app_first(cls, channels: list[Channel]) -> list[Channel]:
        rest = [c for c in dict.fromkeys(channels) if c != Channel.IN_APP]
        return [Channel.IN_APP, *rest]


class ChannelDelivery(BaseModel):
    status: Literal["pending", "delivered", "failed"]
    at: datetime | None = None
    attempts: int = 0
    error: str | None = Field(default=None, description="Why the last attempt failed")
    next_attempt_at: datetime | None = Field(
        default=None, description="When a pending delivery is tried (again)"
    )


class NudgePublic(BaseModel):
    id: str
    type: NudgeType
    message: str
    status: NudgeStatus
    due_at: datetime | None = Field(description="When it is (next) due; null once delivered")
    delivered_at: datetime | None
    opened_at: datetime | None = None
    acted_at: datetime | None = None
    dismissed_at: datetime | None = None
    snoozed_until: datetime | None = None
    expires_at: datetime | None = None
    channels: list[Channel] = Field(default_factory=list)
    deliveries: dict[Channel, ChannelDelivery] = Field(default_factory=dict)
    context: dict[str, str] = Field(
        default_factory=dict, description="Ids of what the nudge is about (question, event...)"
    )
    created_at: datetime


class NudgePage(BaseModel):
    items: list[NudgePublic]
    next_cursor: str | None


class NudgeAck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: AckAction
    minutes: int | None = Field(
        default=None,
        ge=SNOOZE_MIN_MINUTES,
        le=SNOOZE_MAX_MINUTES,
        description="Snooze length; required with `snoozed`, not allowed otherwise",
    )

    @model_validator(mode="after")
    def _minutes_with_snooze(self) -> Self:
        if self.action == AckAction.SNOOZED and self.minutes is None:
            raise ValueError("snoozed needs minutes")
        if self.action != AckAction.SNOOZED and self.minutes is not None:
            raise ValueError("minutes only applies to snoozed")
        return self


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: NudgeStatus | None = None
    limit: int = Field(default=INBOX_LIMIT_DEFAULT, ge=1, le=INBOX_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=200)


# Requests from the gateway.
class PreferencesRequest(BaseModel):
    actor: Actor


class UpdatePreferencesRequest(BaseModel):
    actor: Actor
    preferences: NudgePreferences


class InboxRequest(BaseModel):
    actor: Actor
    query: InboxQuery = Field(default_factory=InboxQuery)


class AckRequest(BaseModel):
    actor: Actor
    nudge_id: str = Field(min_length=1, max_length=200)
    ack: NudgeAck
