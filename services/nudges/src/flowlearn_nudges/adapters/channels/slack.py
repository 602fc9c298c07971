"""Slack incoming webhooks: a Block Kit message (header, the nudge, a button back to the
hub), with ``text`` as the notification fallback."""

from __future__ import annotations

import json
from typing import Any

from flowlearn_shared.contracts.nudges import Channel, NudgePreferences

from flowlearn_nudges.adapters.channels.base import HttpPoster, NotConfigured
from flowlearn_nudges.domain.delivery import Outgoing

HEADER_MAX = 150  # Block Kit limits
SECTION_MAX = 3000
DIGEST_ITEMS_MAX = 20  # 50 blocks at most per message


def _escape(text: str) -> str:
    """Slack mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _button(text: str, url: str, action_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "url": url,
        "action_id": action_id,
    }


def slack_payload(outgoing: Outgoing) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(outgoing.title, HEADER_MAX)},
        }
    ]
    if not outgoing.digest:
        item = outgoing.items[0]
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(_escape(item.message), SECTION_MAX)},
            }
        )
        blocks.append(
            {"type": "actions", "elements": [_button("Open in Flowlearn", item.link, "open_nudge")]}
        )
        return {"text": _clip(item.message, SECTION_MAX), "blocks": blocks}
    shown = outgoing.items[:DIGEST_ITEMS_MAX]
    for index, item in enumerate(shown):
        text = f"*{_escape(item.title)}*\n{_escape(item.message)}"
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _clip(text, SECTION_MAX)},
                "accessory": _button("Open", item.link, f"open_nudge_{index}"),
            }
        )
    if len(outgoing.items) > len(shown):
        more = len(outgoing.items) - len(shown)
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {more} more"}]}
        )
    blocks.append(
        {"type": "actions", "elements": [_button("Open Flowlearn", outgoing.hub_link, "open_hub")]}
    )
    return {"text": outgoing.summary, "blocks": blocks}


class SlackSender:
    channel = Channel.SLACK

    def __init__(self, poster: HttpPoster) -> None:
        self.poster = poster

    def endpoint(self, preferences: NudgePreferences) -> str:
        destination = preferences.destinations.slack
        if destination is None:
            raise NotConfigured("no Slack webhook URL is set")
        return destination.webhook_url

    async def send(self, outgoing: Outgoing, preferences: NudgePreferences) -> None:
        body = json.dumps(slack_payload(outgoing)).encode()
        await self.poster.post(self.endpoint(preferences), body, {})
