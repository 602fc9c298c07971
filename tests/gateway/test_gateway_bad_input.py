"""Hostile and broken requests: each gets a clear problem+json, never a 5xx or a hang."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from flowlearn_shared.contracts.journal import PAGE_LIMIT_MAX
from flowlearn_shared.subjects import RpcSubject

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices, GatewayFactory

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"
ENTRIES = "/v1/journal/entries"
GOOD_ENTRY = {"kind": "learned", "body": "Canary deploys catch what staging misses"}


def assert_problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["title"]
    return body


async def test_oversized_body_is_413(make_gateway: GatewayFactory, auth: Auth) -> None:
    async with make_gateway(max_body_bytes=10_000) as client:
        body = b'{"kind":"learned","body":"' + b"x" * 20_000 + b'"}'
        response = await client.post(
            ENTRIES, content=body, headers={**auth(), "content-type": "application/json"}
        )
    assert_problem(response, 413)


@pytest.mark.parametrize("shape", ["[", '{"a":'])
async def test_deeply_nested_json_is_refused_quickly(
    gateway: httpx.AsyncClient, auth: Auth, shape: str
) -> None:
    depth = 10_000
    closing = "]" if shape == "[" else "}"
    body = shape * depth + "1" + closing * depth
    response = await asyncio.wait_for(
        gateway.post(ENTRIES, content=body, headers={**auth(), "content-type": "application/json"}),
        timeout=5,
    )
    assert_problem(response, 400, 413, 422)


async def test_invalid_utf8_is_a_problem(gateway: httpx.AsyncClient, auth: Auth) -> None:
    body = b'{"kind":"learned","body":"caf\xc3\x28 \xff\xfe"}'
    response = await gateway.post(
        ENTRIES, content=body, headers={**auth(), "content-type": "application/json"}
    )
    assert_problem(response, 400, 422)


async def test_unknown_field_is_422_naming_it(gateway: httpx.AsyncClient, auth: Auth) -> None:
    response = await gateway.post(
        ENTRIES, json={**GOOD_ENTRY, "owner_id": "mallory"}, headers=auth()
    )
    problem = assert_problem(response, 422)
    assert any("owner_id" in error["loc"] for error in problem["errors"])


@pytest.mark.parametrize("limit", ["1000", "1000000000000000000000000"])
async def test_huge_page_size_is_capped(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, limit: str
) -> None:
    await services.answer(
        RpcSubject.JOURNAL_LIST_ENTRIES, services.ok({"items": [], "next_cursor": None})
    )
    response = await gateway.get(ENTRIES, params={"limit": limit}, headers=auth())
    assert response.status_code == 200
    assert services.last(RpcSubject.JOURNAL_LIST_ENTRIES)["query"]["limit"] == PAGE_LIMIT_MAX


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "1e3"])
async def test_nonsense_page_size_is_422(
    gateway: httpx.AsyncClient, auth: Auth, limit: str
) -> None:
    response = await gateway.get(ENTRIES, params={"limit": limit}, headers=auth())
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("path", "subject"),
    [(ENTRIES, RpcSubject.JOURNAL_LIST_ENTRIES), ("/v1/feed", RpcSubject.SHARING_FEED)],
)
async def test_malformed_cursor_is_400(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, path: str, subject: str
) -> None:
    # The services own the cursor format; the gateway passes their 400 on unchanged.
    await services.answer(subject, services.problem(400, "Bad request", detail="Bad cursor."))
    response = await gateway.get(path, params={"cursor": "%%not-a-cursor%%"}, headers=auth())
    assert_problem(response, 400)


async def test_overlong_cursor_is_refused_by_the_gateway(
    gateway: httpx.AsyncClient, auth: Auth
) -> None:
    response = await gateway.get(ENTRIES, params={"cursor": "c" * 10_000}, headers=auth())
    assert_problem(response, 422)


@pytest.mark.parametrize("if_match", ['W/"1"', "garbage", '"1', '"abc"', '"1", nonsense', ""])
async def test_bad_etag_is_412(
    gateway: httpx.AsyncClient,
    services: FakeServices,
    auth: Auth,
    entry: Callable[..., dict[str, Any]],
    if_match: str,
) -> None:
    await services.answer(RpcSubject.JOURNAL_GET_ENTRY, services.ok(entry(version=3)))
    await services.answer(RpcSubject.JOURNAL_UPDATE_ENTRY, services.ok(entry(version=4)))
    response = await gateway.patch(
        f"{ENTRIES}/e1", json={"body": "changed"}, headers={**auth(), "If-Match": if_match}
    )
    assert_problem(response, 412)
    assert not services.requests[RpcSubject.JOURNAL_UPDATE_ENTRY]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"kind=learned", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
        (b"null", "application/json"),
        (b'["kind", "learned"]', "application/json"),
        (b'{"kind": "learned", "body": 12}', "application/json"),
        (b'{"kind": "learned", "body": "' + "\u0000".encode() + b'"}', "application/json"),
    ],
)
async def test_wrong_shapes_are_4xx_problems(
    gateway: httpx.AsyncClient, auth: Auth, content: bytes, content_type: str
) -> None:
    response = await gateway.post(
        ENTRIES, content=content, headers={**auth(), "content-type": content_type}
    )
    assert_problem(response, 400, 415, 422)
