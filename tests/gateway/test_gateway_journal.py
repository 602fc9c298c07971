"""Journal routes: what the gateway sends over NATS and what the client gets back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from flowlearn_shared.subjects import RpcSubject

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
Entry = Callable[..., dict[str, Any]]


async def test_create_returns_201_with_location_and_etag(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, entry: Entry
) -> None:
    await services.answer(
        RpcSubject.JOURNAL_CREATE_ENTRY, services.ok(entry("abc123", version=1, kind="gem"))
    )
    response = await gateway.post(
        "/v1/journal/entries",
        json={"kind": "gem", "body": "A neat trick", "tags": ["Python", "python"]},
        headers=auth("alice", roles=["member", "manager", "wizard"], zoneinfo="Europe/Berlin"),
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/journal/entries/abc123"
    assert response.headers["etag"] == '"1"'
    assert response.json()["id"] == "abc123"
    sent = services.last(RpcSubject.JOURNAL_CREATE_ENTRY)
    assert sent["actor"] == {
        "user_id": "alice",
        "roles": ["member", "manager"],
        "timezone": "Europe/Berlin",
        "name": None,
    }
    assert sent["entry"]["kind"] == "gem"
    assert sent["entry"]["tags"] == ["python"]


async def test_actor_defaults_role_and_time_zone(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, entry: Entry
) -> None:
    await services.answer(RpcSubject.JOURNAL_GET_ENTRY, services.ok(entry("e1")))
    response = await gateway.get(
        "/v1/journal/entries/e1", headers=auth("bob", role="Curator", zoneinfo="Mars/Olympus")
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    sent = services.last(RpcSubject.JOURNAL_GET_ENTRY)
    assert sent == {
        "actor": {"user_id": "bob", "roles": ["curator"], "timezone": "UTC", "name": None},
        "entry_id": "e1",
    }


async def test_list_passes_every_tag_and_caps_the_limit(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, entry: Entry
) -> None:
    page = {"items": [entry("e1"), entry("e2")], "next_cursor": "c2"}
    await services.answer(RpcSubject.JOURNAL_LIST_ENTRIES, services.ok(page))
    response = await gateway.get(
        "/v1/journal/entries",
        params=[
            ("kind", "mistake"),
            ("tag", "ops"),
            ("tag", "friday"),
            ("q", "deploy"),
            ("from", "2025-01-01"),
            ("to", "2025-01-31"),
            ("limit", "500"),
            ("cursor", "c1"),
        ],
        headers=auth("carol"),
    )

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == ["e1", "e2"]
    assert response.json()["next_cursor"] == "c2"
    query = services.last(RpcSubject.JOURNAL_LIST_ENTRIES)["query"]
    assert query == {
        "kind": "mistake",
        "tags": ["ops", "friday"],
        "q": "deploy",
        "from_date": "2025-01-01",
        "to_date": "2025-01-31",
        "limit": 100,
        "cursor": "c1",
    }


async def test_list_defaults(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.JOURNAL_LIST_ENTRIES, services.ok({"items": [], "next_cursor": None})
    )
    response = await gateway.get("/v1/journal/entries", headers=auth())
    assert response.status_code == 200
    query = services.last(RpcSubject.JOURNAL_LIST_ENTRIES)["query"]
    assert query["limit"] == 20
    assert query["tags"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, ["query", "limit"]),
        ({"limit": "many"}, ["query", "limit"]),
        ({"from": "yesterday"}, ["query", "from"]),
        ({"from": "2025-02-01", "to": "2025-01-01"}, ["query", "from"]),
        ({"kind": "diary"}, ["query", "kind"]),
    ],
)
async def test_list_rejects_bad_query(
    gateway: httpx.AsyncClient, auth: Auth, params: dict[str, str], field: list[str]
) -> None:
    response = await gateway.get("/v1/journal/entries", params=params, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["loc"] for e in response.json()["errors"]]


async def test_patch_sends_only_named_fields_and_honours_if_match(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, entry: Entry
) -> None:
    await services.answer(
        RpcSubject.JOURNAL_UPDATE_ENTRY, services.ok(entry("e1", version=4, title=None))
    )
    response = await gateway.patch(
        "/v1/journal/entries/e1",
        json={"title": None, "minutes": 25},
        headers={**auth("dana"), "If-Match": '"3"'},
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"4"'
    sent = services.last(RpcSubject.JOURNAL_UPDATE_ENTRY)
    assert sent["changes"] == {"title": None, "minutes": 25}
    assert sent["if_match_version"] == 3
    assert sent["entry_id"] == "e1"


async def test_patch_without_if_match_or_with_star_has_no_precondition(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, entry: Entry
) -> None:
    await services.answer(RpcSubject.JOURNAL_UPDATE_ENTRY, services.ok(entry(version=2)))
    for extra in ({}, {"If-Match": "*"}):
        response = await gateway.patch(
            "/v1/journal/entries/e1", json={"body": "New"}, headers={**auth(), **extra}
        )
        assert response.status_code == 200
        assert services.last(RpcSubject.JOURNAL_UPDATE_ENTRY)["if_match_version"] is None


async def test_stale_if_match_is_412_from_the_journal(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.JOURNAL_UPDATE_ENTRY,
        services.problem(412, "Precondition failed", detail="The entry has changed."),
    )
    response = await gateway.patch(
        "/v1/journal/entries/e1", json={"body": "x"}, headers={**auth(), "If-Match": '"1"'}
    )
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The entry has changed."


@pytest.mark.parametrize("if_match", ["3", '"abc"', 'W/"3"', '"3'])
async def test_malformed_or_weak_if_match_fails_without_asking(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, if_match: str
) -> None:
    await services.answer(RpcSubject.JOURNAL_UPDATE_ENTRY, services.ok(None))
    response = await gateway.patch(
        "/v1/journal/entries/e1", json={"body": "x"}, headers={**auth(), "If-Match": if_match}
    )
    assert response.status_code == 412
    assert response.json()["status"] == 412
    assert not services.requests[RpcSubject.JOURNAL_UPDATE_ENTRY]


async def test_if_match_with_several_tags_uses_the_current_one(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, entry: Entry
) -> None:
    await services.answer(RpcSubject.JOURNAL_GET_ENTRY, services.ok(entry(version=5)))
    await services.answer(RpcSubject.JOURNAL_DELETE_ENTRY, services.ok(None))
    response = await gateway.delete(
        "/v1/journal/entries/e1", headers={**auth(), "If-Match": '"4", "5"'}
    )
    assert response.status_code == 204
    assert services.last(RpcSubject.JOURNAL_DELETE_ENTRY)["if_match_version"] == 5

    response = await gateway.delete(
        "/v1/journal/entries/e1", headers={**auth(), "If-Match": '"1", "2"'}
    )
    assert response.status_code == 412


async def test_delete_is_204_without_body(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_DELETE_ENTRY, services.ok(None))
    response = await gateway.delete("/v1/journal/entries/e9", headers=auth("erin"))
    assert response.status_code == 204
    assert response.content == b""
    sent = services.last(RpcSubject.JOURNAL_DELETE_ENTRY)
    assert sent["entry_id"] == "e9"
    assert sent["if_match_version"] is None


async def test_not_found_problem_passes_through(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.JOURNAL_GET_ENTRY,
        services.problem(404, "Not found", type="https://flowlearn.dev/problems/not-found"),
    )
    response = await gateway.get("/v1/journal/entries/nope", headers=auth())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://flowlearn.dev/problems/not-found"


async def test_stats_passes_an_explicit_tz_apart_from_the_token_zone(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    def stats(body: dict[str, Any]) -> dict[str, Any]:
        return services.ok(
            {
                "current_streak_days": 3,
                "longest_streak_days": 9,
                "minutes_this_week": 60,
                "entries_by_kind": {"learned": 4},
                "total_entries": 4,
                # The journal prefers an explicit zone, then the profile's, then the token's.
                "timezone": body["timezone"] or body["actor"]["timezone"],
            }
        )

    await services.answer(RpcSubject.JOURNAL_STATS, stats)
    headers = auth(zoneinfo="America/New_York")
    response = await gateway.get("/v1/journal/stats", headers=headers)
    assert response.status_code == 200
    assert response.json()["timezone"] == "America/New_York"

    response = await gateway.get("/v1/journal/stats", params={"tz": "Asia/Tokyo"}, headers=headers)
    assert response.json()["timezone"] == "Asia/Tokyo"

    response = await gateway.get(
        "/v1/journal/stats", params={"tz": "Nowhere/City"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "tz"]


async def test_prompts(gateway: httpx.AsyncClient, services: FakeServices, auth: Auth) -> None:
    prompts = {"items": [{"kind": "learned", "text": "What have you learned today?"}]}
    await services.answer(RpcSubject.JOURNAL_PROMPTS, services.ok(prompts))
    response = await gateway.get("/v1/journal/prompts", headers=auth("fay"))
    assert response.status_code == 200
    assert response.json() == prompts
    assert services.last(RpcSubject.JOURNAL_PROMPTS)["actor"]["user_id"] == "fay"


async def test_openapi_documents_the_journal(gateway: httpx.AsyncClient) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/v1/journal/entries/{entry_id}"]) == {"get", "patch", "delete"}
    create = paths["/v1/journal/entries"]["post"]
    assert create["tags"] == ["journal"]
    assert "201" in create["responses"]
    problem = create["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "Problem" in spec["components"]["schemas"]
    assert create["responses"]["201"]["headers"]["Location"]["schema"] == {"type": "string"}
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
