"""Helpers for the kudos, collections, gatherings and experiments tests: request helpers, a
clock the test moves by hand, sharing replicas on one database, and reading the stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from flowlearn_shared.events import Event, parse_event
from flowlearn_shared.subjects import EVENTS_STREAM
from flowlearn_sharing.bootstrap import Sharing, bootstrap
from flowlearn_sharing.settings import SharingSettings
from nats.aio.client import Client


class FakeClock:
    """The service's clock, moved by the test instead of waiting for real time."""

    def __init__(self, now: datetime | None = None) -> None:
        start = now or datetime.now(UTC)
        self.now = start.replace(microsecond=start.microsecond // 1000 * 1000)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def actor(user: str, *roles: str) -> dict[str, Any]:
    return {"user_id": user, "roles": list(roles) or ["member"], "timezone": "UTC", "name": None}


async def call(nc: Client, subject: str, body: dict[str, Any]) -> dict[str, Any]:
    msg = await nc.request(subject, json.dumps(body, default=str).encode(), timeout=15)
    reply: dict[str, Any] = json.loads(msg.data)
    return reply


async def ok(nc: Client, subject: str, body: dict[str, Any]) -> Any:
    reply = await call(nc, subject, body)
    assert reply["problem"] is None, reply["problem"]
    return reply["result"]


async def status(nc: Client, subject: str, body: dict[str, Any]) -> int:
    """The problem's status, or 200 when the request succeeded."""
    reply = await call(nc, subject, body)
    return 200 if reply["problem"] is None else int(reply["problem"]["status"])


@asynccontextmanager
async def sharing_replicas(
    nats_url: str,
    mongodb_uri: str,
    unique: str,
    clock: Callable[[], datetime],
    count: int = 1,
    sweep_interval_seconds: float = 0.05,
) -> AsyncIterator[list[Sharing]]:
    """``count`` sharing services on one database, like replicas of one deployment."""
    settings = SharingSettings(
        nats_url=nats_url,
        mongodb_uri=mongodb_uri,
        database=f"sharing_{unique}",
        journal_shares_consumer=f"sharing-shares-{unique}",
        env="test",
        outbox_poll_seconds=0.2,
        retry_backoff_seconds=[0.2],
        sweep_interval_seconds=sweep_interval_seconds,
    )
    replicas = [bootstrap(settings, clock=clock) for _ in range(count)]
    started: list[Sharing] = []
    try:
        for replica in replicas:
            await replica.start()
            started.append(replica)
            # The server knows every subscription before the test sends its first request.
            await replica.broker.connection.flush()
        yield replicas
    finally:
        for replica in started:
            await replica.stop()


async def stream_events(
    nc: Client, subject: str, match: Callable[[Any], bool] = lambda _: True
) -> list[Event]:
    """Every event on ``subject`` the stream holds (it is shared by the whole test run)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(subject, stream=EVENTS_STREAM)
    found: list[Event] = []
    try:
        while True:
            try:
                batch = await sub.fetch(200, timeout=0.5)
            except TimeoutError:  # nats raises its subclass or the plain one
                break
            for msg in batch:
                event = parse_event(msg.data)
                if match(event.data):
                    found.append(event)
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return found


async def wait_for_events(
    nc: Client, subject: str, match: Callable[[Any], bool], count: int, within: float = 15
) -> list[Event]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await stream_events(nc, subject, match)
        if len(found) >= count:
            return found
        assert asyncio.get_running_loop().time() < deadline, (
            f"{len(found)} of {count} events on {subject}"
        )
        await asyncio.sleep(0.2)
