"""Nudges through the whole running system: a manager's campaign reaches a team member's
live stream, a post answering it counts as acted in the campaign's aggregate counts, and a
signed incident event from an outside tool asks its participants to reflect.

Every person here works all day every day, so nudges may go out whenever the test runs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from flowlearn_cli.stack import Stack
from flowlearn_cli.tokens import make_token
from flowlearn_gateway.domain.hooks import signature
from metrics_support import caught_up

pytestmark = pytest.mark.e2e

HOOK_SECRET = "e2e-incident-hook-secret-0123456789"  # as the stack's gateway is configured
ALL_DAY = {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def auth(user: str, role: str = "member") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, role)}"}


def eventually(
    check: Callable[[], Any], what: str | Callable[[], str], timeout: float = 60.0
) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, (
            f"gave up waiting: {what if isinstance(what, str) else what()}"
        )
        time.sleep(0.3)
    return result


def working_all_day(api: httpx.Client, user: str) -> None:
    me = api.patch("/v1/me", json={"timezone": "UTC", "working_hours": ALL_DAY}, headers=auth(user))
    assert me.status_code == 200, me.text
    prefs = api.put("/v1/nudges/preferences", json={"daily_cap": 20}, headers=auth(user))
    assert prefs.status_code == 200, prefs.text


def next_nudge(lines: Any, deadline: float) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        assert time.monotonic() < deadline, "no nudge arrived on the stream"
        if line == "":
            if fields.get("event") == "nudge":
                return fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    raise AssertionError("the stream ended")


def inbox(api: httpx.Client, user: str) -> list[dict[str, Any]]:
    response = api.get("/v1/nudges/inbox", headers=auth(user))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_campaign_reaches_the_live_stream_and_counts_responses(
    api: httpx.Client, stack: Stack
) -> None:
    mgr = new_id("mgr")
    members = [new_id("member") for _ in range(5)]
    for member in members:
        working_all_day(api, member)
    team = api.post("/v1/teams", json={"name": new_id("team")}, headers=auth(mgr, "manager"))
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    for member in members:
        added = api.post(
            f"/v1/teams/{team_id}/members", json={"user_id": member}, headers=auth(mgr, "manager")
        )
        assert added.status_code == 200, added.text
    # A team campaign waits for the membership events already on the stream when it is
    # sent; sharing publishes them from its outbox a moment after each API call returns.
    eventually(lambda: caught_up(stack, "nudges"), "nudges has read the team's events")
    message = f"Share one thing you learned this sprint ({uuid.uuid4().hex[:6]})"
    body = {"type": "custom", "message": message, "audience": f"team:{team_id}"}
    # Someone else's manager is refused whatever they try.
    other = api.post("/v1/nudges/campaigns", json=body, headers=auth(new_id("mgr"), "manager"))
    assert other.status_code == 403

    ana = members[0]
    with api.stream(
        "GET", "/v1/notifications/stream", headers=auth(ana), timeout=httpx.Timeout(30.0)
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()

        def created() -> httpx.Response | None:
            # The nudges service learns that the manager leads the team from team events.
            response = api.post("/v1/nudges/campaigns", json=body, headers=auth(mgr, "manager"))
            return response if response.status_code == 201 else None

        campaign = eventually(created, "the campaign is accepted")
        campaign_id = campaign.json()["id"]
        assert campaign.headers["location"] == f"/v1/nudges/campaigns/{campaign_id}"
        event = next_nudge(lines, time.monotonic() + 60)
    item = json.loads(event["data"])
    assert item["message"] == message
    assert item["type"] == "custom"
    assert item["context"] == {"campaign_id": campaign_id}
    assert event["id"] == item["id"]

    post = {"kind": "tip", "body": "Pairing on reviews halves the wait", "audience": "org"}
    shared = api.post("/v1/posts", json=post | {"nudge_id": item["id"]}, headers=auth(ana))
    assert shared.status_code == 201, shared.text

    seen: list[dict[str, Any]] = []

    def counted() -> dict[str, Any] | None:
        response = api.get(f"/v1/nudges/campaigns/{campaign_id}", headers=auth(mgr, "manager"))
        assert response.status_code == 200, response.text
        stats: dict[str, Any] = response.json()
        seen[:] = [stats]
        return stats if stats["delivered"] == 5 and stats["acted"] == 1 else None

    stats = eventually(counted, lambda: f"every member reached and one acted: {seen}", 60)
    assert stats["recipients"] == 5
    assert stats["suppressed"] is False
    assert not any(member in json.dumps(stats) for member in members)
    mine = [n for n in inbox(api, ana) if n["id"] == item["id"]]
    assert mine[0]["status"] == "acted"
    # Counts are for the campaign's sender (and admins) only.
    peek = api.get(f"/v1/nudges/campaigns/{campaign_id}", headers=auth(ana))
    assert peek.status_code == 404


def test_a_closed_incident_asks_its_participants_to_reflect(
    api: httpx.Client, stack: Stack
) -> None:
    responders = [new_id("responder") for _ in range(2)]
    bystander = new_id("bystander")
    for person in [*responders, bystander]:
        working_all_day(api, person)
    # Their working hours reach nudges as events; a nudge planned before would wait for
    # the default hours.
    eventually(lambda: caught_up(stack, "nudges"), "nudges has read their profiles")
    event = {
        "specversion": "1.0",
        "id": new_id("inc-event"),
        "source": "incident",
        "type": "closed",
        "subject": "INC-1234",
        "data": {"incident_id": "INC-1234", "participants": responders},
    }
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/cloudevents+json",
        "X-Flowlearn-Timestamp": stamp,
        "X-Flowlearn-Signature": signature(HOOK_SECRET, stamp, body),
    }
    accepted = api.post("/v1/hooks/work-events", content=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["subject"] == "flow.work.incident.closed.v1"
    forged = headers | {"X-Flowlearn-Signature": signature("guess", stamp, body)}
    assert api.post("/v1/hooks/work-events", content=body, headers=forged).status_code == 401

    def reflections(person: str) -> list[dict[str, Any]]:
        return [
            n
            for n in inbox(api, person)
            if n["type"] == "reflect" and n["context"].get("incident_id") == "INC-1234"
        ]

    for responder in responders:
        found = eventually(lambda r=responder: reflections(r), "the responder is asked")
        assert found[0]["message"].startswith("The incident you worked on is closed")
    assert reflections(bystander) == []
