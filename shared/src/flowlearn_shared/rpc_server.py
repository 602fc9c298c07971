"""Serving request/reply: validate the request, run the use case, answer a result or a
problem. A bad request gets a 422 problem, never silence."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.nats import NatsBroker, NatsMessage
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


async def raw_body(msg: Any) -> bytes:
    # The handler parses the body itself (``answer``). FastStream's own JSON decoding
    # would run first and die on hostile input (deeply nested JSON raises RecursionError),
    # leaving the caller without a reply.
    body: bytes = msg.body
    return body


async def whole_message(msg: Any) -> Any:
    """The message itself as the handler's argument. A handler asking for it through
    FastStream's Context instead pays a worker-thread hop per message (the context is
    resolved synchronously, and sync dependencies run in a thread pool)."""
    return msg


def serve(
    broker: NatsBroker,
    subject: str,
    model: type[Req],
    use_case: Callable[[Req], Awaitable[Any]],
    *,
    queue: str,
    max_workers: int = DEFAULT_CONCURRENCY,
) -> None:
    """Answer ``subject`` in the service's queue group, shared by every replica."""

    requests = {status: RPC_REQUESTS.labels(subject, str(status)) for status in (200, 422, 500)}
    duration = RPC_REQUEST_DURATION.labels(subject)

    async def handle(message: Any) -> Reply[Any]:
        msg: NatsMessage = message  # see whole_message
        raw = msg.raw_message
        # The caller's trace (the gateway's request) continues here, so the use case's
        # log lines and the events it writes carry the same trace id.
        with continue_trace(f"rpc {subject}", raw.headers, SpanKind.SERVER):
            start = time.perf_counter()
            reply = await answer(raw.data, model, use_case)
            elapsed = time.perf_counter() - start
            status = reply.problem.status if reply.problem is not None else 200
            counter = requests.get(status) or RPC_REQUESTS.labels(subject, str(status))
            counter.inc()
            duration.observe(elapsed)
            # The service's access line: subject, status and time, never the request.
            log.info(
                "request served",
                extra={
                    "subject": subject,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
        return reply

    broker.subscriber(
        subject,
        queue=queue,
        max_workers=max_workers,
        title=f"{queue}:{subject}",
        decoder=whole_message,
    )(handle)
