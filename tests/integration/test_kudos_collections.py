"""Kudos and curated collections over real NATS and a MongoDB-protocol server: who sees a
kudos, the events they send, item order, enrollment events and post items' visibility."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flowlearn_shared.subjects import EventSubject, RpcSubject
from nats.aio.client import Client
from social_support import (
    FakeClock,
    actor,
    call,
    ok,
    sharing_replicas,
    status,
    stream_events,
    wait_for_events,
)

pytestmark = pytest.mark.integration


async def make_team(nc: Client, lead: str, *members: str) -> str:
    team = await ok(
        nc,
        RpcSubject.SHARING_CREATE_TEAM,
        {"actor": actor(lead, "manager"), "team": {"name": "Platform"}},
    )
    for member in members:
        await ok(
            nc,
            RpcSubject.SHARING_ADD_TEAM_MEMBER,
            {"actor": actor(lead, "manager"), "team_id": team["id"], "member": {"user_id": member}},
        )
    return str(team["id"])


async def test_kudos_visibility(nats_url: str, mongodb_uri: str, nc: Client, unique: str) -> None:
    lead, giver, ana, mate, outsider, admin = (
        f"{n}-{unique}" for n in ("lead", "giver", "ana", "mate", "out", "admin")
    )
    clock = FakeClock()
    async with sharing_replicas(nats_url, mongodb_uri, unique, clock):
        await make_team(nc, lead, ana, mate)

        async def give(visibility: str, message: str) -> dict[str, Any]:
            body = {
                "actor": actor(giver),
                "kudos": {
                    "to": ana,
                    "message": message,
                    "strengths": ["Mentoring", "mentoring", "clear writing"],
                    "visibility": visibility,
                },
            }
            result: dict[str, Any] = await ok(nc, RpcSubject.SHARING_GIVE_KUDOS, body)
            return result

        private = await give("private", "Thanks for the patient review")
        clock.advance(minutes=1)
        team = await give("team", "Great incident write-up")
        assert private["strengths"] == ["mentoring", "clear writing"]
        assert private["recipient"]["user_id"] == ana

        self_kudos = {"actor": actor(ana), "kudos": {"to": ana, "message": "me!"}}
        reply = await call(nc, RpcSubject.SHARING_GIVE_KUDOS, self_kudos)
        assert reply["problem"]["status"] == 422
        assert reply["problem"]["errors"][0]["loc"] == ["to"]

        async def received(viewer: str, *roles: str, user: str | None = None) -> list[str]:
            query = {"box": "received", **({"user": user} if user else {})}
            page = await ok(
                nc, RpcSubject.SHARING_LIST_KUDOS, {"actor": actor(viewer, *roles), "query": query}
            )
            return [k["id"] for k in page["items"]]

        assert await received(ana) == [team["id"], private["id"]]  # newest first
        assert await received(mate, user=ana) == [team["id"]]
        assert await received(lead, user=ana) == [team["id"]]
        assert await received(outsider, user=ana) == []
        assert await received(admin, "admin", user=ana) == []
        given = await ok(
            nc, RpcSubject.SHARING_LIST_KUDOS, {"actor": actor(giver), "query": {"box": "given"}}
        )
        assert [k["id"] for k in given["items"]] == [team["id"], private["id"]]

        def get(viewer: str, kudos: dict[str, Any]) -> dict[str, Any]:
            return {"actor": actor(viewer), "kudos_id": kudos["id"]}

        assert await status(nc, RpcSubject.SHARING_GET_KUDOS, get(giver, private)) == 200
        assert await status(nc, RpcSubject.SHARING_GET_KUDOS, get(mate, private)) == 404
        assert await status(nc, RpcSubject.SHARING_GET_KUDOS, get(mate, team)) == 200
        assert await status(nc, RpcSubject.SHARING_GET_KUDOS, get(outsider, team)) == 404

        # The recipient's portfolio gets each kudos, with its message.
        events = await wait_for_events(
            nc, EventSubject.KUDOS_GIVEN, lambda d: d.to_id == ana, count=2
        )
        by_id = {e.data.kudos_id: e.data for e in events}  # type: ignore[union-attr]
        assert by_id[private["id"]].message == "Thanks for the patient review"
        assert by_id[private["id"]].visibility == "private"
        assert by_id[team["id"]].from_id == giver


async def test_collection_items_order_and_visibility(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    curator, lead, reader, member = (f"{n}-{unique}" for n in ("cur", "lead", "rd", "mem"))
    async with sharing_replicas(nats_url, mongodb_uri, unique, FakeClock()):
        team_id = await make_team(nc, lead, curator)
        team_post = await ok(
            nc,
            RpcSubject.SHARING_CREATE_POST,
            {
                "actor": actor(curator),
                "post": {
                    "kind": "tip",
                    "title": "Team secret",
                    "body": "x",
                    "audience": f"team:{team_id}",
                },
            },
        )
        org_post = await ok(
            nc,
            RpcSubject.SHARING_CREATE_POST,
            {
                "actor": actor(lead),
                "post": {"kind": "tip", "title": "Open tip", "body": "y", "audience": "org"},
            },
        )
        items = [
            {"type": "link", "title": "SRE book", "url": "https://sre.google/books/"},
            {"type": "post", "post_id": org_post["id"]},
            {"type": "post", "post_id": team_post["id"], "note": "for the team"},
        ]
        body = {
            "actor": actor(member),
            "collection": {"title": "On-call basics", "audience": "org", "items": items},
        }
        assert await status(nc, RpcSubject.SHARING_CREATE_COLLECTION, body) == 403
        body["actor"] = actor(curator, "curator")
        made = await ok(nc, RpcSubject.SHARING_CREATE_COLLECTION, body)
        assert [i["type"] for i in made["items"]] == ["link", "post", "post"]
        assert made["items"][2]["title"] == "Team secret"  # the curator may see it

        seen = await ok(
            nc,
            RpcSubject.SHARING_GET_COLLECTION,
            {"actor": actor(reader), "collection_id": made["id"]},
        )
        hidden = seen["items"][2]
        assert hidden["available"] is False
        assert hidden["title"] is None
        assert "Team secret" not in str(seen)
        assert seen["items"][1]["title"] == "Open tip"

        unseen_post = {"type": "post", "post_id": "no-such-post"}
        add = {"actor": actor(curator, "curator"), "collection_id": made["id"]}
        reply = await call(
            nc, RpcSubject.SHARING_ADD_COLLECTION_ITEM, {**add, "add": {"item": unseen_post}}
        )
        assert reply["problem"]["status"] == 422
        link = {"type": "link", "title": "Runbooks", "url": "https://example.com/runbooks"}
        added = await ok(
            nc,
            RpcSubject.SHARING_ADD_COLLECTION_ITEM,
            {**add, "add": {"item": link, "position": 0}},
        )
        titles = [i["title"] for i in added["items"]]
        assert titles[:2] == ["Runbooks", "SRE book"]

        ids = [i["id"] for i in added["items"]]
        reordered = await ok(
            nc,
            RpcSubject.SHARING_REORDER_COLLECTION_ITEMS,
            {**add, "order": {"item_ids": list(reversed(ids))}},
        )
        assert [i["id"] for i in reordered["items"]] == list(reversed(ids))
        partial = {**add, "order": {"item_ids": ids[:2]}}
        assert await status(nc, RpcSubject.SHARING_REORDER_COLLECTION_ITEMS, partial) == 422
        removed = await ok(
            nc, RpcSubject.SHARING_REMOVE_COLLECTION_ITEM, {**add, "item_id": ids[0]}
        )
        assert [i["id"] for i in removed["items"]] == list(reversed(ids))[:-1]
        not_mine = {"actor": actor(lead, "curator"), "collection_id": made["id"], "item_id": ids[1]}
        assert await status(nc, RpcSubject.SHARING_REMOVE_COLLECTION_ITEM, not_mine) == 403

        team_only = {
            "actor": actor(curator, "curator"),
            "collection": {"title": "Team reading", "audience": f"team:{team_id}"},
        }
        private = await ok(nc, RpcSubject.SHARING_CREATE_COLLECTION, team_only)
        page = await ok(
            nc, RpcSubject.SHARING_LIST_COLLECTIONS, {"actor": actor(reader), "query": {}}
        )
        assert [c["id"] for c in page["items"]] == [made["id"]]
        ref = {"actor": actor(reader), "collection_id": private["id"]}
        assert await status(nc, RpcSubject.SHARING_GET_COLLECTION, ref) == 404
        enroll = {**ref, "enrollment": {"interval_days": 2}}
        assert await status(nc, RpcSubject.SHARING_ENROLL, enroll) == 404


async def test_enrollment_events(nats_url: str, mongodb_uri: str, nc: Client, unique: str) -> None:
    curator, reader = f"cur-{unique}", f"rd-{unique}"
    async with sharing_replicas(nats_url, mongodb_uri, unique, FakeClock()):
        links = [
            {"type": "link", "title": f"Part {n}", "url": f"https://example.com/{n}"}
            for n in range(3)
        ]
        made = await ok(
            nc,
            RpcSubject.SHARING_CREATE_COLLECTION,
            {
                "actor": actor(curator, "curator"),
                "collection": {"title": "Kubernetes in 3 steps", "audience": "org", "items": links},
            },
        )
        ref = {"actor": actor(reader), "collection_id": made["id"]}
        too_often = {**ref, "enrollment": {"interval_days": 31}}
        assert await status(nc, RpcSubject.SHARING_ENROLL, too_often) == 422
        enrolled = await ok(
            nc, RpcSubject.SHARING_ENROLL, {**ref, "enrollment": {"interval_days": 2}}
        )
        assert enrolled["enrollment"]["interval_days"] == 2
        assert enrolled["enrolled_count"] == 1
        # The same again changes nothing; another interval is a new enrollment event.
        await ok(nc, RpcSubject.SHARING_ENROLL, {**ref, "enrollment": {"interval_days": 2}})
        await ok(nc, RpcSubject.SHARING_ENROLL, {**ref, "enrollment": {"interval_days": 7}})
        left = await call(nc, RpcSubject.SHARING_UNENROLL, ref)
        assert left["problem"] is None
        await ok(nc, RpcSubject.SHARING_UNENROLL, ref)  # leaving twice is leaving once
        after = await ok(nc, RpcSubject.SHARING_GET_COLLECTION, ref)
        assert after["enrollment"] is None
        assert after["enrolled_count"] == 0

        def mine(data: Any) -> bool:
            return bool(data.collection_id == made["id"])

        await wait_for_events(nc, EventSubject.COLLECTION_UNENROLLED, mine, count=1)
        await asyncio.sleep(0.5)
        enrolments = await stream_events(nc, EventSubject.COLLECTION_ENROLLED, mine)
        assert [(e.data.interval_days, e.data.item_count) for e in enrolments] == [(2, 3), (7, 3)]  # type: ignore[union-attr]
        assert enrolments[0].data.user_id == reader  # type: ignore[union-attr]
        assert len(await stream_events(nc, EventSubject.COLLECTION_UNENROLLED, mine)) == 1
