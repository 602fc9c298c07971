"""A small demo organisation, written through the public API when the journal is empty."""

from __future__ import annotations

from datetime import date, timedelta

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


def seed(gateway_url: str) -> int:
    """Create the demo entries for anyone who has none yet; returns how many were written."""
    written = 0
    with httpx.Client(base_url=gateway_url, timeout=15) as client:
        for user, role, name, tz in DEMO_PEOPLE:
            headers = {"Authorization": f"Bearer {make_token(user, role, timezone=tz, name=name)}"}
            existing = client.get("/v1/journal/entries", params={"limit": 1}, headers=headers)
            existing.raise_for_status()
            if existing.json()["items"]:
                continue
            for kind, title, body, tags, minutes, days_ago in DEMO_ENTRIES.get(user, []):
                response = client.post(
                    "/v1/journal/entries",
                    headers=headers,
                    json={
                        "kind": kind,
                        "title": title,
                        "body": body,
                        "tags": tags,
                        "minutes": minutes,
                        "occurred_on": (date.today() - timedelta(days=days_ago)).isoformat(),
                    },
                )
                response.raise_for_status()
                written += 1
    return written
