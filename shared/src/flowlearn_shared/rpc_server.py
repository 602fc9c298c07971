"""Serving request/reply: validate the request, run the use case, answer a result or a
problem. A bad request gets a 422 problem, never silence.

Requests are served by nats-py subscriptions on the broker's own connection, not by
FastStream subscribers: FastStream's per-message path (middlewares, dependency injection,
a task group per concurrent subscriber) cost about half a millisecond of CPU per request,
more than the rest of the hop (bench/RESULTS.md). The routes are still declared to
FastStream for the AsyncAPI document (``document``)."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError

from flowlearn_shared.observability.metrics import RPC_REQUEST_DURATION, RPC_REQUESTS
from flowlearn_shared.observability.tracing import continue_trace
from flowlearn_shared.rpc import InvalidInput, Problem, Reply, ServiceError

log = logging.getLogger("flowlearn.rpc")

Req = TypeVar("Req", bound=BaseModel)

# Requests a replica handles at once per subject. One at a time would queue every caller
# behind the slowest database round trip.
DEFAULT_CONCURRENCY = 16
REPLY_HEADERS = {"content-type": "application/json"}


async def answer(
    raw: bytes, model: type[Req], use_case: Callable[[Req], Awaitable[Any]]
) -> Reply[Any]:
    try:
        request = model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return Reply(problem=InvalidInput("the request is not valid", errors).to_problem())
    try:
        return Reply(result=await use_case(request))
    except ServiceError as exc:
        return Reply(problem=exc.to_problem())
    except Exception:
        log.exception("request failed", extra={"request": model.__name__})
        return Reply(problem=Problem(title="Internal error", status=500))


async def whole_message(msg: Any) -> Any:
    """The message itself as a FastStream handler's argument. A handler asking for it
    through FastStream's Context instead pays a worker-thread hop per message (the context
    is resolved synchronously, and sync dependencies run in a thread pool)."""
    return msg


async def raw_body(msg: Any) -> bytes:
    # The handler parses the body itself. FastStream's own JSON decoding would run first
    # and die on hostile input (deeply nested JSON raises RecursionError), leaving the
    # caller without a reply.
    body: bytes = msg.body
    return body


@dataclass
class Route:
    subject: str
    model: type[BaseModel]
    use_case: Callable[[Any], Awaitable[Any]]
    queue: str
    max_workers: int

    def __post_init__(self) -> None:
        # Metric children looked up once, not on every request.
        self._duration = RPC_REQUEST_DURATION.labels(self.subject)
        self._requests: dict[int, Any] = {}

    def _count(self, status: int, elapsed: float) -> None:
        counter = self._requests.get(status)
        if counter is None:
            counter = self._requests[status] = RPC_REQUESTS.labels(self.subject, str(status))
        counter.inc()
        self._duration.observe(elapsed)

    async def handle(self, msg: Msg, connection: Client) -> None:
        # The caller's trace (the gateway's request) continues here, so the use case's
        # log lines and the events it writes carry the same trace id.
        with continue_trace(f"rpc {self.subject}", msg.headers, SpanKind.SERVER):
            start = time.perf_counter()
            reply = await answer(msg.data, self.model, self.use_case)
            body = reply.model_dump_json().encode()
            elapsed = time.perf_counter() - start
            status = reply.problem.status if reply.problem is not None else 200
            self._count(status, elapsed)
            # The service's access line: subject, status and time, never the request.
            log.info(
                "request served",
                extra={
                    "subject": self.subject,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
        if msg.reply:
            await connection.publish(msg.reply, body, headers=REPLY_HEADERS)


@dataclass
class RpcServer:
    """A service's request subjects: subscribed at start, withdrawn first at a stop."""

    routes: list[Route] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, connection: Client) -> None:
        for route in self.routes:
            self.subscriptions.append(
                await connection.subscribe(
                    route.subject, queue=route.queue, cb=self._dispatcher(route, connection)
                )
            )

    def _dispatcher(self, route: Route, connection: Client) -> Callable[[Msg], Awaitable[None]]:
        # nats-py runs a subscription's callback one message at a time; each request gets
        # its own task, and the limit holds back the next message once it is reached.
        limit = asyncio.Semaphore(route.max_workers)

        def finished(task: asyncio.Task[None]) -> None:
            self.in_flight.discard(task)
            limit.release()
            if not task.cancelled() and (error := task.exception()) is not None:
                log.error("could not answer a request on %s: %r", route.subject, error)

        async def dispatch(msg: Msg) -> None:
            await limit.acquire()
            task = asyncio.create_task(route.handle(msg, connection))
            self.in_flight.add(task)
            task.add_done_callback(finished)

        return dispatch

    async def withdraw(self) -> None:
        """Leave every request subject, keeping what already arrived: the server sends new
        requests to the other replicas."""
        subscriptions, self.subscriptions = self.subscriptions, []
        for subscription in subscriptions:
            try:
                await subscription.drain()  # type: ignore[no-untyped-call]
            except Exception as exc:
                log.warning("could not drain a request subscription: %r", exc)

    async def finish(self, seconds: float) -> None:
        """Wait for the requests in hand to be answered, for up to ``seconds``."""
        if self.in_flight:
            await asyncio.wait(set(self.in_flight), timeout=seconds)

    def document(self, broker: NatsBroker) -> None:
        """Declare the routes to FastStream so the AsyncAPI document lists them; only for a
        broker that is never started."""
        for route in self.routes:

            async def handle(message: Any) -> Reply[Any]:
                raise NotImplementedError("documentation only")

            broker.subscriber(
                route.subject,
                queue=route.queue,
                max_workers=route.max_workers,
                title=f"{route.queue}:{route.subject}",
                decoder=whole_message,
            )(handle)


_servers: weakref.WeakKeyDictionary[NatsBroker, RpcServer] = weakref.WeakKeyDictionary()


def rpc_server(broker: NatsBroker) -> RpcServer:
    """The request subjects served next to ``broker``'s subscribers, on its connection."""
    return _servers.setdefault(broker, RpcServer())


def serve(
    broker: NatsBroker,
    subject: str,
    model: type[Req],
    use_case: Callable[[Req], Awaitable[Any]],
    *,
    queue: str,
    max_workers: int = DEFAULT_CONCURRENCY,
) -> None:
    """Answer ``subject`` in the service's queue group, shared by every replica, once the
    broker is started with ``runtime.start_broker``."""
    rpc_server(broker).routes.append(Route(subject, model, use_case, queue, max_workers))
