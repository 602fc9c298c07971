"""What every service process shares: the broker, JetStream publishing, health replies."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from pymongo import AsyncMongoClient

from flowlearn_shared.mongo import ping
from flowlearn_shared.rpc import HealthStatus, Reply
from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.streams import ensure_streams
from flowlearn_shared.subjects import EVENTS_STREAM, MSG_ID_HEADER, health_subject

log = logging.getLogger("flowlearn.runtime")


def make_broker(settings: ServiceSettings, service: str) -> NatsBroker:
    """Built once at start-up; nothing connects until the app starts it."""
    return NatsBroker(
        settings.nats_url,
        name=f"flowlearn-{service}",
        # Keep trying while NATS restarts instead of exiting into a crash loop.
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        allow_reconnect=True,
        connect_timeout=5,
        graceful_timeout=15.0,
        # Our JSON log handler, and per-message access lines only at debug level.
        logger=logging.getLogger(f"flowlearn.{service}.broker"),
        log_level=logging.DEBUG,
    )


def jetstream(broker: NatsBroker) -> JetStreamContext:
    js = broker.config.connection_state.stream
    if js is None:
        raise RuntimeError("broker is not connected")
    return js  # type: ignore[no-any-return]


async def start_broker(broker: NatsBroker) -> None:
    """Start every subscriber and wait until the server has them, so a request sent right
    after start-up finds its responder."""
    await broker.start()
    await broker.config.connection_state.connection.flush(timeout=5)


async def connect_and_prepare(broker: NatsBroker, settings: ServiceSettings) -> None:
    await broker.connect()
    await ensure_streams(jetstream(broker), settings)


class JetStreamPublisher:
    """Publishes an outbox record and waits for JetStream's acknowledgement."""

    def __init__(self, broker: NatsBroker, timeout: float = 5.0) -> None:
        self.broker = broker
        self.timeout = timeout

    async def publish(self, subject: str, payload: bytes, msg_id: str) -> None:
        await self.broker.publish(
            payload,
            subject=subject,
            headers={MSG_ID_HEADER: msg_id, "content-type": "application/cloudevents+json"},
            stream=EVENTS_STREAM,
            timeout=self.timeout,
        )


def register_health(
    broker: NatsBroker, service: str, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    @broker.subscriber(health_subject(service), queue=service, title=f"{service}:health")
    async def health() -> Reply[HealthStatus]:
        return Reply(result=HealthStatus(service=service, nats=True, mongodb=await ping(mongo)))


async def serve_until_stopped(
    start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]], service: str
) -> None:
    """Start, then wait for SIGTERM or SIGINT and stop gracefully (draining the broker)."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await start()
    log.info("service started", extra={"service_name": service})
    try:
        await stopped.wait()
    finally:
        log.info("service stopping", extra={"service_name": service})
        await stop()
