"""Kudos, collections, gatherings and experiments routes: status codes, headers, what the
gateway sends over NATS, and problems passed through as problem+json."""

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
NOW = "2026-03-04T10:00:00Z"
PERSON = {"user_id": "alice", "display_name": "Alice"}


def kudos(kudos_id: str = "k1") -> dict[str, Any]:
    return {
        "id": kudos_id,
        "sender": PERSON,
        "recipient": {"user_id": "bob", "display_name": "Bob"},
        "message": "Great review",
        "strengths": ["mentoring"],
        "visibility": "team",
        "created_at": NOW,
    }


def collection(collection_id: str = "c1", **fields: Any) -> dict[str, Any]:
    return {
        "id": collection_id,
        "title": "On-call basics",
        "description": "",
        "tags": [],
        "audience": "org",
        "curator": PERSON,
        "is_mine": True,
        "items": [
            {
                "id": "i1",
                "type": "link",
                "title": "SRE book",
                "url": "https://sre.google/books/",
                "note": None,
                "post_id": None,
                "post_kind": None,
                "available": True,
            }
        ],
        "enrollment": None,
        "enrolled_count": 0,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }


def gathering(gathering_id: str = "g1") -> dict[str, Any]:
    return {
        "id": gathering_id,
        "kind": "book_club",
        "title": "Accelerate, ch. 1",
        "description": "",
        "starts_at": "2026-03-05T11:30:00Z",
        "ends_at": "2026-03-05T12:30:00Z",
        "duration_minutes": 60,
        "capacity": 8,
        "location": None,
        "audience": "org",
        "host": PERSON,
        "is_mine": True,
        "going_count": 0,
        "waitlist_count": 0,
        "my_rsvp": None,
        "status": "upcoming",
        "created_at": NOW,
    }


def experiment(experiment_id: str = "x1", stage: str = "pitch") -> dict[str, Any]:
    return {
        "id": experiment_id,
        "team_id": "t1",
        "title": "Pair on incidents",
        "pitch": "",
        "stage": stage,
        "owner": PERSON,
        "is_mine": True,
        "history": [{"from_stage": None, "to_stage": "pitch", "learned": None, "at": NOW}],
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


async def test_give_kudos_is_201_with_location(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_GIVE_KUDOS, services.ok(kudos("k9")))
    response = await gateway.post(
        "/v1/kudos",
        json={
            "to": "bob",
            "message": "Great review",
            "strengths": ["Mentoring"],
            "visibility": "team",
        },
        headers=auth("alice"),
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/kudos/k9"
    sent = services.last(RpcSubject.SHARING_GIVE_KUDOS)
    assert sent["kudos"]["strengths"] == ["mentoring"]
    assert sent["actor"]["user_id"] == "alice"


async def test_kudos_refusals_are_problems(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    bad = await gateway.post(
        "/v1/kudos", json={"to": "bob", "message": "", "visibility": "public"}, headers=auth()
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    await services.answer(
        RpcSubject.SHARING_GIVE_KUDOS,
        services.problem(422, "Unprocessable content", detail="you cannot send them to yourself"),
    )
    to_self = await gateway.post(
        "/v1/kudos", json={"to": "alice", "message": "me"}, headers=auth("alice")
    )
    assert to_self.status_code == 422
    assert to_self.json()["detail"] == "you cannot send them to yourself"
    await services.answer(RpcSubject.SHARING_GET_KUDOS, services.problem(404, "Not found"))
    hidden = await gateway.get("/v1/kudos/k1", headers=auth())
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")


async def test_kudos_lists(gateway: httpx.AsyncClient, services: FakeServices, auth: Auth) -> None:
    page = {"items": [kudos()], "next_cursor": None}
    await services.answer(RpcSubject.SHARING_LIST_KUDOS, services.ok(page))
    received = await gateway.get(
        "/v1/kudos/received", params={"user": "bob", "limit": 500}, headers=auth()
    )
    assert received.status_code == 200
    assert services.last(RpcSubject.SHARING_LIST_KUDOS)["query"] == {
        "box": "received",
        "user": "bob",
        "limit": 100,
        "cursor": None,
    }
    given = await gateway.get("/v1/kudos/given", headers=auth())
    assert given.status_code == 200
    assert services.last(RpcSubject.SHARING_LIST_KUDOS)["query"]["box"] == "given"


async def test_collection_routes(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CREATE_COLLECTION, services.ok(collection("c7")))
    body = {
        "title": "On-call basics",
        "audience": "org",
        "items": [
            {"type": "link", "title": "SRE book", "url": "https://sre.google/books/"},
            {"type": "post", "post_id": "p1"},
        ],
    }
    created = await gateway.post("/v1/collections", json=body, headers=auth(role="curator"))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/collections/c7"
    sent = services.last(RpcSubject.SHARING_CREATE_COLLECTION)
    assert [i["type"] for i in sent["collection"]["items"]] == ["link", "post"]

    bad_item = {**body, "items": [{"type": "video", "url": "https://x"}]}
    assert (await gateway.post("/v1/collections", json=bad_item, headers=auth())).status_code == 422

    await services.answer(
        RpcSubject.SHARING_ADD_COLLECTION_ITEM, services.ok(collection("c7", added_item_id="i1"))
    )
    added = await gateway.post(
        "/v1/collections/c7/items",
        json={"item": {"type": "post", "post_id": "p2"}, "position": 0},
        headers=auth(),
    )
    assert added.status_code == 201
    assert added.headers["location"] == "/v1/collections/c7/items/i1"

    await services.answer(RpcSubject.SHARING_GET_COLLECTION, services.ok(collection("c7")))
    item = await gateway.get("/v1/collections/c7/items/i1", headers=auth())
    assert item.status_code == 200
    assert item.json()["title"] == "SRE book"
    missing = await gateway.get("/v1/collections/c7/items/nope", headers=auth())
    assert missing.status_code == 404

    await services.answer(
        RpcSubject.SHARING_REORDER_COLLECTION_ITEMS,
        services.problem(403, "Forbidden", detail="only the collection's curator changes it"),
    )
    reorder = await gateway.put(
        "/v1/collections/c7/items/order", json={"item_ids": ["i1"]}, headers=auth()
    )
    assert reorder.status_code == 403

    await services.answer(RpcSubject.SHARING_REMOVE_COLLECTION_ITEM, services.ok(collection("c7")))
    removed = await gateway.delete("/v1/collections/c7/items/i1", headers=auth())
    assert removed.status_code == 204


async def test_enrollment_routes(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    enrolled = collection(enrollment={"interval_days": 3, "enrolled_at": NOW}, enrolled_count=1)
    await services.answer(RpcSubject.SHARING_ENROLL, services.ok(enrolled))
    response = await gateway.post(
        "/v1/collections/c1/enroll", json={"interval_days": 3}, headers=auth()
    )
    assert response.status_code == 200
    assert services.last(RpcSubject.SHARING_ENROLL)["enrollment"] == {"interval_days": 3}
    for days in (0, 31):
        too = await gateway.post(
            "/v1/collections/c1/enroll", json={"interval_days": days}, headers=auth()
        )
        assert too.status_code == 422
    await services.answer(RpcSubject.SHARING_UNENROLL, services.ok(None))
    left = await gateway.delete("/v1/collections/c1/enroll", headers=auth())
    assert left.status_code == 204


async def test_gathering_routes(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CREATE_GATHERING, services.ok(gathering("g5")))
    body = {
        "kind": "book_club",
        "title": "Accelerate, ch. 1",
        "starts_at": "2026-03-05T12:30:00+01:00",
        "capacity": 8,
        "audience": "org",
    }
    created = await gateway.post("/v1/gatherings", json=body, headers=auth())
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/gatherings/g5"

    naive = await gateway.post(
        "/v1/gatherings", json={**body, "starts_at": "2026-03-05T12:30:00"}, headers=auth()
    )
    assert naive.status_code == 422
    assert any(e["loc"][-1] == "starts_at" for e in naive.json()["errors"])
    assert len(services.requests[RpcSubject.SHARING_CREATE_GATHERING]) == 1
    for wrong in ({"capacity": 0}, {"kind": "party"}, {"duration_minutes": 2}):
        response = await gateway.post("/v1/gatherings", json={**body, **wrong}, headers=auth())
        assert response.status_code == 422

    await services.answer(
        RpcSubject.SHARING_RSVP, services.ok({"status": "waitlisted", "waitlist_position": 3})
    )
    rsvp = await gateway.post("/v1/gatherings/g5/rsvp", headers=auth())
    assert rsvp.status_code == 200
    assert rsvp.json() == {"status": "waitlisted", "waitlist_position": 3}
    await services.answer(
        RpcSubject.SHARING_CANCEL_RSVP,
        services.problem(409, "Conflict", detail="the gathering has ended"),
    )
    late = await gateway.delete("/v1/gatherings/g5/rsvp", headers=auth())
    assert late.status_code == 409
    assert late.headers["content-type"].startswith("application/problem+json")


async def test_experiment_routes(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CREATE_EXPERIMENT, services.ok(experiment("x3")))
    created = await gateway.post(
        "/v1/experiments", json={"team_id": "t1", "title": "Pair on incidents"}, headers=auth()
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/experiments/x3"

    await services.answer(
        RpcSubject.SHARING_CHANGE_EXPERIMENT_STAGE,
        services.problem(409, "Conflict", detail="from pitch an experiment moves to prototype"),
    )
    skip = await gateway.post(
        "/v1/experiments/x3/stage", json={"to": "pilot", "learned": "x"}, headers=auth()
    )
    assert skip.status_code == 409
    unknown = await gateway.post(
        "/v1/experiments/x3/stage", json={"to": "launched", "learned": "x"}, headers=auth()
    )
    assert unknown.status_code == 422

    await services.answer(
        RpcSubject.SHARING_LIST_EXPERIMENTS, services.ok({"items": [], "next_cursor": None})
    )
    listed = await gateway.get(
        "/v1/experiments", params={"team": "t1", "stage": "pilot"}, headers=auth()
    )
    assert listed.status_code == 200
    query = services.last(RpcSubject.SHARING_LIST_EXPERIMENTS)["query"]
    assert (query["team"], query["stage"]) == ("t1", "pilot")
    assert (await gateway.get("/v1/experiments")).status_code == 401
