"""Checking a person's channel destinations when they save their preferences, and hiding
the webhook secret whenever preferences are shown.

Refused at save time (422, with the failing field): a channel listed without its
destination, e-mail when the server has no SMTP set up, a webhook without a signing secret,
and in production any URL whose host is or resolves to a non-public address.
"""

from __future__ import annotations

from typing import Any

from flowlearn_shared.contracts.nudges import Channel, NudgePreferences
from flowlearn_shared.rpc import InvalidInput

from flowlearn_nudges.adapters.channels.url_guard import RefusedUrl, UrlGuard
from flowlearn_nudges.domain.delivery import EXTERNAL

_ROOT = ["preferences", "destinations"]


def _error(loc: list[str], msg: str) -> dict[str, Any]:
    return {"loc": [*_ROOT, *loc], "msg": msg, "type": "value_error"}


def public_preferences(preferences: NudgePreferences) -> NudgePreferences:
    """Preferences as their owner sees them: the webhook secret never leaves the service;
    ``has_secret`` says whether one is set."""
    webhook = preferences.destinations.webhook
    if webhook is None:
        return preferences
    shown = webhook.model_copy(update={"secret": None, "has_secret": bool(webhook.secret)})
    destinations = preferences.destinations.model_copy(update={"webhook": shown})
    return preferences.model_copy(update={"destinations": destinations})


class Destinations:
    def __init__(self, guard: UrlGuard, *, email_enabled: bool) -> None:
        self.guard = guard
        self.email_enabled = email_enabled

    async def prepare(
        self, current: NudgePreferences, wanted: NudgePreferences
    ) -> NudgePreferences:
        """``wanted`` ready to store (a webhook secret left out keeps the current one), or
        InvalidInput listing every problem."""
        errors: list[dict[str, Any]] = []
        destinations = wanted.destinations
        webhook = destinations.webhook
        if webhook is not None:
            kept = current.destinations.webhook
            secret = webhook.secret or (kept.secret if kept is not None else None)
            if not secret:
                errors.append(_error(["webhook", "secret"], "a webhook needs a signing secret"))
            webhook = webhook.model_copy(update={"secret": secret, "has_secret": bool(secret)})
            destinations = destinations.model_copy(update={"webhook": webhook})
        for channel in wanted.channels:
            if channel in EXTERNAL and getattr(destinations, str(channel)) is None:
                errors.append(_error([str(channel)], f"{channel} is in channels but not set up"))
        if Channel.EMAIL in wanted.channels and not self.email_enabled:
            errors.append(_error(["email"], "e-mail is not set up on this server"))
        urls: list[tuple[list[str], str]] = []
        if destinations.slack is not None:
            urls.append((["slack", "webhook_url"], destinations.slack.webhook_url))
        if destinations.teams is not None:
            urls.append((["teams", "webhook_url"], destinations.teams.webhook_url))
        if webhook is not None:
            urls.append((["webhook", "url"], webhook.url))
        for loc, url in urls:
            try:
                # In dev and test every address is allowed: no need to look the host up.
                await self.guard.check(url, resolve=not self.guard.allow_private)
            except RefusedUrl as exc:
                errors.append(_error(loc, str(exc)))
        if errors:
            raise InvalidInput("a delivery channel cannot be used as given", errors)
        return wanted.model_copy(update={"destinations": destinations})
