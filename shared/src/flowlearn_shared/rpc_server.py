"""Serving request/reply: validate the request, run the use case, answer a result or a
problem. A bad request gets a 422 problem, never silence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.nats import NatsBroker, NatsMessage
from pydantic import BaseModel, ValidationError

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

    async def handle(msg: NatsMessage) -> Reply[Any]:
        return await answer(msg.raw_message.data, model, use_case)

    broker.subscriber(
        subject,
        queue=queue,
        max_workers=max_workers,
        title=f"{queue}:{subject}",
        decoder=raw_body,
    )(handle)
