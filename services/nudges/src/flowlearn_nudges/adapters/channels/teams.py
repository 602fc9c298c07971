"""Microsoft Teams incoming webhooks (and Workflows webhooks): a message carrying one
Adaptive Card (schema 1.4) with the nudge as TextBlocks and an Action.OpenUrl to the hub."""

from __future__ import annotations

import json
from typing import Any

from flowlearn_shared.contracts.nudges import Channel, NudgePreferences

from flowlearn_nudges.adapters.channels.base import HttpPoster, NotConfigured
from flowlearn_nudges.domain.delivery import Outgoing

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
DIGEST_ITEMS_MAX = 20


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def adaptive_card(outgoing: Outgoing) -> dict[str, Any]:
    body: list[dict[str, Any]] = [_text(outgoing.title, size="Medium", weight="Bolder")]
    if outgoing.digest:
        for item in outgoing.items[:DIGEST_ITEMS_MAX]:
            body.append(_text(item.title, weight="Bolder", spacing="Medium"))
            body.append(_text(item.message, spacing="Small"))
        more = len(outgoing.items) - DIGEST_ITEMS_MAX
        if more > 0:
            body.append(_text(f"and {more} more", isSubtle=True))
        link, label = outgoing.hub_link, "Open Flowlearn"
    else:
        body.append(_text(outgoing.items[0].message))
        link, label = outgoing.items[0].link, "Open in Flowlearn"
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": label, "url": link}],
    }


def teams_payload(outgoing: Outgoing) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "contentUrl": None,
                "content": adaptive_card(outgoing),
            }
        ],
    }


class TeamsSender:
    channel = Channel.TEAMS

    def __init__(self, poster: HttpPoster) -> None:
        self.poster = poster

    def endpoint(self, preferences: NudgePreferences) -> str:
        destination = preferences.destinations.teams
        if destination is None:
            raise NotConfigured("no Teams webhook URL is set")
        return destination.webhook_url

    async def send(self, outgoing: Outgoing, preferences: NudgePreferences) -> None:
        body = json.dumps(teams_payload(outgoing)).encode()
        await self.poster.post(self.endpoint(preferences), body, {})
