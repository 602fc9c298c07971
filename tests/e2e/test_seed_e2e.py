"""`make dev` seeds a small demo organisation once, through the public API."""

from __future__ import annotations

import httpx
import pytest
from flowlearn_cli.seed import seed
from flowlearn_cli.stack import Stack
from flowlearn_cli.tokens import make_token

pytestmark = pytest.mark.e2e


def as_user(user: str, role: str = "member") -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, role)}"}


def test_demo_organisation_is_seeded_once(api: httpx.Client, stack: Stack) -> None:
    assert seed(stack.config.gateway_url) == 5
    assert seed(stack.config.gateway_url) == 0  # a second start writes nothing again

    teams = api.get("/v1/me/teams", headers=as_user("maya", "manager")).json()["items"]
    assert [t["name"] for t in teams] == ["Platform team"]
    assert {m["user_id"] for m in teams[0]["members"]} == {"maya", "alice", "bob"}

    feed = api.get("/v1/feed", headers=as_user("bob")).json()["items"]
    assert {p["title"] for p in feed} >= {
        "Feature flags for risky changes",
        "Blameless postmortems",
    }
    # Carl started the guild but is not in the team: the team tip stays in the team.
    carl_feed = api.get("/v1/feed", headers=as_user("carl", "curator")).json()["items"]
    assert "Feature flags for risky changes" not in {p["title"] for p in carl_feed}

    questions = api.get("/v1/questions", headers=as_user("ada", "admin")).json()["items"]
    assert any(q["accepted_answer_id"] for q in questions)
    entries = api.get("/v1/journal/entries", headers=as_user("alice")).json()["items"]
    assert len(entries) == 4
