"""People routes (profile, teams, communities) and the profile made on a subject's first
request: what the gateway sends over NATS and what the client gets back."""

from __future__ import annotations

import time
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


def profile(user_id: str = "alice", **fields: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "display_name": user_id.title(),
        "timezone": "UTC",
        "working_hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"},
        "quiet_hours": None,
        "roles": ["member"],
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }


def team(team_id: str = "t1", members: dict[str, str] | None = None) -> dict[str, Any]:
    roster = members or {"lead-1": "lead"}
    return {
        "id": team_id,
        "name": "Platform",
        "members": [
            {"user_id": uid, "display_name": uid, "role": role} for uid, role in roster.items()
        ],
        "created_at": NOW,
    }


def community(community_id: str = "c1", **fields: Any) -> dict[str, Any]:
    return {
        "id": community_id,
        "name": "Testing guild",
        "description": "",
        "tags": ["testing"],
        "member_count": 1,
        "is_member": True,
        "created_at": NOW,
        **fields,
    }


# Profiles made on first sight of a token subject
async def test_first_request_of_a_subject_makes_its_profile_once(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_ME, services.ok(profile("newbie")))
    await services.answer(RpcSubject.SHARING_MY_TEAMS, services.ok({"items": []}))
    headers = auth("newbie", name="New Person", zoneinfo="Europe/Berlin", roles=["manager"])
    for _ in range(3):
        assert (await gateway.get("/v1/me/teams", headers=headers)).status_code == 200

    asked = services.requests[RpcSubject.SHARING_ME]
    assert asked == [
        {
            "actor": {
                "user_id": "newbie",
                "roles": ["manager"],
                "timezone": "Europe/Berlin",
                "name": "New Person",
            }
        }
    ]
    await gateway.get("/v1/me/teams", headers=auth("someone-else"))
    assert [r["actor"]["user_id"] for r in services.requests[RpcSubject.SHARING_ME]] == [
        "newbie",
        "someone-else",
    ]


async def test_profile_check_never_fails_the_request_and_is_retried(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    prompts = {"items": [{"kind": "learned", "text": "What have you learned today?"}]}
    await services.answer(RpcSubject.JOURNAL_PROMPTS, services.ok(prompts))
    headers = auth("quiet-sharing")

    # Nobody answers for sharing: the journal request still succeeds.
    assert (await gateway.get("/v1/journal/prompts", headers=headers)).status_code == 200
    # Sharing answers with a problem: still no harm to the caller.
    await services.answer(RpcSubject.SHARING_ME, services.problem(500, "Internal error"))
    assert (await gateway.get("/v1/journal/prompts", headers=headers)).status_code == 200
    assert len(services.requests[RpcSubject.SHARING_ME]) == 1
    await services.close()

    # Sharing is back: the next request makes the profile, the one after does not ask.
    await services.answer(RpcSubject.JOURNAL_PROMPTS, services.ok(prompts))
    await services.answer(RpcSubject.SHARING_ME, services.ok(profile("quiet-sharing")))
    for _ in range(2):
        assert (await gateway.get("/v1/journal/prompts", headers=headers)).status_code == 200
    assert len(services.requests[RpcSubject.SHARING_ME]) == 2


async def test_a_silent_sharing_service_delays_a_request_by_at_most_the_short_wait(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_ME, lambda body: None)
    await services.answer(RpcSubject.SHARING_FEED, services.ok({"items": [], "next_cursor": None}))
    started = time.monotonic()
    response = await gateway.get("/v1/feed", headers=auth("slow"))
    assert response.status_code == 200
    assert time.monotonic() - started < 1.9  # the request timeout in these tests is 2 s


# Profile and teams
async def test_patch_me_sends_only_named_fields_and_null_clears_quiet_hours(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_ME, services.ok(profile("dana")))
    await services.answer(
        RpcSubject.SHARING_UPDATE_ME, services.ok(profile("dana", timezone="Asia/Tokyo"))
    )
    response = await gateway.patch(
        "/v1/me", json={"timezone": "Asia/Tokyo", "quiet_hours": None}, headers=auth("dana")
    )
    assert response.status_code == 200, response.text
    assert response.json()["timezone"] == "Asia/Tokyo"
    sent = services.last(RpcSubject.SHARING_UPDATE_ME)
    assert sent["changes"] == {"timezone": "Asia/Tokyo", "quiet_hours": None}
    assert sent["actor"]["user_id"] == "dana"

    me = await gateway.get("/v1/me", headers=auth("dana"))
    assert me.status_code == 200
    assert me.json()["user_id"] == "dana"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, ["body", "timezone"]),
        ({"working_hours": {"days": [8], "start": "09:00", "end": "17:00"}}, "working_hours"),
        ({"working_hours": {"start": "18:00", "end": "09:00"}}, "working_hours"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours"),
        ({"nickname": "x"}, ["body", "nickname"]),
    ],
)
async def test_patch_me_rejects_bad_fields_without_asking(
    gateway: httpx.AsyncClient,
    services: FakeServices,
    auth: Auth,
    body: dict[str, Any],
    field: list[str] | str,
) -> None:
    await services.answer(RpcSubject.SHARING_UPDATE_ME, services.ok(profile()))
    response = await gateway.patch("/v1/me", json=body, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    locs = [e["loc"] for e in response.json()["errors"]]
    if isinstance(field, list):
        assert field in locs
    else:
        assert any(field in loc for loc in locs)
    assert not services.requests[RpcSubject.SHARING_UPDATE_ME]


async def test_team_lifecycle(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CREATE_TEAM, services.ok(team("t-9")))
    await services.answer(
        RpcSubject.SHARING_ADD_TEAM_MEMBER,
        services.ok(team("t-9", {"lead-1": "lead", "bob": "member"})),
    )
    await services.answer(RpcSubject.SHARING_REMOVE_TEAM_MEMBER, services.ok(team("t-9")))
    await services.answer(RpcSubject.SHARING_GET_TEAM, services.ok(team("t-9")))
    lead = auth("lead-1", roles=["manager"])

    created = await gateway.post("/v1/teams", json={"name": "Platform"}, headers=lead)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/teams/t-9"
    assert services.last(RpcSubject.SHARING_CREATE_TEAM)["team"] == {"name": "Platform"}

    added = await gateway.post("/v1/teams/t-9/members", json={"user_id": "bob"}, headers=lead)
    assert added.status_code == 200
    assert {m["user_id"] for m in added.json()["members"]} == {"lead-1", "bob"}
    assert services.last(RpcSubject.SHARING_ADD_TEAM_MEMBER)["member"] == {
        "user_id": "bob",
        "role": "member",
    }
    removed = await gateway.delete("/v1/teams/t-9/members/bob", headers=lead)
    assert removed.status_code == 200
    assert services.last(RpcSubject.SHARING_REMOVE_TEAM_MEMBER)["user_id"] == "bob"
    assert (await gateway.get("/v1/teams/t-9", headers=lead)).json()["id"] == "t-9"

    bad_role = await gateway.post(
        "/v1/teams/t-9/members", json={"user_id": "bob", "role": "boss"}, headers=lead
    )
    assert bad_role.status_code == 422


async def test_team_refusals_pass_through_as_problems(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.SHARING_CREATE_TEAM,
        services.problem(403, "Forbidden", detail="only managers and admins create teams"),
    )
    await services.answer(RpcSubject.SHARING_GET_TEAM, services.problem(404, "Not found"))
    response = await gateway.post("/v1/teams", json={"name": "Mine"}, headers=auth("member"))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == "only managers and admins create teams"
    missing = await gateway.get("/v1/teams/nope", headers=auth())
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert (await gateway.get("/v1/teams/bad%20id", headers=auth())).status_code == 422


# Communities
async def test_communities_create_join_leave_list_and_feed(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_CREATE_COMMUNITY, services.ok(community("c-1")))
    await services.answer(RpcSubject.SHARING_JOIN_COMMUNITY, services.ok(community("c-1")))
    await services.answer(
        RpcSubject.SHARING_LEAVE_COMMUNITY, services.ok(community("c-1", is_member=False))
    )
    await services.answer(
        RpcSubject.SHARING_LIST_COMMUNITIES, services.ok({"items": [community("c-1")]})
    )
    await services.answer(RpcSubject.SHARING_FEED, services.ok({"items": [], "next_cursor": None}))
    headers = auth("gina")

    created = await gateway.post(
        "/v1/communities", json={"name": "Testing guild", "tags": ["Testing"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert services.last(RpcSubject.SHARING_CREATE_COMMUNITY)["community"]["tags"] == ["Testing"]
    joined = await gateway.post("/v1/communities/c-1/members", headers=headers)
    assert joined.status_code == 200
    assert services.last(RpcSubject.SHARING_JOIN_COMMUNITY)["community_id"] == "c-1"
    left = await gateway.delete("/v1/communities/c-1/members/me", headers=headers)
    assert left.status_code == 200
    assert left.json()["is_member"] is False
    listed = await gateway.get("/v1/communities", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == ["c-1"]

    feed = await gateway.get(
        "/v1/communities/c-1/feed", params={"kind": "lesson", "limit": 1000}, headers=headers
    )
    assert feed.status_code == 200
    assert services.last(RpcSubject.SHARING_FEED)["query"] == {
        "tag": None,
        "community": "c-1",
        "kind": "lesson",
        "limit": 100,
        "cursor": None,
    }
