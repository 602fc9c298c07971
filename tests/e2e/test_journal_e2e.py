"""The whole system as separate processes (nats-server, SecantusDB, four services), driven
over HTTP exactly as a client would."""

from __future__ import annotations

import time

import httpx
import pytest
from flowlearn_cli.stack import Stack
from flowlearn_cli.tokens import make_token

pytestmark = pytest.mark.e2e


def auth(user: str, role: str = "member") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, role)}"}


def test_journal_end_to_end(api: httpx.Client, stack: Stack) -> None:
    alice = auth("e2e-alice")
    created = api.post(
        "/v1/journal/entries",
        headers=alice,
        json={
            "kind": "mistake",
            "title": "Skipped the canary",
            "body": "Rolled out to everyone at once. **Next time:** canary first.",
            "tags": ["deploys", "ops"],
            "skills": ["release management"],
            "occurred_on": "2026-11-02",
            "minutes": 15,
        },
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert created.headers["location"] == f"/v1/journal/entries/{entry['id']}"
    etag = created.headers["etag"]

    for day, kind, tags in [
        ("2026-11-03", "learned", ["ops"]),
        ("2026-11-04", "gem", ["reading"]),
    ]:
        response = api.post(
            "/v1/journal/entries",
            headers=alice,
            json={"kind": kind, "body": f"{kind} on {day}", "tags": tags, "occurred_on": day},
        )
        assert response.status_code == 201

    listed = api.get("/v1/journal/entries", headers=alice).json()
    assert [e["occurred_on"] for e in listed["items"]] == ["2026-11-04", "2026-11-03", "2026-11-02"]
    both = api.get(
        "/v1/journal/entries", params=[("tag", "ops"), ("tag", "deploys")], headers=alice
    ).json()
    assert [e["id"] for e in both["items"]] == [entry["id"]]
    ranged = api.get(
        "/v1/journal/entries", params={"from": "2026-11-03", "to": "2026-11-04"}, headers=alice
    ).json()
    assert [e["occurred_on"] for e in ranged["items"]] == ["2026-11-04", "2026-11-03"]
    searched = api.get("/v1/journal/entries", params={"q": "CANARY"}, headers=alice).json()
    assert [e["id"] for e in searched["items"]] == [entry["id"]]
    first = api.get("/v1/journal/entries", params={"limit": 2}, headers=alice).json()
    rest = api.get(
        "/v1/journal/entries", params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice
    ).json()
    assert [e["occurred_on"] for e in first["items"] + rest["items"]] == [
        "2026-11-04",
        "2026-11-03",
        "2026-11-02",
    ]
    assert rest["next_cursor"] is None

    # Another user, whatever their role, cannot see or touch it.
    url = f"/v1/journal/entries/{entry['id']}"
    for role in ("member", "manager", "admin"):
        other = auth("e2e-mallory", role)
        assert api.get(url, headers=other).status_code == 404
        assert api.patch(url, headers=other, json={"title": "mine now"}).status_code == 404
        assert api.delete(url, headers=other).status_code == 404
        assert api.get("/v1/journal/entries", headers=other).json()["items"] == []

    updated = api.patch(url, headers={**alice, "If-Match": etag}, json={"title": "Canary first"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["title"] == "Canary first"
    assert updated.headers["etag"] != etag
    stale = api.patch(url, headers={**alice, "If-Match": etag}, json={"title": "again"})
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert api.get(url, headers=alice).json()["title"] == "Canary first"

    stats = api.get("/v1/journal/stats", headers=alice).json()
    assert stats["total_entries"] == 3
    assert stats["entries_by_kind"] == {"mistake": 1, "learned": 1, "gem": 1}

    assert api.delete(url, headers=alice).status_code == 204
    assert api.get(url, headers=alice).status_code == 404


def test_requests_without_a_valid_token_get_401(api: httpx.Client) -> None:
    response = api.get("/v1/journal/entries")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    forged = make_token("e2e-alice", secret="not-the-gateway-secret-at-all-0123456789")
    assert (
        api.get("/v1/journal/entries", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )


def test_invalid_input_gets_422_with_fields(api: httpx.Client) -> None:
    response = api.post(
        "/v1/journal/entries",
        headers=auth("e2e-bob"),
        json={"kind": "diary", "body": "x" * 20_001},
    )
    assert response.status_code == 422
    problem = response.json()
    failing = {tuple(error["loc"])[-1] for error in problem["errors"]}
    assert {"kind", "body"} <= failing


def test_prompts_and_health(api: httpx.Client) -> None:
    prompts = api.get("/v1/journal/prompts", headers=auth("e2e-bob")).json()["items"]
    assert "What have you learned today?" in [p["text"] for p in prompts]
    assert api.get("/healthz").status_code == 200
    assert api.get("/readyz").status_code == 200


def test_503_when_the_journal_is_down_then_recovers(api: httpx.Client, stack: Stack) -> None:
    headers = auth("e2e-carol")
    stack.stop_service("journal")
    started = time.monotonic()
    response = api.get("/v1/journal/entries", headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert elapsed < 4.0
    assert api.get("/readyz").status_code == 503

    stack.start_service("journal")
    deadline = time.monotonic() + 30
    while api.get("/v1/journal/entries", headers=headers).status_code != 200:
        assert time.monotonic() < deadline, "the journal did not come back"
        time.sleep(0.3)


def test_journal_events_reach_the_nudges_service(api: httpx.Client, stack: Stack) -> None:
    """A journal entry written for a delivered nudge marks that nudge acted in the inbox."""
    from datetime import UTC, datetime

    from flowlearn_nudges.adapters.nudge_repository import NEVER, to_document
    from flowlearn_nudges.domain.catalogue import Origin
    from flowlearn_nudges.domain.nudge import NudgeSpec, deliver, new_nudge
    from flowlearn_nudges.domain.schedule import PersonSchedule
    from flowlearn_shared.contracts.nudges import Channel, NudgePreferences, NudgeType
    from pymongo import MongoClient

    now = datetime.now(UTC).replace(microsecond=0)
    spec = NudgeSpec(
        id="nudge-e2e-1",
        user_id="e2e-dana",
        type=NudgeType.REFLECT,
        wanted_at=now,
        origin=Origin.RULE,
    )
    scheduled = new_nudge(spec, now, PersonSchedule(), NudgePreferences())
    assert scheduled is not None
    nudge = deliver(scheduled, now, [Channel.IN_APP], now.date().isoformat())
    with MongoClient(stack.mongodb_uri, tz_aware=True) as client:
        client["flowlearn_nudges"]["nudges"].insert_one(
            to_document(nudge) | {"lease_until": NEVER, "lease_owner": None, "listed_at": now}
        )
    inbox = api.get("/v1/nudges/inbox", headers=auth("e2e-dana")).json()
    assert [(n["id"], n["status"]) for n in inbox["items"]] == [("nudge-e2e-1", "delivered")]

    response = api.post(
        "/v1/journal/entries",
        headers=auth("e2e-dana"),
        json={"kind": "reflection", "body": "Answered the nudge", "nudge_id": "nudge-e2e-1"},
    )
    assert response.status_code == 201
    deadline = time.monotonic() + 20
    while True:
        inbox = api.get("/v1/nudges/inbox", headers=auth("e2e-dana")).json()
        if inbox["items"][0]["status"] == "acted":
            break
        assert time.monotonic() < deadline, "the nudges service never saw the entry"
        time.sleep(0.2)
    # Nobody else sees it, or can answer it.
    assert api.get("/v1/nudges/inbox", headers=auth("e2e-erin")).json()["items"] == []
    other = api.post(
        "/v1/nudges/nudge-e2e-1/ack", headers=auth("e2e-erin"), json={"action": "dismissed"}
    )
    assert other.status_code == 404
