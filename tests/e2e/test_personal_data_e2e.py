"""A person's data through the whole running system: they export everything they own as one
file, erase themselves, every service confirms, and their export is then empty, while
other people's things stay as they were (with no trace of them left in them)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from flowlearn_cli.tokens import make_token

pytestmark = pytest.mark.e2e

ERASED = {"user_id": "~erased", "display_name": "Erased person"}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def auth(user: str, role: str = "member", name: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, role, name=name)}"}


def eventually(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.3)
    return result


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def export(api: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = api.get("/v1/me/export", headers=headers)
    body: dict[str, Any] = ok(response)
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="flowlearn-export.json"'
    assert set(body["services"]) == {"journal", "sharing", "nudges"}
    assert all(s["status"] == "answered" for s in body["services"].values())
    return body


def empty(part: dict[str, Any]) -> dict[str, Any]:
    """What is left in one service's part: every field that is not empty."""
    return {name: value for name, value in part.items() if value not in (None, [])}


def test_a_person_exports_everything_then_erases_themselves(api: httpx.Client) -> None:
    alice_id, bob_id = new_id("alice"), new_id("bob")
    alice, bob = auth(alice_id, name="Alice"), auth(bob_id, "manager", name="Bob")
    for body in ("Canary deploys catch what staging misses", "Pairing beats a long review"):
        ok(
            api.post("/v1/journal/entries", headers=alice, json={"kind": "learned", "body": body}),
            201,
        )
    tip = ok(
        api.post(
            "/v1/posts",
            headers=alice,
            json={"kind": "tip", "body": "Feature flags off by default", "audience": "org"},
        ),
        201,
    )
    lesson = ok(
        api.post(
            "/v1/posts",
            headers=alice,
            json={
                "kind": "lesson",
                "body": "I deployed on a Friday",
                "audience": "org",
                "anonymous": True,
            },
        ),
        201,
    )
    question = ok(
        api.post(
            "/v1/questions",
            headers=bob,
            json={"title": "Who owns the pager?", "body": "Rotation?", "tags": ["ops"]},
        ),
        201,
    )
    answer = ok(
        api.post(
            f"/v1/questions/{question['id']}/answers",
            headers=alice,
            json={"body": "The on-call lead, weekly"},
        ),
        201,
    )
    ok(api.post("/v1/kudos", headers=bob, json={"to": alice_id, "message": "Calm on call"}), 201)
    ok(api.post("/v1/kudos", headers=alice, json={"to": bob_id, "message": "Great review"}), 201)
    webhook = {"url": "http://127.0.0.1:9/hook", "secret": "a-signing-secret-of-hers"}
    preferences = {"daily_cap": 2, "destinations": {"webhook": webhook}}
    ok(api.put("/v1/nudges/preferences", headers=alice, json=preferences))

    def kudos_in_portfolio() -> list[Any]:
        found: list[Any] = export(api, alice)["journal"]["portfolio_kudos"]
        return found

    eventually(kudos_in_portfolio, "the kudos reached her journal portfolio")
    mine = export(api, alice)
    assert mine["user_id"] == alice_id
    journal, sharing, nudges = mine["journal"], mine["sharing"], mine["nudges"]
    assert sorted(e["body"] for e in journal["entries"]) == [
        "Canary deploys catch what staging misses",
        "Pairing beats a long review",
    ]
    assert sharing["profile"]["user_id"] == alice_id
    posts = {p["id"]: p for p in sharing["posts"]}
    assert set(posts) == {tip["id"], lesson["id"]}
    assert posts[lesson["id"]]["anonymous"] is True
    assert [a["id"] for a in sharing["answers"]] == [answer["id"]]
    assert [k["message"] for k in sharing["kudos_received"]] == ["Calm on call"]
    assert [k["message"] for k in sharing["kudos_given"]] == ["Great review"]
    hook = nudges["preferences"]["destinations"]["webhook"]
    assert hook["has_secret"] is True
    assert hook.get("secret") is None
    assert "a-signing-secret-of-hers" not in str(mine)

    accepted = ok(api.delete("/v1/me", headers=alice), 202)
    location = f"/v1/me/erasure/{accepted['erasure_id']}"

    def erased() -> dict[str, Any] | None:
        status: dict[str, Any] = ok(api.get(location, headers=alice))
        return status if status["status"] == "erased" else None

    status = eventually(erased, "every service confirmed the erasure")
    assert {name: s["status"] for name, s in status["services"].items()} == {
        "journal": "erased",
        "sharing": "erased",
        "nudges": "erased",
    }
    # Someone else cannot read her erasure.
    assert api.get(location, headers=auth(bob_id, "admin")).status_code == 404

    after = export(api, alice)
    for name in ("journal", "sharing", "nudges"):
        assert empty(after[name]) == {}, f"{name} still holds {empty(after[name])}"
    # Her erasure's progress stays readable to her after everything else is gone.
    assert ok(api.get(location, headers=alice))["status"] == "erased"

    # Bob's things stay; where they held her, they hold nobody.
    bobs = export(api, bob)
    assert [q["id"] for q in bobs["sharing"]["questions"]] == [question["id"]]
    [given] = ok(api.get("/v1/kudos/given", headers=bob))["items"]
    assert given["message"] == "Calm on call"
    assert given["recipient"] == ERASED
    assert given["visibility"] == "private"
    [received] = ok(api.get("/v1/kudos/received", headers=bob))["items"]
    assert received["message"] == "Great review"
    assert received["sender"] == ERASED
    thread = ok(api.get(f"/v1/questions/{question['id']}", headers=bob))
    [kept_answer] = thread["answers"]
    assert kept_answer["body"] == "The on-call lead, weekly"
    assert kept_answer["author"] == ERASED
    for post_id in (tip["id"], lesson["id"]):
        post = ok(api.get(f"/v1/posts/{post_id}", headers=bob))
        assert post["anonymous"] is True
        assert post["author"] is None
        assert post["is_mine"] is False
    assert alice_id not in str(bobs)


def test_erasing_with_delete_removes_what_they_wrote(api: httpx.Client) -> None:
    carol_id, dan_id = new_id("carol"), new_id("dan")
    carol, dan = auth(carol_id), auth(dan_id)
    tip = ok(
        api.post(
            "/v1/posts", headers=carol, json={"kind": "tip", "body": "Mine", "audience": "org"}
        ),
        201,
    )
    ok(api.post(f"/v1/posts/{tip['id']}/comments", headers=dan, json={"body": "Nice"}), 201)
    dans = ok(
        api.post(
            "/v1/posts", headers=dan, json={"kind": "tip", "body": "Dan's", "audience": "org"}
        ),
        201,
    )
    accepted = ok(api.delete("/v1/me", params={"posts": "delete"}, headers=carol), 202)

    def erased() -> bool:
        status = ok(api.get(f"/v1/me/erasure/{accepted['erasure_id']}", headers=carol))
        return bool(status["status"] == "erased" and status["posts"] == "delete")

    eventually(erased, "every service confirmed the erasure")
    assert api.get(f"/v1/posts/{tip['id']}", headers=dan).status_code == 404
    assert ok(api.get(f"/v1/posts/{dans['id']}", headers=dan))["body"] == "Dan's"
    assert empty(export(api, carol)["sharing"]) == {}
