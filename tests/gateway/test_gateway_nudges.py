"""Nudges routes: what the gateway sends over NATS and what the client gets back."""

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


def preferences(**fields: Any) -> dict[str, Any]:
    return {
        "daily_cap": 3,
        "channels": ["in_app"],
        "digest": {"enabled": False, "at": "16:30"},
        "types": {"reflect": {"enabled": True, "rrule": None}},
        "inactivity_days": 3,
        **fields,
    }


def nudge(nudge_id: str = "n1", **fields: Any) -> dict[str, Any]:
    return {
        "id": nudge_id,
        "type": "reflect",
        "message": "What have you learned today?",
        "status": "delivered",
        "due_at": None,
        "delivered_at": "2026-06-10T14:30:00Z",
        "channels": ["in_app"],
        "deliveries": {"in_app": {"status": "delivered", "at": "2026-06-10T14:30:00Z"}},
        "context": {},
        "created_at": "2026-06-10T06:00:00Z",
        **fields,
    }


async def test_preferences_are_read_for_the_caller(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.NUDGES_GET_PREFERENCES, services.ok(preferences()))
    response = await gateway.get(
        "/v1/nudges/preferences", headers=auth("ana", zoneinfo="Europe/Berlin")
    )
    assert response.status_code == 200, response.text
    assert response.json()["daily_cap"] == 3
    sent = services.last(RpcSubject.NUDGES_GET_PREFERENCES)
    assert sent["actor"]["user_id"] == "ana"
    assert sent["actor"]["timezone"] == "Europe/Berlin"


async def test_put_preferences_forwards_the_whole_document(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.NUDGES_UPDATE_PREFERENCES, lambda body: services.ok(body["preferences"])
    )
    rule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=16;BYMINUTE=30"
    response = await gateway.put(
        "/v1/nudges/preferences",
        json={
            "daily_cap": 5,
            "channels": ["slack"],
            "digest": {"enabled": True, "at": "08:45"},
            "types": {"reflect": {"rrule": rule}, "help_request": {"enabled": False}},
        },
        headers=auth("ana"),
    )
    assert response.status_code == 200, response.text
    sent = services.last(RpcSubject.NUDGES_UPDATE_PREFERENCES)["preferences"]
    assert sent["daily_cap"] == 5
    assert sent["channels"] == ["in_app", "slack"]  # the inbox always gets them
    assert sent["digest"] == {"enabled": True, "at": "08:45"}
    assert sent["types"]["reflect"] == {"enabled": True, "rrule": rule}
    assert sent["types"]["help_request"] == {"enabled": False, "rrule": None}
    assert sent["inactivity_days"] == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"daily_cap": 0}, ["body", "daily_cap"]),
        ({"daily_cap": 21}, ["body", "daily_cap"]),
        ({"channels": ["pager"]}, ["body", "channels", 0]),
        ({"digest": {"enabled": True, "at": "25:00"}}, ["body", "digest", "at"]),
        ({"types": {"gossip": {"enabled": True}}}, ["body", "types", "gossip", "[key]"]),
        ({"inactivity_days": 0}, ["body", "inactivity_days"]),
        ({"surprise": True}, ["body", "surprise"]),
    ],
)
async def test_invalid_preferences_are_422_without_asking(
    gateway: httpx.AsyncClient,
    services: FakeServices,
    auth: Auth,
    body: dict[str, Any],
    field: list[Any],
) -> None:
    await services.answer(RpcSubject.NUDGES_UPDATE_PREFERENCES, services.ok(preferences()))
    response = await gateway.put("/v1/nudges/preferences", json=body, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert field in [e["loc"] for e in response.json()["errors"]]
    assert not services.requests[RpcSubject.NUDGES_UPDATE_PREFERENCES]


async def test_a_bad_rrule_is_the_services_422(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    errors = [{"loc": ["preferences", "types", "reflect", "rrule"], "msg": "FREQ must be..."}]
    await services.answer(
        RpcSubject.NUDGES_UPDATE_PREFERENCES,
        services.problem(422, "Unprocessable content", errors=errors),
    )
    response = await gateway.put(
        "/v1/nudges/preferences",
        json={"types": {"reflect": {"rrule": "FREQ=SECONDLY"}}},
        headers=auth(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == ["preferences", "types", "reflect", "rrule"]


async def test_inbox_passes_filter_and_cursor_and_caps_the_limit(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    page = {"items": [nudge("n2"), nudge("n1", status="opened")], "next_cursor": "c2"}
    await services.answer(RpcSubject.NUDGES_INBOX, services.ok(page))
    response = await gateway.get(
        "/v1/nudges/inbox",
        params={"status": "delivered", "cursor": "c1", "limit": "500"},
        headers=auth("ana"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["items"]] == ["n2", "n1"]
    assert body["items"][0]["message"] == "What have you learned today?"
    assert body["next_cursor"] == "c2"
    sent = services.last(RpcSubject.NUDGES_INBOX)
    assert sent["actor"]["user_id"] == "ana"
    assert sent["query"] == {"status": "delivered", "cursor": "c1", "limit": 100}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "read"}, ["query", "status"]), ({"limit": "0"}, ["query", "limit"])],
)
async def test_inbox_rejects_a_bad_query(
    gateway: httpx.AsyncClient, auth: Auth, params: dict[str, str], field: list[str]
) -> None:
    response = await gateway.get("/v1/nudges/inbox", params=params, headers=auth())
    assert response.status_code == 422
    assert field in [e["loc"] for e in response.json()["errors"]]


async def test_ack_snooze_sends_minutes(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    snoozed = nudge(status="snoozed", snoozed_until="2026-06-10T15:00:00Z")
    await services.answer(RpcSubject.NUDGES_ACK, services.ok(snoozed))
    response = await gateway.post(
        "/v1/nudges/n1/ack", json={"action": "snoozed", "minutes": 30}, headers=auth("ana")
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "snoozed"
    sent = services.last(RpcSubject.NUDGES_ACK)
    assert sent["nudge_id"] == "n1"
    assert sent["ack"] == {"action": "snoozed", "minutes": 30}
    assert sent["actor"]["user_id"] == "ana"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "snoozed"},
        {"action": "snoozed", "minutes": 4},
        {"action": "snoozed", "minutes": 1441},
        {"action": "dismissed", "minutes": 10},
        {"action": "deleted"},
    ],
)
async def test_invalid_ack_is_422_without_asking(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, body: dict[str, Any]
) -> None:
    await services.answer(RpcSubject.NUDGES_ACK, services.ok(nudge()))
    response = await gateway.post("/v1/nudges/n1/ack", json=body, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert not services.requests[RpcSubject.NUDGES_ACK]


async def test_someone_elses_nudge_is_404(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.NUDGES_ACK, services.problem(404, "Not found", detail="no such nudge")
    )
    response = await gateway.post(
        "/v1/nudges/theirs/ack", json={"action": "opened"}, headers=auth("bob")
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_nudges_need_a_token(gateway: httpx.AsyncClient) -> None:
    for response in (
        await gateway.get("/v1/nudges/inbox"),
        await gateway.get("/v1/nudges/preferences"),
        await gateway.post("/v1/nudges/n1/ack", json={"action": "opened"}),
    ):
        assert response.status_code == 401
