"""Nudges as MongoDB documents: the stored shape, what a save writes, inbox cursors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from flowlearn_shared.contracts.nudges import Channel, NudgeStatus, NudgeType

from flowlearn_nudges.domain.catalogue import Origin, Timing
from flowlearn_nudges.domain.delivery import channels_due_at
from flowlearn_nudges.domain.nudge import Nudge

Document = dict[str, Any]
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
# Fields a save writes; the rest (ids, trigger, creation) never change.
_MUTABLE = (
    "status",
    "message",
    "due_at",
    "expires_at",
    "channels",
    "deliveries",
    "counted_on",
    "delivered_at",
    "opened_at",
    "acted_at",
    "dismissed_at",
    "snoozed_until",
    "ended_reason",
    "channels_due_at",
)


class InvalidCursor(ValueError):
    pass


def to_document(nudge: Nudge) -> Document:
    return {
        "_id": nudge.id,
        "user_id": nudge.user_id,
        "type": str(nudge.type),
        "message": nudge.message,
        "status": str(nudge.status),
        "origin": str(nudge.origin),
        "timing": str(nudge.timing),
        "wanted_at": nudge.wanted_at,
        "due_at": nudge.due_at,
        "expires_at": nudge.expires_at,
        "created_at": nudge.created_at,
        "context": nudge.context,
        "rule_id": nudge.rule_id,
        "event_id": nudge.event_id,
        "channels": [str(c) for c in nudge.channels],
        "deliveries": nudge.deliveries,
        "counted_on": nudge.counted_on,
        "delivered_at": nudge.delivered_at,
        "opened_at": nudge.opened_at,
        "acted_at": nudge.acted_at,
        "dismissed_at": nudge.dismissed_at,
        "snoozed_until": nudge.snoozed_until,
        "ended_reason": nudge.ended_reason,
        # Derived: the earliest pending outside-channel delivery, for the channel sender.
        "channels_due_at": channels_due_at(nudge.deliveries, nudge.delivered_at),
    }


def from_document(doc: Document) -> Nudge:
    return Nudge(
        id=doc["_id"],
        user_id=doc["user_id"],
        type=NudgeType(doc["type"]),
        message=doc["message"],
        status=NudgeStatus(doc["status"]),
        origin=Origin(doc["origin"]),
        timing=Timing(doc["timing"]),
        wanted_at=doc["wanted_at"],
        due_at=doc.get("due_at"),
        expires_at=doc.get("expires_at"),
        created_at=doc["created_at"],
        context=dict(doc.get("context") or {}),
        rule_id=doc.get("rule_id"),
        event_id=doc.get("event_id"),
        channels=[Channel(c) for c in doc.get("channels") or []],
        deliveries=dict(doc.get("deliveries") or {}),
        counted_on=doc.get("counted_on"),
        delivered_at=doc.get("delivered_at"),
        opened_at=doc.get("opened_at"),
        acted_at=doc.get("acted_at"),
        dismissed_at=doc.get("dismissed_at"),
        snoozed_until=doc.get("snoozed_until"),
        ended_reason=doc.get("ended_reason"),
    )


def save_update(
    nudge: Nudge, expect_status: NudgeStatus | None, lease_token: str | None
) -> tuple[Document, Document]:
    """The query and update of ``NudgeRepository.save``: with ``lease_token`` only while
    that lease is held (and releasing it), with ``expect_status`` only in that status."""
    query: Document = {"_id": nudge.id}
    if expect_status is not None:
        query["status"] = str(expect_status)
    doc = to_document(nudge)
    changes: Document = {name: doc[name] for name in _MUTABLE}
    if nudge.delivered_at is not None:
        changes["listed_at"] = nudge.delivered_at
    if lease_token is not None:
        query["lease_owner"] = lease_token
        changes |= {"lease_until": NEVER, "lease_owner": None}
    return query, {"$set": changes}


def encode_cursor(listed_at: datetime, nudge_id: str) -> str:
    raw = f"{int(listed_at.timestamp() * 1000)}\x1f{nudge_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        millis, nudge_id = raw.split("\x1f", 1)
        return datetime.fromtimestamp(int(millis) / 1000, UTC), nudge_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("not a cursor from this inbox") from exc
