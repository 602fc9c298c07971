"""Generic webhooks: each delivery is POSTed as JSON and signed, so the receiver can tell
it came from Flowlearn and was not replayed.

Headers on every request:

- ``X-Flowlearn-Timestamp``: Unix time in seconds when it was sent;
- ``X-Flowlearn-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the webhook's
  secret, over the bytes ``<timestamp>.<raw body>``;
- ``X-Flowlearn-Delivery``: the delivery's id, the same on every retry (delivery is at
  least once: de-duplicate on it).

To verify (this is what ``verify_signature`` does):

1. read the raw body bytes, before any JSON parsing;
2. compute ``hmac.new(secret.encode(), f"{timestamp}.".encode() + body, sha256).hexdigest()``
   and compare it with the header's hex part using a constant-time comparison
   (``hmac.compare_digest``);
3. refuse a timestamp more than a few minutes (``tolerance``) away from your clock, so a
   captured request cannot be replayed later.

Body: ``{"id", "type", "message", "user_id", "delivered_at", "link", "context",
"delivery_id", "attempt", "sent_at"}`` for one nudge; a digest has ``"type": "digest"``,
a summary ``message`` and the nudges under ``items``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from flowlearn_shared.contracts.nudges import Channel, NudgePreferences

from flowlearn_nudges.adapters.channels.base import HttpPoster, NotConfigured
from flowlearn_nudges.domain.delivery import Outgoing, OutgoingItem

SIGNATURE_HEADER = "X-Flowlearn-Signature"
TIMESTAMP_HEADER = "X-Flowlearn-Timestamp"
DELIVERY_HEADER = "X-Flowlearn-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``signature`` is ours for this body and timestamp, and the timestamp is
    within ``tolerance`` seconds of ``now``."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _item(item: OutgoingItem) -> dict[str, Any]:
    return {
        "id": item.nudge_id,
        "type": str(item.type),
        "message": item.message,
        "link": item.link,
        "delivered_at": item.delivered_at.isoformat(),
        "context": dict(item.context),
    }


def webhook_body(outgoing: Outgoing, sent_at: float) -> dict[str, Any]:
    common = {
        "user_id": outgoing.user_id,
        "delivery_id": outgoing.delivery_id,
        "attempt": outgoing.attempt,
        "sent_at": int(sent_at),
    }
    if not outgoing.digest:
        return {**_item(outgoing.items[0]), **common}
    return {
        "id": outgoing.delivery_id,
        "type": "digest",
        "message": outgoing.summary,
        "link": outgoing.hub_link,
        "delivered_at": outgoing.delivered_at.isoformat(),
        "items": [_item(item) for item in outgoing.items],
        **common,
    }


class WebhookSender:
    channel = Channel.WEBHOOK

    def __init__(self, poster: HttpPoster) -> None:
        self.poster = poster

    def endpoint(self, preferences: NudgePreferences) -> str:
        destination = preferences.destinations.webhook
        if destination is None:
            raise NotConfigured("no webhook URL is set")
        return destination.url

    async def send(self, outgoing: Outgoing, preferences: NudgePreferences) -> None:
        destination = preferences.destinations.webhook
        if destination is None or not destination.secret:
            raise NotConfigured("the webhook has no signing secret")
        now = time.time()
        timestamp = str(int(now))
        body = json.dumps(webhook_body(outgoing, now)).encode()
        headers = {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(destination.secret, timestamp, body),
            DELIVERY_HEADER: outgoing.delivery_id,
        }
        await self.poster.post(destination.url, body, headers)
