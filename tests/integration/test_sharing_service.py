"""The sharing service over real NATS and a MongoDB-protocol server: people, teams,
posts, visibility, and the journal -> share -> feed path."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from flowlearn_journal.bootstrap import Journal
from flowlearn_shared.subjects import RpcSubject
from flowlearn_sharing.bootstrap import Sharing
from nats.aio.client import Client

pytestmark = pytest.mark.integration


def actor(user: str, *roles: str) -> dict[str, Any]:
    return {
        "user_id": user,
        "roles": list(roles) or ["member"],
        "timezone": "UTC",
        "name": user.title(),
    }


async def call(nc: Client, subject: str, body: dict[str, Any]) -> dict[str, Any]:
    msg = await nc.request(subject, json.dumps(body).encode(), timeout=10)
    reply = json.loads(msg.data)
    return reply


async def ok(nc: Client, subject: str, body: dict[str, Any]) -> Any:
    reply = await call(nc, subject, body)
    assert reply["problem"] is None, reply["problem"]
    return reply["result"]


async def test_profile_defaults_and_update(sharing: Sharing, nc: Client, unique: str) -> None:
    me = await ok(nc, RpcSubject.SHARING_ME, {"actor": actor(f"p-{unique}")})
    assert me["timezone"] == "UTC"
    assert me["working_hours"] == {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}
    assert me["quiet_hours"] is None
    updated = await ok(
        nc,
        RpcSubject.SHARING_UPDATE_ME,
        {
            "actor": actor(f"p-{unique}"),
            "changes": {
                "timezone": "Europe/Berlin",
                "quiet_hours": {"start": "22:00", "end": "07:00"},
            },
        },
    )
    assert updated["timezone"] == "Europe/Berlin"
    assert updated["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    bad = await call(
        nc,
        RpcSubject.SHARING_UPDATE_ME,
        {"actor": actor(f"p-{unique}"), "changes": {"timezone": "Mars/Olympus"}},
    )
    assert bad["problem"]["status"] == 422


async def test_team_posts_are_seen_by_the_team_only(
    sharing: Sharing, nc: Client, unique: str
) -> None:
    lead, mate, outsider, admin = (f"{n}-{unique}" for n in ("lead", "mate", "out", "admin"))
    denied = await call(
        nc, RpcSubject.SHARING_CREATE_TEAM, {"actor": actor(mate), "team": {"name": "x"}}
    )
    assert denied["problem"]["status"] == 403
    team = await ok(
        nc,
        RpcSubject.SHARING_CREATE_TEAM,
        {"actor": actor(lead, "manager"), "team": {"name": "Platform"}},
    )
    await ok(
        nc,
        RpcSubject.SHARING_ADD_TEAM_MEMBER,
        {"actor": actor(lead, "manager"), "team_id": team["id"], "member": {"user_id": mate}},
    )
    post = await ok(
        nc,
        RpcSubject.SHARING_CREATE_POST,
        {
            "actor": actor(mate),
            "post": {
                "kind": "tip",
                "body": "Use feature flags",
                "tags": ["Ops"],
                "audience": f"team:{team['id']}",
            },
        },
    )
    assert post["author"]["user_id"] == mate
    assert post["tags"] == ["ops"]

    async def feed_of(user: str, *roles: str) -> list[str]:
        page = await ok(nc, RpcSubject.SHARING_FEED, {"actor": actor(user, *roles), "query": {}})
        return [p["id"] for p in page["items"]]

    assert post["id"] in await feed_of(lead, "manager")
    assert post["id"] in await feed_of(mate)
    assert post["id"] not in await feed_of(outsider)
    assert post["id"] not in await feed_of(admin, "admin")
    hidden = await call(
        nc, RpcSubject.SHARING_GET_POST, {"actor": actor(outsider), "post_id": post["id"]}
    )
    assert hidden["problem"]["status"] == 404
    not_mine = await call(
        nc,
        RpcSubject.SHARING_CREATE_POST,
        {
            "actor": actor(outsider),
            "post": {"kind": "tip", "body": "x", "audience": f"team:{team['id']}"},
        },
    )
    assert not_mine["problem"]["status"] == 403


async def test_anonymous_lesson_hides_its_author(sharing: Sharing, nc: Client, unique: str) -> None:
    author, reader = f"a-{unique}", f"r-{unique}"
    post = await ok(
        nc,
        RpcSubject.SHARING_CREATE_POST,
        {
            "actor": actor(author),
            "post": {
                "kind": "lesson",
                "body": "I broke prod",
                "audience": "org",
                "anonymous": True,
            },
        },
    )
    seen = await ok(
        nc, RpcSubject.SHARING_GET_POST, {"actor": actor(reader), "post_id": post["id"]}
    )
    assert seen["author"] is None
    assert seen["is_mine"] is False
    assert author not in json.dumps(seen)
    page = await ok(nc, RpcSubject.SHARING_FEED, {"actor": actor(reader), "query": {}})
    assert author not in json.dumps(page)
    edit = await call(
        nc,
        RpcSubject.SHARING_UPDATE_POST,
        {"actor": actor(reader), "post_id": post["id"], "changes": {"body": "mine"}},
    )
    assert edit["problem"]["status"] == 403
    own = await ok(nc, RpcSubject.SHARING_GET_POST, {"actor": actor(author), "post_id": post["id"]})
    assert own["is_mine"] is True


async def test_journal_entry_shared_becomes_a_post(
    journal: Journal, sharing: Sharing, nc: Client, unique: str
) -> None:
    author, reader = f"j-{unique}", f"jr-{unique}"
    entry = await ok(
        nc,
        RpcSubject.JOURNAL_CREATE_ENTRY,
        {
            "actor": actor(author),
            "entry": {
                "kind": "mistake",
                "title": "Friday deploy",
                "body": "Private part. Shareable lesson: dry-run first.",
                "tags": ["ops"],
            },
        },
    )
    accepted = await ok(
        nc,
        RpcSubject.JOURNAL_SHARE_ENTRY,
        {
            "actor": actor(author),
            "entry_id": entry["id"],
            "share": {
                "audience": "org",
                "excerpt": "Shareable lesson: dry-run first.",
                "anonymous": True,
            },
        },
    )
    not_owner = await call(
        nc,
        RpcSubject.JOURNAL_SHARE_ENTRY,
        {"actor": actor(reader), "entry_id": entry["id"], "share": {"audience": "org"}},
    )
    assert not_owner["problem"]["status"] == 404

    deadline = asyncio.get_running_loop().time() + 15
    while True:
        reply = await call(
            nc,
            RpcSubject.SHARING_GET_POST,
            {"actor": actor(reader), "post_id": accepted["share_id"]},
        )
        if reply["problem"] is None:
            break
        assert asyncio.get_running_loop().time() < deadline, "the shared entry never became a post"
        await asyncio.sleep(0.2)
    post = reply["result"]
    assert post["kind"] == "lesson"
    assert post["body"] == "Shareable lesson: dry-run first."
    assert "Private part" not in json.dumps(post)
    assert post["author"] is None


async def test_journal_follows_the_profile_time_zone(
    journal: Journal, sharing: Sharing, nc: Client, unique: str
) -> None:
    user = f"tz-{unique}"
    await ok(
        nc,
        RpcSubject.SHARING_UPDATE_ME,
        {"actor": actor(user), "changes": {"timezone": "Pacific/Kiritimati"}},
    )
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        stats = await ok(nc, RpcSubject.JOURNAL_STATS, {"actor": actor(user)})
        if stats["timezone"] == "Pacific/Kiritimati":
            break
        assert asyncio.get_running_loop().time() < deadline, "the journal never learned the zone"
        await asyncio.sleep(0.2)
    explicit = await ok(
        nc, RpcSubject.JOURNAL_STATS, {"actor": actor(user), "timezone": "Europe/Lisbon"}
    )
    assert explicit["timezone"] == "Europe/Lisbon"
