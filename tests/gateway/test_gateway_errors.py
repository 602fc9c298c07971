"""Every failure is an RFC 9457 problem: validation, size, routing, services gone quiet."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI
from flowlearn_gateway.entrypoints.http.deps import journal_client
from flowlearn_shared.subjects import RpcSubject

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"
SECRET_WORDS = "my manager never listens"


async def test_field_errors_are_listed_without_the_submitted_text(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_CREATE_ENTRY, services.ok(None))
    response = await gateway.post(
        "/v1/journal/entries",
        json={"kind": "diary", "body": SECRET_WORDS, "minutes": -5, "colour": "red"},
        headers=auth(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["title"]
    assert problem["type"].startswith("https://")
    locs = {tuple(e["loc"]) for e in problem["errors"]}
    assert {("body", "kind"), ("body", "minutes"), ("body", "colour")} <= locs
    for error in problem["errors"]:
        assert set(error) == {"loc", "msg", "type"}
    assert SECRET_WORDS not in response.text
    assert not services.requests[RpcSubject.JOURNAL_CREATE_ENTRY]


async def test_invalid_json_is_a_clear_422(gateway: httpx.AsyncClient, auth: Auth) -> None:
    response = await gateway.post(
        "/v1/journal/entries",
        content=b'{"kind": "learned", "body": ',
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert "not valid JSON" in response.json()["detail"]


async def test_body_over_limit_by_content_length(make_gateway: Any, auth: Auth) -> None:
    async with make_gateway(max_body_bytes=200) as client:
        response = await client.post(
            "/v1/journal/entries", json={"kind": "learned", "body": "x" * 500}, headers=auth()
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 413


async def test_body_over_limit_while_streaming(make_gateway: Any, auth: Auth) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"kind": "learned", "body": "'
        for _ in range(10):
            yield b"y" * 100
        yield b'"}'

    async with make_gateway(max_body_bytes=500) as client:
        response = await client.post(
            "/v1/journal/entries",
            content=chunks(),
            headers={**auth(), "Content-Type": "application/json"},
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_body_under_limit_passes(
    make_gateway: Any, services: FakeServices, auth: Auth, entry: Callable[..., dict[str, Any]]
) -> None:
    await services.answer(RpcSubject.JOURNAL_CREATE_ENTRY, services.ok(entry()))
    async with make_gateway(max_body_bytes=500) as client:
        response = await client.post(
            "/v1/journal/entries", json={"kind": "learned", "body": "short"}, headers=auth()
        )
    assert response.status_code == 201


async def test_unknown_route_and_method_are_problems(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Not Found"

    response = await gateway.put("/v1/journal/entries/e1", json={})
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert "PATCH" in response.headers["allow"]


async def test_no_responders_is_a_fast_503(make_gateway: Any, auth: Auth) -> None:
    # Nothing listens on the journal subjects; the request timeout is long on purpose.
    async with make_gateway(request_timeout_seconds=10) as client:
        started = time.monotonic()
        response = await client.get("/v1/journal/entries/e1", headers=auth())
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "2"
    assert elapsed < 1.0


async def test_silent_service_times_out_as_503(
    make_gateway: Any, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_GET_ENTRY, lambda body: None)
    async with make_gateway(request_timeout_seconds=0.3) as client:
        started = time.monotonic()
        response = await client.get("/v1/journal/entries/e1", headers=auth())
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert 0.25 < elapsed < 2.0


async def test_garbled_reply_is_502(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_GET_ENTRY, b"<html>oops</html>")
    response = await gateway.get("/v1/journal/entries/e1", headers=auth())
    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM

    await services.close()
    await services.answer(RpcSubject.JOURNAL_GET_ENTRY, services.ok({"id": "only"}))
    response = await gateway.get("/v1/journal/entries/e1", headers=auth())
    assert response.status_code == 502


async def test_service_422_keeps_only_loc_msg_type(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    errors = [{"loc": ["entry", "body"], "msg": "too long", "type": "too_long", "input": "..."}]
    await services.answer(
        RpcSubject.JOURNAL_CREATE_ENTRY,
        services.problem(422, "Unprocessable content", errors=errors),
    )
    response = await gateway.post(
        "/v1/journal/entries", json={"kind": "learned", "body": "ok"}, headers=auth()
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["entry", "body"], "msg": "too long", "type": "too_long"}
    ]


async def test_unexpected_error_is_500_without_internals(make_gateway: Any, auth: Auth) -> None:
    class Broken:
        async def get(self, *args: Any) -> None:
            raise RuntimeError("database password is hunter2")

    def configure(app: FastAPI) -> None:
        app.dependency_overrides[journal_client] = Broken

    async with make_gateway(raise_app_exceptions=False, configure=configure) as client:
        response = await client.get("/v1/journal/entries/e1", headers=auth())
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
