"""What every service process shares: the broker, JetStream publishing, health replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from nats.js import JetStreamContext
from pymongo import AsyncMongoClient

from flowlearn_shared.mongo import ping
from flowlearn_shared.observability.endpoint import MetricsServer, Sampler
from flowlearn_shared.observability.samplers import ConsumerLag, OutboxBacklog
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.outbox_relay import OutboxRelay
from flowlearn_shared.rpc import HealthStatus, Reply
from flowlearn_shared.rpc_server import rpc_server
from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.streams import ensure_streams
from flowlearn_shared.subjects import EVENTS_STREAM, MSG_ID_HEADER, health_subject

log = logging.getLogger("flowlearn.runtime")

# How long a stopping service lets the requests and events in hand finish.
GRACEFUL_TIMEOUT = 15.0


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
        graceful_timeout=GRACEFUL_TIMEOUT,
        # Our JSON log handler, and per-message access lines only at debug level.
        logger=logging.getLogger(f"flowlearn.{service}.broker"),
        log_level=logging.DEBUG,
    )


def asyncapi_document(broker: NatsBroker, title: str) -> AsyncAPI:
    """The AsyncAPI document of a service's broker, which must never be started: its
    request subjects are declared to FastStream only for the document."""
    rpc_server(broker).document(broker)
    return AsyncAPI(broker, title=title, version="1.0.0")


def jetstream(broker: NatsBroker) -> JetStreamContext:
    js = broker.config.connection_state.stream
    if js is None:
        raise RuntimeError("broker is not connected")
    return js  # type: ignore[no-any-return]


async def start_broker(broker: NatsBroker) -> None:
    """Start every subscriber and request subject and wait until the server has them, so a
    request sent right after start-up finds its responder."""
    await broker.start()
    connection = broker.config.connection_state.connection
    await rpc_server(broker).start(connection)
    await connection.flush(timeout=5)


async def connect_and_prepare(broker: NatsBroker, settings: ServiceSettings) -> None:
    await broker.connect()
    await ensure_streams(jetstream(broker), settings)


class JetStreamPublisher:
    """Publishes an outbox record and waits for JetStream's acknowledgement."""

    def __init__(self, broker: NatsBroker, timeout: float = 5.0) -> None:
        self.broker = broker
        self.timeout = timeout

    @staticmethod
    def _headers(msg_id: str, headers: Mapping[str, str] | None) -> dict[str, str]:
        return {
            **(headers or {}),
            MSG_ID_HEADER: msg_id,
            "content-type": "application/cloudevents+json",
        }

    async def publish(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> None:
        await self.broker.publish(
            payload,
            subject=subject,
            headers=self._headers(msg_id, headers),
            stream=EVENTS_STREAM,
            timeout=self.timeout,
        )

    async def start(
        self, subject: str, payload: bytes, msg_id: str, headers: Mapping[str, str] | None = None
    ) -> asyncio.Future[Any]:
        """Hand the message to the connection's buffer and return the future of its
        acknowledgement, so the caller's next message shares the socket write."""
        return await jetstream(self.broker).publish_async(
            subject, payload, stream=EVENTS_STREAM, headers=self._headers(msg_id, headers)
        )


def register_health(
    broker: NatsBroker, service: str, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    @broker.subscriber(health_subject(service), queue=service, title=f"{service}:health")
    async def health() -> Reply[HealthStatus]:
        return Reply(result=HealthStatus(service=service, nats=True, mongodb=await ping(mongo)))


def make_metrics_server(
    settings: ServiceSettings, broker: NatsBroker, outbox: Outbox, *samplers: Sampler
) -> MetricsServer:
    """The service's /metrics listener (none when ``metrics_port`` is 0), with its consumers'
    lag and its outbox backlog sampled at each scrape."""
    return MetricsServer(
        settings.metrics_host,
        settings.metrics_port,
        [ConsumerLag(broker), OutboxBacklog(outbox), *samplers],
    )


# What the final outbox pass may take during shutdown; the rest stays for the next relay.
FINAL_PUBLISH_SECONDS = 5.0


async def _stop_taking_requests(broker: NatsBroker) -> None:
    """Withdraw from every request subject first, keeping what already arrived: stopping a
    subscriber alone would leave it subscribed while it waits, silently dropping requests
    meant for another replica (their callers would time out)."""

    async def withdraw(subscriber: Any) -> None:
        subscription = getattr(subscriber, "subscription", None)
        if subscription is None or getattr(subscriber, "stream", None) is not None:
            return  # JetStream consumers: unacknowledged messages go to another replica
        try:
            await subscription.drain()
        except Exception as exc:
            log.warning("could not drain a subscription: %r", exc)
        subscriber.subscription = None  # drained; the broker must not unsubscribe it again

    await asyncio.gather(rpc_server(broker).withdraw(), *(withdraw(s) for s in broker.subscribers))
    # Requests handed over just now are queued in memory: let them start before the
    # subscribers count what is in flight.
    await asyncio.sleep(0.05)


async def stop_gracefully(broker: NatsBroker, relay: OutboxRelay | None = None) -> None:
    """Stop taking messages, let handlers in flight finish (up to the broker's graceful
    timeout), publish the events they committed, then drain the NATS connection."""
    await _stop_taking_requests(broker)
    await asyncio.gather(
        rpc_server(broker).finish(GRACEFUL_TIMEOUT),
        *(subscriber.stop() for subscriber in broker.subscribers),
    )
    if relay is not None:
        await relay.stop()
        try:
            await asyncio.wait_for(relay.flush(), FINAL_PUBLISH_SECONDS)
        except Exception as exc:  # left pending: any replica's relay publishes it later
            log.warning("final outbox pass incomplete: %r", exc)
    await broker.stop()  # unsubscribes what is left and drains the connection


async def serve_until_stopped(
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    service: str,
    *,
    stop_timeout: float = 25.0,
) -> None:
    """Start, then wait for SIGTERM or SIGINT and stop gracefully within ``stop_timeout``
    seconds. Returns normally (exit status 0) after a clean stop; exits with 1 past the
    bound, so an orchestrator sees that work may have been cut short."""
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
        began = time.monotonic()
        try:
            await asyncio.wait_for(stop(), stop_timeout)
        except TimeoutError:
            log.error(
                "service did not stop within %.0fs",
                stop_timeout,
                extra={"service_name": service},
            )
            raise SystemExit(1) from None
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
        log.info(
            "service stopped",
            extra={
                "service_name": service,
                "duration_ms": round((time.monotonic() - began) * 1000),
            },
        )


def run_service(main: Coroutine[Any, Any, None]) -> None:
    """Run a service process's main coroutine, on uvloop where it is installed. Most of a
    service's CPU per message is the event loop and the socket calls around it; uvloop cut
    the journal's CPU per request by about 6% (bench/RESULTS.md, the 12:57 to 13:18 runs)."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop
    except ImportError:  # not built for every platform; the standard loop does the same work
        pass
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main)
