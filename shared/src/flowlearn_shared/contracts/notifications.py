"""What the live notification stream (Server-Sent Events) sends."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from flowlearn_shared.contracts.nudges import Channel, NudgeStatus, NudgeType


class NudgeNotification(BaseModel):
    """A nudge that just reached the caller's inbox: the inbox item's fields known at
    delivery. `GET /v1/nudges/inbox` has the full item."""

    id: str
    type: NudgeType
    message: str
    status: NudgeStatus = NudgeStatus.DELIVERED
    delivered_at: datetime
    channels: list[Channel] = Field(default_factory=list)
    context: dict[str, str] = Field(default_factory=dict)
    redelivery: bool = Field(default=False, description="Back after a snooze")


class StreamTicket(BaseModel):
    ticket: str = Field(description="Pass as `?ticket=` to `GET /v1/notifications/stream`")
    expires_in: int = Field(description="Seconds the ticket can open a stream")
