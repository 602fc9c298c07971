"""Inbound work events: CloudEvents (structured JSON mode) that outside tools send to
``POST /v1/hooks/work-events``, signed with HMAC-SHA256 per source."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SIGNATURE_HEADER = "X-Flowlearn-Signature"
TIMESTAMP_HEADER = "X-Flowlearn-Timestamp"
SIGNATURE_PREFIX = "sha256="
# A signed request older (or newer) than this is refused, so a captured one cannot be
# replayed later.
SIGNATURE_TOLERANCE_SECONDS = 300


class CloudEventIn(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode. Extension attributes are allowed
    and ignored; ``data`` must be a JSON object."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200, description="A configured source name")
    type: str = Field(
        min_length=1, max_length=200, description="e.g. `incident.closed`; dots separate tokens"
    )
    subject: str | None = Field(default=None, max_length=200)
    time: datetime | None = None
    datacontenttype: str | None = Field(default=None, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)


class WorkEventAccepted(BaseModel):
    id: str = Field(description="The event's id on Flowlearn's event stream")
    subject: str = Field(description="Where it was published, `flow.work.<source>.<type>.v1`")
    duplicate: bool = Field(description="The same source and id arrived before (not re-sent)")
