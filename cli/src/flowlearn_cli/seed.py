"""A small demo organisation, written through the public API when the journal is empty."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from flowlearn_cli.tokens import make_token

DEMO_PEOPLE = [
    ("alice", "member", "Alice Moreau", "Europe/Paris"),
    ("bob", "member", "Bob Okafor", "Europe/London"),
    ("maya", "manager", "Maya Lindqvist", "Europe/Stockholm"),
    ("carl", "curator", "Carl Mendes", "America/New_York"),
    ("ada", "admin", "Ada Park", "UTC"),
]

DEMO_ENTRIES = {
    "alice": [
        (
            "learned",
            "Reading flame graphs",
            "Profiled the export job: most time was JSON encoding.",
            ["performance"],
            30,
            0,
        ),
        (
            "mistake",
            "Friday deploy",
            "Shipped a migration without a rollback plan. Next time: dry-run first.",
            ["ops", "deploys"],
            15,
            1,
        ),
        (
            "gem",
            "Idempotency keys",
            "The payments team's note on idempotency keys is worth re-reading.",
            ["api-design"],
            10,
            2,
        ),
        (
            "achievement",
            "Led the incident review",
            "Ran my first blameless review; people spoke up.",
            ["facilitation"],
            45,
            4,
        ),
    ],
    "bob": [
        (
            "reflection",
            "Pairing with Alice",
            "Pairing made me explain my assumptions out loud.",
            ["pairing"],
            20,
            0,
        ),
    ],
}


class Demo:
    """Calls the public API as the demo people."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.tokens = {
            user: make_token(user, role, timezone=tz, name=name)
            for user, role, name, tz in DEMO_PEOPLE
        }

    def call(self, user: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        response = self.client.request(method, path, headers=headers, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


def seed_journals(demo: Demo) -> int:
    written = 0
    for user, entries in DEMO_ENTRIES.items():
        if demo.call(user, "GET", "/v1/journal/entries", params={"limit": 1})["items"]:
            continue
        for kind, title, body, tags, minutes, days_ago in entries:
            demo.call(
                user,
                "POST",
                "/v1/journal/entries",
                json={
                    "kind": kind,
                    "title": title,
                    "body": body,
                    "tags": tags,
                    "minutes": minutes,
                    "occurred_on": (date.today() - timedelta(days=days_ago)).isoformat(),
                },
            )
            written += 1
    return written


def seed_organisation(demo: Demo) -> bool:
    """A team led by Maya, a community, a few posts, a question with an answer, kudos.
    Skipped when Maya already has a team (the organisation was seeded before)."""
    if demo.call("maya", "GET", "/v1/me/teams")["items"]:
        return False
    for user, _, _, tz in DEMO_PEOPLE:
        demo.call(user, "PATCH", "/v1/me", json={"timezone": tz})
    team = demo.call("maya", "POST", "/v1/teams", json={"name": "Platform team"})
    for member in ("alice", "bob"):
        demo.call("maya", "POST", f"/v1/teams/{team['id']}/members", json={"user_id": member})
    guild = demo.call(
        "carl",
        "POST",
        "/v1/communities",
        json={
            "name": "Reliability guild",
            "description": "Incidents, reviews, on-call.",
            "tags": ["ops"],
        },
    )
    for member in ("alice", "bob"):
        demo.call(member, "POST", f"/v1/communities/{guild['id']}/members")
    demo.call(
        "bob",
        "POST",
        "/v1/posts",
        json={
            "kind": "tip",
            "title": "Feature flags for risky changes",
            "body": "Ship dark, turn on for the team first, then everyone.",
            "tags": ["deploys"],
            "audience": f"team:{team['id']}",
        },
    )
    demo.call(
        "alice",
        "POST",
        "/v1/posts",
        json={
            "kind": "gem",
            "title": "Blameless postmortems",
            "body": "The best short guide I know to running a blameless review.",
            "url": "https://sre.google/sre-book/postmortem-culture/",
            "tags": ["facilitation", "ops"],
            "audience": f"community:{guild['id']}",
        },
    )
    question = demo.call(
        "bob",
        "POST",
        "/v1/questions",
        json={
            "title": "How do you keep incident reviews blameless?",
            "body": "People go quiet when the review starts. What helps?",
            "tags": ["facilitation"],
        },
    )
    answer = demo.call(
        "alice",
        "POST",
        f"/v1/questions/{question['id']}/answers",
        json={"body": "Start with the timeline, not the people; ask 'what made sense then?'"},
    )
    demo.call("bob", "POST", f"/v1/answers/{answer['id']}/accept")
    demo.call(
        "maya",
        "POST",
        "/v1/kudos",
        json={
            "to": "alice",
            "message": "I see you at your best when you make a hard review feel safe.",
            "strengths": ["facilitation"],
            "visibility": "team",
        },
    )
    return True


def seed(gateway_url: str) -> int:
    """Seed the demo organisation and journals where they are empty; returns how many
    journal entries were written."""
    with httpx.Client(base_url=gateway_url, timeout=15) as client:
        demo = Demo(client)
        written = seed_journals(demo)
        seed_organisation(demo)
    return written
