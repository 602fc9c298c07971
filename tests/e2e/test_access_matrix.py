"""Every endpoint of the gateway by every kind of caller, with the status each must get.

Callers: the owner of the records, a teammate, the manager who leads their team, a curator
in the team, a member of another team, an admin outside the team, and four who must be
refused on every `/v1` route: no token, an expired token, a token signed with another
secret and an unsigned `alg: none` token claiming admin. The table must cover every
operation in `docs/openapi.json`, so a new endpoint cannot go unchecked.

Besides the statuses: journal text never reaches anyone but its writer, an anonymous
lesson's author never appears in anything anyone else is sent, and a campaign to fewer than
five people shows no counts. The counts of checks run and failed go to
`test-output/access-matrix.json`.
"""

from __future__ import annotations

import json
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from access_support import BAD, REAL, World, build_world, new_id
from flowlearn_cli.stack import Stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "docs" / "openapi.json"
REPORT = ROOT / "test-output" / "access-matrix.json"

# The owner goes last, so a record the owner may use up is still there for the others.
ORDER = (*BAD, "teammate", "manager", "curator", "other", "admin", "owner")
TEAM = ("owner", "teammate", "manager", "curator")

# Which record of the world fills each path parameter.
PARAMS = {
    "entry_id": "entry",
    "post_id": "post",
    "question_id": "question",
    "answer_id": "answer",
    "collection_id": "collection",
    "item_id": "item",
    "community_id": "community",
    "experiment_id": "experiment",
    "gathering_id": "gathering",
    "kudos_id": "kudos",
    "erasure_id": "erasure",
    "campaign_id": "campaign",
    "nudge_id": "nudge",
    "team_id": "team",
    "user_id": "member",
}


def exp(default: int, **by_caller: int) -> dict[str, int]:
    """Statuses for the callers with a valid token; `team=` sets the four team members."""
    statuses = dict.fromkeys(REAL, default)
    if "team" in by_caller:
        statuses.update(dict.fromkeys(TEAM, by_caller.pop("team")))
    statuses.update(by_caller)
    return statuses


def team_only(ok: int) -> dict[str, int]:
    return exp(404, team=ok)


def owner_only(ok: int) -> dict[str, int]:
    return exp(404, owner=ok)


Body = Any | Callable[[World], Any]


@dataclass
class Row:
    method: str
    path: str  # as in the OpenAPI document
    expect: dict[str, int]
    body: Body = None
    query: dict[str, str] | Callable[[World], dict[str, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # parameter -> world record, overriding
    fresh: str | None = None  # a World method making a new record for each caller
    refused: int = 401  # for the four callers without a valid token
    stream: bool = False


def org_post(_: World) -> dict[str, str]:
    return {"kind": "tip", "body": "Small diffs", "audience": "org"}


def item_order(world: World) -> dict[str, list[str]]:
    path = f"/v1/collections/{world.ids['collection']}"
    items = world.call("GET", path, "curator", expect=200).json()["items"]
    return {"item_ids": [str(item["id"]) for item in reversed(items)]}


TABLE: list[Row] = [
    # Probes and routes that do not take a bearer token.
    Row("GET", "/healthz", exp(200), refused=200),
    Row("GET", "/readyz", exp(200), refused=200),
    Row("POST", "/v1/dev/token", exp(201), body=lambda w: {"user": new_id("dev")}, refused=201),
    Row("POST", "/v1/hooks/work-events", exp(401), body={"specversion": "1.0"}),
    # Journal: the owner's alone.
    Row("POST", "/v1/journal/entries", exp(201), body={"kind": "gem", "body": "A gem"}),
    Row("GET", "/v1/journal/entries", exp(200)),
    Row("GET", "/v1/journal/entries/{entry_id}", owner_only(200)),
    Row("PATCH", "/v1/journal/entries/{entry_id}", owner_only(200), body={"tags": ["ops", "x"]}),
    Row("DELETE", "/v1/journal/entries/{entry_id}", owner_only(204), fresh="fresh_entry"),
    Row(
        "POST",
        "/v1/journal/entries/{entry_id}/share",
        owner_only(202),
        body={"audience": "org", "excerpt": "Check the rota", "anonymous": True},
    ),
    Row("GET", "/v1/journal/portfolio", exp(200)),
    Row("GET", "/v1/journal/prompts", exp(200)),
    Row("GET", "/v1/journal/stats", exp(200)),
    # People and teams.
    Row("GET", "/v1/me", exp(200)),
    Row("PATCH", "/v1/me", exp(200), body={"timezone": "UTC"}),
    Row("GET", "/v1/me/teams", exp(200)),
    Row("GET", "/v1/me/export", exp(200)),
    Row("GET", "/v1/me/erasure/{erasure_id}", exp(404)),
    Row("POST", "/v1/teams", exp(403, manager=201, admin=201), body={"name": "A team"}),
    Row("GET", "/v1/teams/{team_id}", exp(200, other=404)),
    Row(
        "POST",
        "/v1/teams/{team_id}/members",
        exp(403, manager=200, admin=200, other=404),
        body=lambda w: {"user_id": new_id("joiner")},
    ),
    Row(
        "DELETE",
        "/v1/teams/{team_id}/members/{user_id}",
        exp(403, manager=200, admin=200, other=404),
        fresh="fresh_member",
    ),
    Row("POST", "/v1/communities", exp(201), body=lambda w: {"name": new_id("cop")}),
    Row("GET", "/v1/communities", exp(200)),
    Row("POST", "/v1/communities/{community_id}/members", exp(200)),
    Row("GET", "/v1/communities/{community_id}/feed", exp(200)),
    Row("DELETE", "/v1/communities/{community_id}/members/me", exp(200)),
    # Posts: a team post is for the team only; only its author changes it.
    Row("POST", "/v1/posts", exp(201), body=org_post),
    Row("GET", "/v1/posts/{post_id}", team_only(200)),
    Row("GET", "/v1/posts/{post_id}", exp(200), ids={"post_id": "org_post"}),
    Row("GET", "/v1/posts/{post_id}", exp(200), ids={"post_id": "lesson"}),
    Row("PATCH", "/v1/posts/{post_id}", exp(404, team=403, owner=200), body={"body": "Edited"}),
    Row("DELETE", "/v1/posts/{post_id}", exp(404, team=403, owner=204), fresh="fresh_post"),
    Row("PUT", "/v1/posts/{post_id}/reactions/{kind}", team_only(200), ids={"kind": "like"}),
    Row("DELETE", "/v1/posts/{post_id}/reactions/{kind}", team_only(200), ids={"kind": "like"}),
    Row("POST", "/v1/posts/{post_id}/comments", team_only(201), body={"body": "Agreed"}),
    Row("GET", "/v1/posts/{post_id}/comments", team_only(200)),
    Row("GET", "/v1/posts/{post_id}/comments", exp(200), ids={"post_id": "lesson"}),
    Row("GET", "/v1/feed", exp(200), query={"limit": "100"}),
    Row("GET", "/v1/search", exp(200), query=lambda w: {"q": w.word}),
    # Questions: only the asker accepts; nobody votes on what they wrote.
    Row("POST", "/v1/questions", exp(201), body={"title": "Why?", "body": "Because"}),
    Row("GET", "/v1/questions", exp(200)),
    Row("GET", "/v1/questions/{question_id}", team_only(200)),
    Row("POST", "/v1/questions/{question_id}/answers", team_only(201), body={"body": "This"}),
    Row(
        "PUT", "/v1/questions/{question_id}/vote", exp(404, team=200, owner=403), body={"value": 1}
    ),
    Row("PUT", "/v1/answers/{answer_id}/vote", exp(404, team=200, teammate=403), body={"value": 1}),
    Row(
        "POST",
        "/v1/answers/{answer_id}/accept",
        exp(404, team=403, owner=200),
        fresh="fresh_answer",
    ),
    # Kudos: a private kudos is for its giver and receiver.
    Row(
        "POST",
        "/v1/kudos",
        exp(201),
        body=lambda w: {"to": w.users["other_lead"], "message": "Thanks for the help"},
    ),
    Row("GET", "/v1/kudos/given", exp(200)),
    Row("GET", "/v1/kudos/received", exp(200)),
    Row("GET", "/v1/kudos/{kudos_id}", exp(404, owner=200, teammate=200)),
    # Gatherings for the team.
    Row(
        "POST",
        "/v1/gatherings",
        exp(201),
        body={
            "kind": "book_club",
            "title": "Book club",
            "starts_at": "2030-02-01T12:00:00Z",
            "capacity": 5,
            "audience": "org",
        },
    ),
    Row("GET", "/v1/gatherings", exp(200)),
    Row("GET", "/v1/gatherings/{gathering_id}", team_only(200)),
    Row("POST", "/v1/gatherings/{gathering_id}/rsvp", team_only(200)),
    Row("GET", "/v1/gatherings/{gathering_id}/attendees", team_only(200)),
    Row("DELETE", "/v1/gatherings/{gathering_id}/rsvp", team_only(204)),
    # Three Ps experiments of the team: only the owner moves one on.
    Row(
        "POST",
        "/v1/experiments",
        exp(403, team=201),
        body=lambda w: {"team_id": w.ids["team"], "title": "Mob Mondays"},
    ),
    Row("GET", "/v1/experiments", exp(200)),
    Row("GET", "/v1/experiments/{experiment_id}", team_only(200)),
    Row(
        "POST",
        "/v1/experiments/{experiment_id}/stage",
        exp(404, team=403, owner=200),
        body={"to": "prototype", "learned": "It works"},
        fresh="fresh_experiment",
    ),
    # Collections: curators and admins make them; only the curator changes one.
    Row(
        "POST",
        "/v1/collections",
        exp(403, curator=201, admin=201),
        body={"title": "Reading", "audience": "org"},
    ),
    Row("GET", "/v1/collections", exp(200)),
    Row("GET", "/v1/collections/{collection_id}", team_only(200)),
    Row(
        "PATCH",
        "/v1/collections/{collection_id}",
        exp(404, team=403, curator=200),
        body={"description": "Updated"},
    ),
    Row(
        "POST",
        "/v1/collections/{collection_id}/items",
        exp(404, team=403, curator=201),
        body={"item": {"type": "link", "title": "More", "url": "https://example.org/y"}},
    ),
    Row(
        "PUT",
        "/v1/collections/{collection_id}/items/order",
        exp(404, team=403, curator=200),
        body=item_order,
    ),
    Row("GET", "/v1/collections/{collection_id}/items/{item_id}", team_only(200)),
    Row(
        "DELETE",
        "/v1/collections/{collection_id}/items/{item_id}",
        exp(404, team=403, curator=204),
        fresh="fresh_item",
    ),
    Row("POST", "/v1/collections/{collection_id}/enroll", team_only(200), body={}),
    Row("DELETE", "/v1/collections/{collection_id}/enroll", team_only(204)),
    # Nudges: one's own inbox; campaigns by managers of the team, curators and admins.
    Row("GET", "/v1/nudges/preferences", exp(200)),
    Row("PUT", "/v1/nudges/preferences", exp(200), body={"daily_cap": 20}),
    Row("GET", "/v1/nudges/inbox", exp(200)),
    Row("POST", "/v1/nudges/{nudge_id}/ack", owner_only(200), body={"action": "opened"}),
    Row(
        "POST",
        "/v1/nudges/campaigns",
        exp(403, manager=201, curator=201, admin=201),
        body=lambda w: {"type": "custom", "message": "Reflect", "audience": w.team_aud},
    ),
    Row("GET", "/v1/nudges/campaigns/{campaign_id}", exp(404, manager=200, admin=200)),
    Row("POST", "/v1/notifications/tickets", exp(201)),
    Row("GET", "/v1/notifications/stream", exp(200), stream=True),
    # Last: every caller asks to be erased.
    Row("DELETE", "/v1/me", exp(202), query={"posts": "delete"}),
]


@dataclass
class Outcome:
    checks: int = 0
    failures: list[str] = field(default_factory=list)
    bodies: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # caller -> texts


def documented_operations() -> set[tuple[str, str]]:
    document = json.loads(OPENAPI.read_text())
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_the_table_covers_every_documented_operation() -> None:
    covered = {(row.method, row.path) for row in TABLE}
    missing = documented_operations() - covered
    assert not missing, f"endpoints the access matrix does not check: {sorted(missing)}"
    unknown = covered - documented_operations()
    assert not unknown, f"rows for endpoints the API does not have: {sorted(unknown)}"


def send(world: World, row: Row, who: str, ids: dict[str, str]) -> tuple[int, str]:
    def value(name: str) -> str:
        key = row.ids.get(name, PARAMS.get(name, name))
        return ids.get(key) or world.ids.get(key, key)

    names = [name for _, name, _, _ in string.Formatter().parse(row.path) if name]
    url = row.path.format(**{name: value(name) for name in names})
    body = row.body(world) if callable(row.body) else row.body
    headers = world.headers[who]
    if row.stream:
        with world.api.stream("GET", url, headers=headers, timeout=10) as response:
            return response.status_code, ""
    response = world.api.request(
        row.method,
        url,
        params=row.query(world) if callable(row.query) else row.query,
        json=body,
        headers=headers,
        timeout=15,
    )
    return response.status_code, response.text


def run_row(world: World, row: Row, outcome: Outcome) -> None:
    for who in ORDER:
        if who in BAD:
            want = row.refused
            ids: dict[str, str] = {}
        else:
            want = row.expect[who]
            ids = getattr(world, row.fresh)() if row.fresh else {}
        status, text = send(world, row, who, ids)
        outcome.checks += 1
        outcome.bodies.setdefault(who, []).append((f"{row.method} {row.path}", text))
        if status != want:
            detail = text[:160].replace("\n", " ")
            outcome.failures.append(
                f"{row.method} {row.path} as {who}: {status} != {want} {detail}"
            )


def privacy_failures(world: World, outcome: Outcome) -> list[str]:
    """Nobody is sent private text they may not see: another's journal, a team's posts and
    questions outside the team, a private kudos, or an anonymous lesson's author."""
    failures = []
    for secret, allowed in world.secrets.items():
        # The check must be able to fail: those allowed were sent it somewhere.
        outcome.checks += 1
        if allowed and not any(
            secret in text for who in allowed for _, text in outcome.bodies.get(who, [])
        ):
            failures.append(f"nobody allowed to was sent {secret!r}")
        for who, texts in outcome.bodies.items():
            if who in allowed:
                continue
            outcome.checks += 1
            leaks = sorted({label for label, text in texts if secret in text})
            if leaks:
                failures.append(f"{who} was sent {secret!r} by {leaks}")
    return failures


def suppression_failures(world: World, outcome: Outcome) -> list[str]:
    path = f"/v1/nudges/campaigns/{world.ids['campaign']}"
    stats = world.call("GET", path, "manager", expect=200).json()
    outcome.checks += 1
    counts = ("delivered", "opened", "acted", "snoozed", "dismissed")
    if stats["suppressed"] is True and all(stats[name] is None for name in counts):
        return []
    return [f"a campaign to fewer than five shows its counts: {stats}"]


def test_every_endpoint_answers_every_caller_as_the_rules_say(stack: Stack) -> None:
    started = time.monotonic()
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as api:
        world = build_world(api)
        outcome = Outcome()
        # Before the last row, which erases every caller.
        outcome.failures += suppression_failures(world, outcome)
        for row in TABLE:
            run_row(world, row, outcome)
        outcome.failures += privacy_failures(world, outcome)
    seconds = round(time.monotonic() - started, 1)
    summary = {
        "endpoints": len(documented_operations()),
        "rows": len(TABLE),
        "callers": len(ORDER),
        "checks": outcome.checks,
        "failed": len(outcome.failures),
        "seconds": seconds,
        "failures": outcome.failures,
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"access matrix: {outcome.checks} checks, {len(outcome.failures)} failed, {seconds}s")
    assert not outcome.failures, "\n".join(outcome.failures)
