"""The journal service over real NATS request/reply and a real MongoDB-protocol server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from flowlearn_journal.bootstrap import Journal
from flowlearn_shared.events import JournalEntryCreated, parse_event
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject, RpcSubject
from nats.aio.client import Client

pytestmark = pytest.mark.integration


async def call(nc: Client, subject: str, body: dict[str, Any]) -> dict[str, Any]:
    msg = await nc.request(subject, json.dumps(body).encode(), timeout=10)
    return json.loads(msg.data)


def actor(user: str, tz: str = "UTC") -> dict[str, Any]:
    return {"user_id": user, "roles": ["member"], "timezone": tz}


async def create(nc: Client, user: str, **entry: Any) -> dict[str, Any]:
    body = {"kind": "learned", "body": "Learned about outboxes", **entry}
    reply = await call(nc, RpcSubject.JOURNAL_CREATE_ENTRY, {"actor": actor(user), "entry": body})
    assert reply["problem"] is None, reply
    return reply["result"]


async def test_create_get_and_privacy(journal: Journal, nc: Client, unique: str) -> None:
    alice, bob = f"alice-{unique}", f"bob-{unique}"
    created = await create(nc, alice, title="Outbox", tags=["NATS", "nats", "Mongo"])
    assert created["tags"] == ["nats", "mongo"]
    assert created["version"] == 1

    mine = await call(
        nc, RpcSubject.JOURNAL_GET_ENTRY, {"actor": actor(alice), "entry_id": created["id"]}
    )
    assert mine["result"]["body"] == "Learned about outboxes"

    theirs = await call(
        nc,
        RpcSubject.JOURNAL_GET_ENTRY,
        {"actor": {**actor(bob), "roles": ["admin"]}, "entry_id": created["id"]},
    )
    assert theirs["result"] is None
    assert theirs["problem"]["status"] == 404


async def test_invalid_request_is_a_422_problem(journal: Journal, nc: Client, unique: str) -> None:
    reply = await call(
        nc,
        RpcSubject.JOURNAL_CREATE_ENTRY,
        {"actor": actor(unique), "entry": {"kind": "diary", "body": ""}},
    )
    assert reply["problem"]["status"] == 422
    failing = {tuple(e["loc"]) for e in reply["problem"]["errors"]}
    assert ("entry", "kind") in failing
    assert ("entry", "body") in failing


async def test_list_filters_and_cursor(journal: Journal, nc: Client, unique: str) -> None:
    user = f"u-{unique}"
    for i in range(5):
        await create(nc, user, body=f"entry {i}", tags=["a"] if i % 2 else ["a", "b"])
    await create(nc, user, kind="mistake", body="Deployed on Friday", tags=["ops"])

    async def page(**query: Any) -> dict[str, Any]:
        reply = await call(
            nc, RpcSubject.JOURNAL_LIST_ENTRIES, {"actor": actor(user), "query": query}
        )
        assert reply["problem"] is None, reply
        return reply["result"]

    first = await page(limit=4)
    assert [e["body"] for e in first["items"]] == [
        "Deployed on Friday",
        "entry 4",
        "entry 3",
        "entry 2",
    ]
    second = await page(limit=4, cursor=first["next_cursor"])
    assert [e["body"] for e in second["items"]] == ["entry 1", "entry 0"]
    assert second["next_cursor"] is None

    assert [e["body"] for e in (await page(kind="mistake"))["items"]] == ["Deployed on Friday"]
    both = await page(tags=["a", "B"])
    assert sorted(e["body"] for e in both["items"]) == ["entry 0", "entry 2", "entry 4"]
    assert [e["body"] for e in (await page(q="friday"))["items"]] == ["Deployed on Friday"]

    bad = await call(
        nc,
        RpcSubject.JOURNAL_LIST_ENTRIES,
        {"actor": actor(user), "query": {"cursor": "not-a-cursor"}},
    )
    assert bad["problem"]["status"] == 400


async def test_update_checks_version_and_delete(journal: Journal, nc: Client, unique: str) -> None:
    user = f"u-{unique}"
    entry = await create(nc, user, minutes=30)
    ref = {"actor": actor(user), "entry_id": entry["id"]}

    updated = await call(
        nc,
        RpcSubject.JOURNAL_UPDATE_ENTRY,
        {**ref, "changes": {"title": "Better title", "minutes": None}, "if_match_version": 1},
    )
    assert updated["result"]["version"] == 2
    assert updated["result"]["title"] == "Better title"
    assert updated["result"]["minutes"] is None
    assert updated["result"]["body"] == entry["body"]

    stale = await call(
        nc,
        RpcSubject.JOURNAL_UPDATE_ENTRY,
        {**ref, "changes": {"title": "x"}, "if_match_version": 1},
    )
    assert stale["problem"]["status"] == 412

    deleted = await call(nc, RpcSubject.JOURNAL_DELETE_ENTRY, ref)
    assert deleted["problem"] is None
    gone = await call(nc, RpcSubject.JOURNAL_GET_ENTRY, ref)
    assert gone["problem"]["status"] == 404


async def test_events_carry_metadata_never_the_text(
    journal: Journal, nc: Client, unique: str
) -> None:
    user = f"u-{unique}"
    js = nc.jetstream()
    sub = await js.subscribe(
        EventSubject.JOURNAL_ENTRY_CREATED,
        stream=EVENTS_STREAM,
        ordered_consumer=True,
        deliver_policy="new",
    )
    entry = await create(nc, user, title="Secret title", body="A very private body", nudge_id="n1")
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        msg = await sub.next_msg(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
        event = parse_event(msg.data)
        if event.data.entry_id == entry["id"]:
            break
    assert isinstance(event, JournalEntryCreated)
    assert event.subject == user
    assert event.data.nudge_id == "n1"
    assert b"private" not in msg.data
    assert b"Secret" not in msg.data
    assert msg.headers["Nats-Msg-Id"] == str(event.id)
    await sub.unsubscribe()


async def test_stats_streak_and_minutes(journal: Journal, nc: Client, unique: str) -> None:
    from datetime import UTC, datetime, timedelta

    user = f"u-{unique}"
    today = datetime.now(UTC).date()
    for days_ago, minutes in [(0, 20), (1, 25), (2, 10), (5, 30)]:
        day = today - timedelta(days=days_ago)
        await create(nc, user, occurred_on=day.isoformat(), minutes=minutes)
    reply = await call(nc, RpcSubject.JOURNAL_STATS, {"actor": actor(user)})
    stats = reply["result"]
    assert stats["current_streak_days"] == 3
    assert stats["longest_streak_days"] == 3
    assert stats["total_entries"] == 4
    monday = today - timedelta(days=today.weekday())
    expected = sum(
        m for d, m in [(0, 20), (1, 25), (2, 10), (5, 30)] if today - timedelta(days=d) >= monday
    )
    assert stats["minutes_this_week"] == expected
