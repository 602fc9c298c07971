"""Sharing routes (posts, reactions, comments, feed, sharing a journal entry): what the
gateway sends over NATS and what the client gets back."""

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
PROBLEM = "application/problem+json"
NOW = "2025-03-04T10:00:00Z"


def post(post_id: str = "p1", version: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "kind": "tip",
        "title": None,
        "body": "Pin your dependencies",
        "tags": ["python"],
        "url": None,
        "audience": "org",
        "anonymous": False,
        "author": {"user_id": "alice", "display_name": "Alice"},
        "is_mine": True,
        "review_by": None,
        "reactions": {},
        "my_reactions": [],
        "comment_count": 0,
        "version": version,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }


# Posts
async def test_create_post_returns_201_with_location_and_etag(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CREATE_POST, services.ok(post("p-7", version=1)))
    response = await gateway.post(
        "/v1/posts",
        json={"kind": "tip", "body": "Pin deps", "tags": ["Python"], "audience": "team:t1"},
        headers=auth("alice"),
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/posts/p-7"
    assert response.headers["etag"] == '"1"'
    sent = services.last(RpcSubject.SHARING_CREATE_POST)
    assert sent["post"]["audience"] == "team:t1"
    assert sent["post"]["tags"] == ["python"]
    assert sent["actor"]["user_id"] == "alice"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "tip", "body": "x", "audience": "everyone"},
        {"kind": "tip", "body": "x", "audience": "org", "anonymous": True},
        {"kind": "gem", "body": "x", "audience": "org"},
        {"kind": "rumour", "body": "x", "audience": "org"},
        {"kind": "tip", "body": "", "audience": "org"},
    ],
)
async def test_create_post_rejects_bad_input_without_asking(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, body: dict[str, Any]
) -> None:
    await services.answer(RpcSubject.SHARING_CREATE_POST, services.ok(post()))
    response = await gateway.post("/v1/posts", json=body, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"]
    assert not services.requests[RpcSubject.SHARING_CREATE_POST]


async def test_create_post_for_an_audience_one_cannot_address_is_403(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.SHARING_CREATE_POST,
        services.problem(403, "Forbidden", detail="you can only share with teams you belong to"),
    )
    response = await gateway.post(
        "/v1/posts", json={"kind": "tip", "body": "x", "audience": "team:other"}, headers=auth()
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


async def test_get_patch_delete_post(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_GET_POST, services.ok(post("p1", version=5)))
    await services.answer(
        RpcSubject.SHARING_UPDATE_POST, services.ok(post("p1", version=6, title=None))
    )
    await services.answer(RpcSubject.SHARING_DELETE_POST, services.ok(None))

    read = await gateway.get("/v1/posts/p1", headers=auth())
    assert read.status_code == 200
    assert read.headers["etag"] == '"5"'

    changed = await gateway.patch(
        "/v1/posts/p1", json={"title": None, "tags": ["Ops"]}, headers={**auth(), "If-Match": '"5"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"6"'
    sent = services.last(RpcSubject.SHARING_UPDATE_POST)
    assert sent["changes"] == {"title": None, "tags": ["ops"]}
    assert sent["if_match_version"] == 5

    await gateway.patch("/v1/posts/p1", json={"body": "b"}, headers=auth())
    assert services.last(RpcSubject.SHARING_UPDATE_POST)["if_match_version"] is None
    several = await gateway.patch(
        "/v1/posts/p1", json={"body": "b"}, headers={**auth(), "If-Match": '"4", "5"'}
    )
    assert several.status_code == 200
    assert services.last(RpcSubject.SHARING_UPDATE_POST)["if_match_version"] == 5
    stale = await gateway.patch(
        "/v1/posts/p1", json={"body": "b"}, headers={**auth(), "If-Match": '"1", "2"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM

    deleted = await gateway.delete("/v1/posts/p1", headers=auth())
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert services.last(RpcSubject.SHARING_DELETE_POST)["post_id"] == "p1"


async def test_post_refusals_pass_through(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_GET_POST, services.problem(404, "Not found"))
    await services.answer(
        RpcSubject.SHARING_UPDATE_POST,
        services.problem(403, "Forbidden", detail="only the author can change or delete a post"),
    )
    await services.answer(RpcSubject.SHARING_DELETE_POST, services.problem(404, "Not found"))
    missing = await gateway.get("/v1/posts/p1", headers=auth())
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    assert (await gateway.patch("/v1/posts/p1", json={}, headers=auth())).status_code == 403
    assert (await gateway.delete("/v1/posts/p1", headers=auth())).status_code == 404
    malformed = await gateway.patch(
        "/v1/posts/p1", json={"body": "x"}, headers={**auth(), "If-Match": "5"}
    )
    assert malformed.status_code == 412


async def test_reactions_and_comments(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.SHARING_REACT, services.ok(post(reactions={"thanks": 1}, my_reactions=[]))
    )
    comment = {
        "id": "k1",
        "post_id": "p1",
        "author": {"user_id": "bob", "display_name": "Bob"},
        "body": "Nice",
        "created_at": NOW,
    }
    await services.answer(RpcSubject.SHARING_COMMENT, services.ok(comment))
    await services.answer(RpcSubject.SHARING_LIST_COMMENTS, services.ok({"items": [comment]}))

    put = await gateway.put("/v1/posts/p1/reactions/thanks", headers=auth("bob"))
    assert put.status_code == 200
    assert services.last(RpcSubject.SHARING_REACT)["reaction"] == "thanks"
    assert services.last(RpcSubject.SHARING_REACT)["on"] is True
    taken_back = await gateway.delete("/v1/posts/p1/reactions/thanks", headers=auth("bob"))
    assert taken_back.status_code == 200
    assert services.last(RpcSubject.SHARING_REACT)["on"] is False
    assert (await gateway.put("/v1/posts/p1/reactions/meh", headers=auth())).status_code == 422

    added = await gateway.post("/v1/posts/p1/comments", json={"body": "Nice"}, headers=auth())
    assert added.status_code == 201
    assert services.last(RpcSubject.SHARING_COMMENT)["comment"] == {"body": "Nice"}
    listed = await gateway.get("/v1/posts/p1/comments", headers=auth())
    assert [c["id"] for c in listed.json()["items"]] == ["k1"]
    empty = await gateway.post("/v1/posts/p1/comments", json={"body": ""}, headers=auth())
    assert empty.status_code == 422


async def test_feed_passes_filters_and_caps_the_limit(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.SHARING_FEED,
        services.ok({"items": [post("p2"), post("p1")], "next_cursor": "n"}),
    )
    response = await gateway.get(
        "/v1/feed",
        params={"tag": "ops", "community": "c-1", "kind": "gem", "cursor": "abc", "limit": 500},
        headers=auth("hal"),
    )
    assert response.status_code == 200, response.text
    assert [p["id"] for p in response.json()["items"]] == ["p2", "p1"]
    assert response.json()["next_cursor"] == "n"
    assert services.last(RpcSubject.SHARING_FEED)["query"] == {
        "tag": "ops",
        "community": "c-1",
        "kind": "gem",
        "limit": 100,
        "cursor": "abc",
    }
    await gateway.get("/v1/feed", headers=auth("hal"))
    assert services.last(RpcSubject.SHARING_FEED)["query"]["limit"] == 20


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "lots"}, {"kind": "rumour"}, {"community": "a b"}]
)
async def test_feed_rejects_bad_query(
    gateway: httpx.AsyncClient, auth: Auth, params: dict[str, str]
) -> None:
    response = await gateway.get("/v1/feed", params=params, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


async def test_sharing_down_is_503_with_retry_after(gateway: httpx.AsyncClient, auth: Auth) -> None:
    response = await gateway.get("/v1/feed", headers=auth())
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.headers["content-type"] == PROBLEM


# Sharing a journal entry
async def test_share_entry_checks_the_audience_then_asks_the_journal(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CHECK_AUDIENCE, services.ok({"allowed": True}))
    await services.answer(
        RpcSubject.JOURNAL_SHARE_ENTRY, services.ok({"share_id": "s-1", "status": "accepted"})
    )
    body = {"audience": "team:t1", "excerpt": "Canary first", "anonymous": True}
    response = await gateway.post("/v1/journal/entries/e1/share", json=body, headers=auth("ann"))

    assert response.status_code == 202, response.text
    assert response.json() == {"share_id": "s-1", "status": "accepted"}
    check = services.last(RpcSubject.SHARING_CHECK_AUDIENCE)
    assert check["audience"] == "team:t1"
    assert check["actor"]["user_id"] == "ann"
    sent = services.last(RpcSubject.JOURNAL_SHARE_ENTRY)
    assert sent["entry_id"] == "e1"
    assert sent["share"] == {
        "audience": "team:t1",
        "excerpt": "Canary first",
        "include_title": True,
        "anonymous": True,
    }


async def test_share_to_an_audience_one_cannot_address_is_403_and_nothing_shared(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.SHARING_CHECK_AUDIENCE,
        services.problem(403, "Forbidden", detail="you can only share with teams you belong to"),
    )
    await services.answer(RpcSubject.JOURNAL_SHARE_ENTRY, services.ok({"share_id": "s"}))
    response = await gateway.post(
        "/v1/journal/entries/e1/share", json={"audience": "team:other"}, headers=auth()
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "you can only share with teams you belong to"
    assert not services.requests[RpcSubject.JOURNAL_SHARE_ENTRY]


async def test_share_of_someone_elses_entry_is_404(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CHECK_AUDIENCE, services.ok({"allowed": True}))
    await services.answer(RpcSubject.JOURNAL_SHARE_ENTRY, services.problem(404, "Not found"))
    response = await gateway.post(
        "/v1/journal/entries/e1/share", json={"audience": "org"}, headers=auth()
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "body", [{}, {"audience": "everyone"}, {"audience": "org", "excerpt": ""}, {"audience": 1}]
)
async def test_share_rejects_bad_input_without_asking(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, body: dict[str, Any]
) -> None:
    await services.answer(RpcSubject.SHARING_CHECK_AUDIENCE, services.ok({"allowed": True}))
    response = await gateway.post("/v1/journal/entries/e1/share", json=body, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert not services.requests[RpcSubject.SHARING_CHECK_AUDIENCE]


async def test_openapi_documents_sharing(gateway: httpx.AsyncClient) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/v1/posts/{post_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/v1/posts/{post_id}/reactions/{kind}"]) == {"put", "delete"}
    assert "202" in paths["/v1/journal/entries/{entry_id}/share"]["post"]["responses"]
    assert "403" in paths["/v1/journal/entries/{entry_id}/share"]["post"]["responses"]
    assert paths["/v1/teams"]["post"]["tags"] == ["people"]
    assert paths["/v1/communities/{community_id}/feed"]["get"]["tags"] == ["communities"]
    assert {t["name"] for t in spec["tags"]} >= {"people", "communities", "posts"}
