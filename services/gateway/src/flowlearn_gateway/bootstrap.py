"""Builds the gateway's clients once and runs the NATS connection for the app's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from faststream.nats import NatsBroker
from flowlearn_shared.runtime import make_broker

from flowlearn_gateway.adapters.health import HealthClient
from flowlearn_gateway.adapters.journal import JournalClient
from flowlearn_gateway.adapters.notifications import NotificationHub, StreamTickets
from flowlearn_gateway.adapters.profiles import ProfileEnsurer
from flowlearn_gateway.adapters.rate_counters import KvCounters
from flowlearn_gateway.adapters.rpc import RpcClient
from flowlearn_gateway.adapters.tokens import TokenVerifier
from flowlearn_gateway.adapters.work_events import WorkEventPublisher
from flowlearn_gateway.settings import GatewaySettings

log = logging.getLogger("flowlearn.gateway")


@dataclass
class Container:
    settings: GatewaySettings
    broker: NatsBroker
    owns_broker: bool
    rpc: RpcClient
    journal: JournalClient
    health: HealthClient
    tokens: TokenVerifier
    profiles: ProfileEnsurer
    notifications: NotificationHub
    tickets: StreamTickets
    work_events: WorkEventPublisher
    rate_counters: KvCounters


def build_container(settings: GatewaySettings, broker: NatsBroker | None = None) -> Container:
    """Nothing connects here; ``running`` does that when the app starts."""
    owns_broker = broker is None
    broker = broker or make_broker(settings, "gateway")
    rpc = RpcClient(broker, timeout=settings.request_timeout_seconds)
    return Container(
        settings=settings,
        broker=broker,
        owns_broker=owns_broker,
        rpc=rpc,
        journal=JournalClient(rpc),
        health=HealthClient(rpc, timeout=settings.readiness_timeout_seconds),
        tokens=TokenVerifier(settings),
        # A short wait: making the profile must never hold up the caller's request for long.
        profiles=ProfileEnsurer(rpc, wait_seconds=min(settings.request_timeout_seconds, 1.0)),
        notifications=NotificationHub(
            max_per_user=settings.notifications_max_per_user,
            max_streams=settings.notifications_max_streams,
            queue_size=settings.notifications_queue_size,
        ),
        tickets=StreamTickets(
            settings.jwt_secret.get_secret_value(), settings.notifications_ticket_seconds
        ),
        work_events=WorkEventPublisher(broker, timeout=settings.request_timeout_seconds),
        rate_counters=KvCounters(
            lambda: broker.connection,
            settings.rate_limit_bucket,
            ttl_seconds=settings.rate_limit_window_seconds,
        ),
    )


async def _connect(container: Container) -> None:
    # The broker retries by itself until NATS answers (max_reconnect_attempts=-1).
    if container.owns_broker:
        await container.broker.start()
    else:
        await container.broker.connect()
    log.info("connected to NATS")
    # Every replica hears every delivered nudge, for the streams its own clients hold.
    await container.notifications.start(container.broker.connection)
    if container.settings.rate_limiting:
        try:
            await container.rate_counters.prepare()
        except Exception as exc:
            log.warning("rate-limit bucket not ready: %s", exc)


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("cannot connect to NATS: %s", exc)


@contextlib.asynccontextmanager
async def running(container: Container) -> AsyncIterator[None]:
    """Connect to NATS, waiting a little; serve anyway if NATS is late (readyz reports it).

    A broker passed in by the caller is connected if needed but left for its owner to stop.
    """
    connecting = asyncio.create_task(_connect(container), name="gateway-nats-connect")
    connecting.add_done_callback(_report_failure)
    wait = container.settings.nats_startup_wait_seconds
    try:
        await asyncio.wait_for(asyncio.shield(connecting), timeout=wait)
    except TimeoutError:
        log.warning("NATS not reachable after %.1fs; still trying in the background", wait)
    try:
        yield
    finally:
        if not connecting.done():
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
        await container.notifications.stop()
        if container.owns_broker:
            await container.broker.stop()
        log.info("gateway stopped")
