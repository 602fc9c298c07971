"""Core-NATS request/reply to the services, speaking the shared ``Reply`` envelope."""

from __future__ import annotations

import logging
import time
from typing import Any, TypeVar

import nats.errors
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from flowlearn_shared.observability.metrics import RPC_CLIENT_DURATION
from flowlearn_shared.observability.tracing import trace_headers
from flowlearn_shared.rpc import Problem
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from flowlearn_gateway.domain.errors import BadServiceReply, ServiceProblem, ServiceUnavailable

log = logging.getLogger("flowlearn.gateway.rpc")

M = TypeVar("M", bound=BaseModel)


class _Envelope(BaseModel):
    # The result is validated against the expected model in a second step, so one
    # envelope type serves every operation.
    result: Any = None
    problem: Problem | None = None


def nats_connected(broker: NatsBroker) -> bool:
    try:
        return bool(broker.connection.is_connected)
    except IncorrectState:
        return False


class RpcClient:
    def __init__(self, broker: NatsBroker, timeout: float) -> None:
        self.broker = broker
        self.timeout = timeout

    async def request(
        self,
        subject: str,
        payload: BaseModel | dict[str, Any],
        result_type: type[M],
        *,
        wait_seconds: float | None = None,
    ) -> M:
        envelope = await self._exchange(subject, payload, wait_seconds)
        try:
            return result_type.model_validate(envelope.result)
        except ValidationError:
            log.error("reply on %s has an unexpected result", subject)
            raise BadServiceReply(_service_of(subject)) from None

    async def command(
        self,
        subject: str,
        payload: BaseModel | dict[str, Any],
        *,
        wait_seconds: float | None = None,
    ) -> None:
        """A request whose successful reply carries no result."""
        await self._exchange(subject, payload, wait_seconds)

    async def _exchange(
        self, subject: str, payload: BaseModel | dict[str, Any], wait_seconds: float | None
    ) -> _Envelope:
        start = time.perf_counter()
        outcome = "unavailable"
        try:
            envelope = await self._send(subject, payload, wait_seconds)
            outcome = "ok" if envelope.problem is None else "problem"
        except BadServiceReply:
            outcome = "bad_reply"
            raise
        finally:
            RPC_CLIENT_DURATION.labels(subject, outcome).observe(time.perf_counter() - start)
        if envelope.problem is not None:
            raise ServiceProblem(envelope.problem)
        return envelope

    async def _send(
        self, subject: str, payload: BaseModel | dict[str, Any], wait_seconds: float | None
    ) -> _Envelope:
        service = _service_of(subject)
        body = (
            payload.model_dump_json().encode()
            if isinstance(payload, BaseModel)
            else to_json(payload)
        )
        if not nats_connected(self.broker):
            # While NATS is away the client would buffer the request and send it on
            # reconnect, after the caller got its 503: refuse at once, and send nothing.
            raise ServiceUnavailable(service, "NATS not connected")
        try:
            # The request's trace continues in the service that answers. Sent by the NATS
            # client itself: the broker's request wrapper costs more than the exchange.
            msg = await self.broker.connection.request(
                subject, body, timeout=wait_seconds or self.timeout, headers=trace_headers()
            )
        except nats.errors.NoRespondersError:
            # The server says at once that nobody listens: no need to wait for the timeout.
            raise ServiceUnavailable(service, "no responders") from None
        except TimeoutError:
            raise ServiceUnavailable(service, "timed out") from None
        except (nats.errors.Error, IncorrectState) as exc:
            raise ServiceUnavailable(service, f"NATS unavailable ({type(exc).__name__})") from None
        try:
            envelope = _Envelope.model_validate_json(msg.data)
        except ValidationError:
            log.error("reply on %s is not a reply envelope", subject)
            raise BadServiceReply(service) from None
        return envelope


def _service_of(subject: str) -> str:
    # flowrpc.<service>.<operation>
    parts = subject.split(".")
    return parts[1] if len(parts) > 1 else subject
