"""Signed work-event hooks: checking a request's HMAC signature and turning the tool's
CloudEvent into Flowlearn's ``flow.work.<source>.<type>.v1`` event."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from flowlearn_shared.contracts.hooks import SIGNATURE_PREFIX, CloudEventIn
from flowlearn_shared.events import WorkEvent, WorkEventData
from flowlearn_shared.subjects import work_subject

_NAMESPACE = uuid5(NAMESPACE_URL, "https://flowlearn.dev/work-events")


class SignatureRejected(Exception):
    """Why a hook request is not accepted. ``detail`` is safe to show: it never says
    which part of a signature was wrong."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<raw body>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def check_timestamp(timestamp: str | None, now: datetime, tolerance_seconds: int) -> None:
    if not timestamp or not timestamp.isdigit():
        raise SignatureRejected("X-Flowlearn-Timestamp must be Unix seconds")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise SignatureRejected("the request is too old or from the future")


def check_signature(secret: str, timestamp: str, body: bytes, given: str | None) -> None:
    if not given or not hmac.compare_digest(signature(secret, timestamp, body), given.strip()):
        raise SignatureRejected("the signature does not match")


def event_id(source: str, origin_id: str) -> UUID:
    """The same tool event always gets the same id, so a resend has no second effect."""
    return uuid5(_NAMESPACE, f"{source}\x1f{origin_id}")


def dedup_key(source: str, origin_id: str) -> str:
    return f"work:{source}:{origin_id}"


def work_event(incoming: CloudEventIn, received_at: datetime) -> WorkEvent:
    """Raises ValueError when the source or type has nothing usable for a subject."""
    event_time = incoming.time or received_at
    if event_time.tzinfo is None:
        event_time = event_time.replace(tzinfo=UTC)
    return WorkEvent(
        id=event_id(incoming.source, incoming.id),
        source=f"flowlearn/hooks/{incoming.source}",
        type=work_subject(incoming.source, incoming.type),
        time=event_time,
        subject=incoming.subject or incoming.source,
        data=WorkEventData.model_validate(incoming.data),
        originid=incoming.id,
        origintype=incoming.type,
    )
