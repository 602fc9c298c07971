"""The gateway over real NATS, with small fake services answering its requests."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import jwt
import nats
import pytest
from fastapi import FastAPI
from flowlearn_gateway.entrypoints.http import create_app
from flowlearn_gateway.settings import GatewaySettings
from nats.aio.client import Client
from nats.aio.msg import Msg

SECRET = "gateway-tests-secret-0123456789abcdef"

Handler = Callable[[dict[str, Any]], Any]
TokenFactory = Callable[..., str]
GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


class FakeServices:
    """Answers the gateway's NATS requests with canned replies and records each request.

    A handler returns the reply (a dict, or raw bytes) or ``None`` to stay silent.
    """

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.requests: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._subs: list[Any] = []

    async def answer(self, subject: str, handler: Handler | dict[str, Any]) -> None:
        async def respond(msg: Msg) -> None:
            body = json.loads(msg.data) if msg.data else {}
            self.requests[subject].append(body)
            reply = handler(body) if callable(handler) else handler
            if reply is None:
                return
            await msg.respond(reply if isinstance(reply, bytes) else json.dumps(reply).encode())

        self._subs.append(await self.nc.subscribe(subject, cb=respond))
        await self.nc.flush()  # the server knows the interest before the test sends

    @staticmethod
    def ok(result: Any) -> dict[str, Any]:
        return {"result": result, "problem": None}

    @staticmethod
    def problem(status: int, title: str, **fields: Any) -> dict[str, Any]:
        body = {"type": "about:blank", "title": title, "status": status, **fields}
        return {"result": None, "problem": body}

    def last(self, subject: str) -> dict[str, Any]:
        assert self.requests[subject], f"nothing was asked on {subject}"
        return self.requests[subject][-1]

    async def close(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        self._subs.clear()


@pytest.fixture
async def services(nats_url: str) -> AsyncIterator[FakeServices]:
    nc = await nats.connect(nats_url)
    fake = FakeServices(nc)
    yield fake
    await fake.close()
    await nc.drain()


@pytest.fixture
def settings(nats_url: str) -> GatewaySettings:
    return GatewaySettings(
        env="test",
        nats_url=nats_url,
        jwt_secret=SECRET,
        request_timeout_seconds=2.0,
        readiness_timeout_seconds=0.5,
    )


@asynccontextmanager
async def running_app(
    app: FastAPI, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture
def make_gateway(settings: GatewaySettings) -> GatewayFactory:
    """``async with make_gateway(max_body_bytes=100) as client``: settings overridden."""

    def factory(
        *,
        raise_app_exceptions: bool = True,
        configure: Callable[[FastAPI], None] | None = None,
        **overrides: Any,
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=overrides))
        if configure:
            configure(app)
        return running_app(app, raise_app_exceptions=raise_app_exceptions)

    return factory


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_gateway() as client:
        yield client


@pytest.fixture
def token() -> TokenFactory:
    def make(
        sub: str | None = "user-1",
        *,
        expires_in: float | None = 300,
        key: Any = SECRET,
        algorithm: str = "HS256",
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        payload: dict[str, Any] = dict(claims)
        if expires_in is not None:
            payload["exp"] = int(time.time() + expires_in)
        if sub is not None:
            payload["sub"] = sub
        return jwt.encode(payload, key, algorithm=algorithm, headers=headers)

    return make


@pytest.fixture
def auth(token: TokenFactory) -> Callable[..., dict[str, str]]:
    def headers(*args: Any, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(*args, **kwargs)}"}

    return headers


@pytest.fixture
def entry() -> Callable[..., dict[str, Any]]:
    """An ``EntryPublic`` as the journal would send it."""

    def make(entry_id: str = "e1", version: int = 1, **fields: Any) -> dict[str, Any]:
        return {
            "id": entry_id,
            "kind": "learned",
            "title": None,
            "body": "Learned how request/reply works",
            "tags": [],
            "skills": [],
            "occurred_on": "2025-03-04",
            "minutes": None,
            "nudge_id": None,
            "evidence": None,
            "version": version,
            "created_at": "2025-03-04T10:00:00Z",
            "updated_at": "2025-03-04T10:00:00Z",
            **fields,
        }

    return make
