"""Builds the outside channels once: the URL guard, one HTTP client, the senders, the
circuit breaker and the channel sender loop. Nothing connects here."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from flowlearn_shared.contracts.nudges import Channel
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.adapters.channel_repository import ChannelDeliveryRepository
from flowlearn_nudges.adapters.channels.base import (
    ChannelSender,
    HttpPoster,
    make_http_client,
)
from flowlearn_nudges.adapters.channels.email import EmailSender
from flowlearn_nudges.adapters.channels.slack import SlackSender
from flowlearn_nudges.adapters.channels.teams import TeamsSender
from flowlearn_nudges.adapters.channels.url_guard import Resolver, UrlGuard, system_resolver
from flowlearn_nudges.adapters.channels.webhook import WebhookSender
from flowlearn_nudges.adapters.people_repository import PeopleRepository
from flowlearn_nudges.domain.delivery import CircuitBreaker
from flowlearn_nudges.service_layer.delivery import ChannelDispatcher
from flowlearn_nudges.service_layer.destinations import Destinations
from flowlearn_nudges.service_layer.sender_config import SenderConfig
from flowlearn_nudges.settings import NudgesSettings


@dataclass
class Channels:
    settings: NudgesSettings
    guard: UrlGuard
    http: httpx.AsyncClient
    repository: ChannelDeliveryRepository
    breaker: CircuitBreaker
    destinations: Destinations
    dispatcher: ChannelDispatcher

    async def start(self) -> None:
        await self.repository.ensure_indexes()
        if self.settings.channels_enabled:
            self.dispatcher.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await self.http.aclose()


def build_channels(
    settings: NudgesSettings,
    db: AsyncDatabase[dict[str, Any]],
    people: PeopleRepository,
    clock: Callable[[], datetime],
    *,
    owner: str,
    resolver: Resolver = system_resolver,
    rng: random.Random | None = None,
) -> Channels:
    # Loopback and private addresses are for local runs only (SSRF).
    guard = UrlGuard(allow_private=settings.env in ("dev", "test"), resolver=resolver)
    http = make_http_client(settings.channel_send_timeout_seconds)
    poster = HttpPoster(http, guard)
    senders: dict[Channel, ChannelSender] = {
        Channel.SLACK: SlackSender(poster),
        Channel.TEAMS: TeamsSender(poster),
        Channel.WEBHOOK: WebhookSender(poster),
        Channel.EMAIL: EmailSender(settings, settings.channel_send_timeout_seconds),
    }
    breaker = CircuitBreaker(
        settings.channel_breaker_failures,
        timedelta(seconds=settings.channel_breaker_open_seconds),
        clock,
    )
    repository = ChannelDeliveryRepository(db)
    dispatcher = ChannelDispatcher(
        repository,
        people,
        senders,
        breaker,
        clock,
        SenderConfig.from_settings(settings),
        owner=owner,
        rng=rng,
    )
    destinations = Destinations(guard, email_enabled=bool(settings.smtp_host))
    return Channels(settings, guard, http, repository, breaker, destinations, dispatcher)
