"""People, tokens and shared records for the access-control matrix.

Every caller is a fresh user id, so the matrix can run on the session's shared stack next to
other tests. The records are made through the HTTP API, as a client would make them.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from flowlearn_cli.tokens import make_token

ALL_DAY = {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"}

# Callers with a valid token, and callers whose token the gateway must refuse.
REAL = ("owner", "teammate", "manager", "curator", "other", "admin")
BAD = ("anonymous", "expired", "wrong_signature", "alg_none")
CALLERS = (*REAL, *BAD)


def new_id(prefix: str) -> str:
    return f"am-{prefix}-{uuid.uuid4().hex[:10]}"


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_token(user: str, role: str = "admin") -> str:
    """A token with `alg: none` and no signature, claiming the strongest role."""
    now = int(time.time())
    claims = {"sub": user, "roles": [role], "iat": now, "exp": now + 3600}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.25)
    return result


@dataclass
class World:
    """The callers' headers and the ids of what they made."""

    api: httpx.Client
    users: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    # Text, and the callers who may ever be sent it.
    secrets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A word in every record made here, so searches and feeds have something to leak.
    word: str = field(default_factory=lambda: f"matrix{uuid.uuid4().hex[:8]}")

    def call(
        self, method: str, path: str, who: str, body: Any = None, expect: int | None = None
    ) -> httpx.Response:
        response = self.api.request(
            method, path, headers=self.headers.get(who, {}), json=body, timeout=15
        )
        if expect is not None:
            assert response.status_code == expect, f"{method} {path} as {who}: {response.text}"
        return response

    def made(self, method: str, path: str, who: str, body: Any, expect: int = 201) -> str:
        return str(self.call(method, path, who, body, expect).json()["id"])

    # Fresh records, one per caller, for rows that use a record up.
    def fresh_entry(self) -> dict[str, str]:
        body = {"kind": "learned", "body": f"scratch {uuid.uuid4().hex}"}
        return {"entry": self.made("POST", "/v1/journal/entries", "owner", body)}

    def fresh_post(self) -> dict[str, str]:
        body = {"kind": "tip", "body": "A tip to delete", "audience": f"team:{self.ids['team']}"}
        return {"post": self.made("POST", "/v1/posts", "owner", body)}

    def fresh_answer(self) -> dict[str, str]:
        ask = {"title": "Which linter?", "body": "For a new repo", "audience": self.team_aud}
        question = self.made("POST", "/v1/questions", "owner", ask)
        answer = {"body": f"ruff ({uuid.uuid4().hex[:6]})"}
        return {
            "answer": self.made("POST", f"/v1/questions/{question}/answers", "teammate", answer)
        }

    def fresh_experiment(self) -> dict[str, str]:
        body = {"team_id": self.ids["team"], "title": "Pairing Fridays", "pitch": "Try it"}
        return {"experiment": self.made("POST", "/v1/experiments", "owner", body)}

    def fresh_member(self) -> dict[str, str]:
        user = new_id("extra")
        self.call(
            "POST",
            f"/v1/teams/{self.ids['team']}/members",
            "manager",
            {"user_id": user},
            expect=200,
        )
        return {"member": user}

    def fresh_item(self) -> dict[str, str]:
        item = {"item": {"type": "link", "title": "Docs", "url": "https://example.org/x"}}
        path = f"/v1/collections/{self.ids['collection']}/items"
        created = self.call("POST", path, "curator", item, expect=201).json()
        return {"item": str(created["items"][-1]["id"])}

    @property
    def team_aud(self) -> str:
        return f"team:{self.ids['team']}"


def build_world(api: httpx.Client) -> World:
    world = World(api)
    roles = {
        "owner": "member",
        "teammate": "member",
        "manager": "manager",
        "curator": "curator",
        "other": "member",
        "admin": "admin",
        "other_lead": "manager",
        "anon_author": "member",
    }
    for who, role in roles.items():
        user = new_id(who)
        world.users[who] = user
        world.headers[who] = bearer(make_token(user, role, name=f"Name {user}"))
    stranger = new_id("stranger")
    world.headers["expired"] = bearer(make_token(stranger, "admin", ttl_seconds=-3600))
    world.headers["wrong_signature"] = bearer(
        make_token(stranger, "admin", secret="not-the-gateway-secret-0123456789abcdef")
    )
    world.headers["alg_none"] = bearer(unsigned_token(stranger))
    world.headers["anonymous"] = {}

    for who in ("owner", "teammate", "curator"):
        world.call("PATCH", "/v1/me", who, {"timezone": "UTC", "working_hours": ALL_DAY}, 200)
    ids = world.ids
    ids["team"] = world.made("POST", "/v1/teams", "manager", {"name": new_id("team")})
    for who in ("owner", "teammate", "curator"):
        path = f"/v1/teams/{ids['team']}/members"
        world.call("POST", path, "manager", {"user_id": world.users[who]}, 200)
    ids["other_team"] = world.made("POST", "/v1/teams", "other_lead", {"name": new_id("team")})
    path = f"/v1/teams/{ids['other_team']}/members"
    world.call("POST", path, "other_lead", {"user_id": world.users["other"]}, 200)
    ids["member"] = world.users["teammate"]

    word, team = world.word, ("owner", "teammate", "manager", "curator")
    secret = f"private-journal-text-{uuid.uuid4().hex} {word}"
    world.secrets[secret] = ("owner",)
    entry = {"kind": "mistake", "title": "Friday deploy", "body": secret, "tags": ["ops"]}
    ids["entry"] = world.made("POST", "/v1/journal/entries", "owner", entry)

    team_aud = world.team_aud
    team_text = f"team-only-{uuid.uuid4().hex} {word}"
    world.secrets[team_text] = team
    post = {"kind": "tip", "body": team_text, "audience": team_aud}
    ids["post"] = world.made("POST", "/v1/posts", "owner", post)
    org_post = {"kind": "tip", "body": "A tip for all", "audience": "org"}
    ids["org_post"] = world.made("POST", "/v1/posts", "owner", org_post)
    lesson = {
        "kind": "lesson",
        "body": f"Canary first {word}",
        "audience": "org",
        "anonymous": True,
    }
    ids["lesson"] = world.made("POST", "/v1/posts", "anon_author", lesson)
    world.secrets[world.users["anon_author"]] = ()
    world.secrets[f"Name {world.users['anon_author']}"] = ()
    comment = {"body": "Good point"}
    world.call("POST", f"/v1/posts/{ids['lesson']}/comments", "teammate", comment, 201)

    question_text = f"team-question-{uuid.uuid4().hex} {word}"
    world.secrets[question_text] = team
    ask = {"title": "How to review?", "body": question_text, "audience": team_aud}
    ids["question"] = world.made("POST", "/v1/questions", "owner", ask)
    ids.update(world.fresh_answer())

    thanks = f"private-thanks-{uuid.uuid4().hex}"
    world.secrets[thanks] = ("owner", "teammate")
    kudos = {"to": world.users["teammate"], "message": thanks, "visibility": "private"}
    ids["kudos"] = world.made("POST", "/v1/kudos", "owner", kudos)

    gathering = {
        "kind": "lunch_and_learn",
        "title": "Lunch and learn",
        "starts_at": "2030-01-01T12:00:00Z",
        "capacity": 10,
        "audience": team_aud,
    }
    ids["gathering"] = world.made("POST", "/v1/gatherings", "owner", gathering)
    ids.update(world.fresh_experiment())
    ids["community"] = world.made("POST", "/v1/communities", "owner", {"name": new_id("cop")})

    collection = {"title": "Reading list", "audience": team_aud}
    ids["collection"] = world.made("POST", "/v1/collections", "curator", collection)
    ids.update(world.fresh_item())

    # A campaign to a team of fewer than five: its counts must stay hidden.
    campaign = {"type": "custom", "message": "What did you learn?", "audience": team_aud}

    def sent() -> str | None:
        response = world.call("POST", "/v1/nudges/campaigns", "manager", campaign)
        return str(response.json()["id"]) if response.status_code == 201 else None

    ids["campaign"] = eventually(sent, "the nudges service knows the manager leads the team")

    def nudge() -> str | None:
        items = world.call("GET", "/v1/nudges/inbox", "owner", expect=200).json()["items"]
        return str(items[0]["id"]) if items else None

    ids["nudge"] = eventually(nudge, "the campaign's nudge in the owner's inbox")

    # Someone else's erasure request: nobody in the matrix may see it.
    leaver = new_id("leaver")
    world.headers["leaver"] = bearer(make_token(leaver))
    world.call("GET", "/v1/me", "leaver", expect=200)
    erasure = world.call("DELETE", "/v1/me", "leaver", expect=202).json()
    ids["erasure"] = str(erasure["erasure_id"])
    return world
