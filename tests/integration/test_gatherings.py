"""Gatherings over real NATS and a MongoDB-protocol server: RSVP capacity under concurrent
requests, the waitlist, and ``gathering.ended`` published once across replicas."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flowlearn_shared.contracts.gatherings import GatheringRef
from flowlearn_shared.rpc import Actor
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


def gathering(clock: FakeClock, **fields: Any) -> dict[str, Any]:
    starts = clock.now + timedelta(hours=2)
    return {
        "kind": "lunch_and_learn",
        "title": "Canary deploys",
        "starts_at": starts.isoformat(),
        "duration_minutes": 45,
        "capacity": 5,
        "audience": "org",
        **fields,
    }


async def create(nc: Client, host: str, clock: FakeClock, **fields: Any) -> dict[str, Any]:
    body = {"actor": actor(host), "gathering": gathering(clock, **fields)}
    result: dict[str, Any] = await ok(nc, RpcSubject.SHARING_CREATE_GATHERING, body)
    return result


async def test_concurrent_rsvps_never_overbook(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    clock = FakeClock()
    async with sharing_replicas(nats_url, mongodb_uri, unique, clock, count=2) as replicas:
        host = f"host-{unique}"
        created = await create(nc, host, clock, capacity=5)
        people = [f"p{i}-{unique}" for i in range(20)]

        # Over NATS, shared by two replicas...
        replies = await asyncio.gather(
            *(
                ok(nc, RpcSubject.SHARING_RSVP, {"actor": actor(p), "gathering_id": created["id"]})
                for p in people
            )
        )
        assert sorted(r["status"] for r in replies).count("going") == 5
        waitlisted = [r for r in replies if r["status"] == "waitlisted"]
        assert sorted(r["waitlist_position"] for r in waitlisted) == list(range(1, 16))

        # ...and straight into one replica's use case, all at once.
        second = await create(nc, host, clock, capacity=5, title="Book club")
        service = replicas[0].social.gatherings
        direct = await asyncio.gather(
            *(
                service.rsvp(GatheringRef(actor=Actor(user_id=p), gathering_id=second["id"]))
                for p in people
            )
        )
        assert [r.status.value for r in direct].count("going") == 5

        for gathering_id in (created["id"], second["id"]):
            seen = await ok(
                nc,
                RpcSubject.SHARING_GET_GATHERING,
                {"actor": actor(host), "gathering_id": gathering_id},
            )
            assert (seen["going_count"], seen["waitlist_count"]) == (5, 15)
            roster = await ok(
                nc,
                RpcSubject.SHARING_GATHERING_ATTENDEES,
                {"actor": actor(host), "gathering_id": gathering_id},
            )
            assert len(roster["going"]) == 5
            assert len(roster["waitlisted"]) == 15

        # Asking twice keeps one place.
        again = await ok(
            nc, RpcSubject.SHARING_RSVP, {"actor": actor(people[0]), "gathering_id": created["id"]}
        )
        assert again == replies[0]


async def test_cancel_gives_the_seat_to_the_first_on_the_waitlist(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    clock = FakeClock()
    async with sharing_replicas(nats_url, mongodb_uri, unique, clock):
        created = await create(nc, f"host-{unique}", clock, capacity=2, kind="book_club")
        people = [f"q{i}-{unique}" for i in range(4)]
        for person in people:  # one by one: the order decides the waitlist
            await ok(
                nc, RpcSubject.SHARING_RSVP, {"actor": actor(person), "gathering_id": created["id"]}
            )

        async def mine(person: str) -> dict[str, Any] | None:
            seen = await ok(
                nc,
                RpcSubject.SHARING_GET_GATHERING,
                {"actor": actor(person), "gathering_id": created["id"]},
            )
            return seen["my_rsvp"]  # type: ignore[no-any-return]

        assert await mine(people[2]) == {"status": "waitlisted", "waitlist_position": 1}
        assert await mine(people[3]) == {"status": "waitlisted", "waitlist_position": 2}

        await ok(
            nc,
            RpcSubject.SHARING_CANCEL_RSVP,
            {"actor": actor(people[0]), "gathering_id": created["id"]},
        )
        assert await mine(people[0]) is None
        assert await mine(people[2]) == {"status": "going", "waitlist_position": None}
        assert await mine(people[3]) == {"status": "waitlisted", "waitlist_position": 1}
        # A waitlisted person leaving frees no seat.
        await ok(
            nc,
            RpcSubject.SHARING_CANCEL_RSVP,
            {"actor": actor(people[3]), "gathering_id": created["id"]},
        )
        seen = await ok(
            nc,
            RpcSubject.SHARING_GET_GATHERING,
            {"actor": actor(people[1]), "gathering_id": created["id"]},
        )
        assert (seen["going_count"], seen["waitlist_count"]) == (2, 0)
        not_booked = await call(
            nc,
            RpcSubject.SHARING_CANCEL_RSVP,
            {"actor": actor(people[3]), "gathering_id": created["id"]},
        )
        assert not_booked["problem"]["status"] == 404

        clock.advance(hours=2)  # it has started
        late = {"actor": actor(f"late-{unique}"), "gathering_id": created["id"]}
        assert await status(nc, RpcSubject.SHARING_RSVP, late) == 409


async def test_creation_rules_and_visibility(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    clock = FakeClock()
    async with sharing_replicas(nats_url, mongodb_uri, unique, clock):
        host = f"host-{unique}"
        naive = gathering(clock)
        naive["starts_at"] = (clock.now + timedelta(hours=1)).replace(tzinfo=None).isoformat()
        body = {"actor": actor(host), "gathering": naive}
        assert await status(nc, RpcSubject.SHARING_CREATE_GATHERING, body) == 422
        past = gathering(clock, starts_at=(clock.now - timedelta(minutes=1)).isoformat())
        body = {"actor": actor(host), "gathering": past}
        assert await status(nc, RpcSubject.SHARING_CREATE_GATHERING, body) == 422

        # Written with an offset, kept and returned as the same moment.
        berlin = (clock.now + timedelta(days=1)).astimezone(ZoneInfo("Europe/Berlin"))
        made = await create(nc, host, clock, starts_at=berlin.isoformat())
        assert datetime.fromisoformat(made["starts_at"]) == berlin
        assert made["status"] == "upcoming"

        team = await ok(
            nc,
            RpcSubject.SHARING_CREATE_TEAM,
            {"actor": actor(host, "manager"), "team": {"name": "Book lovers"}},
        )
        private = await create(nc, host, clock, audience=f"team:{team['id']}")
        outsider = {"actor": actor(f"out-{unique}"), "gathering_id": private["id"]}
        assert await status(nc, RpcSubject.SHARING_GET_GATHERING, outsider) == 404
        assert await status(nc, RpcSubject.SHARING_RSVP, outsider) == 404
        page = await ok(
            nc, RpcSubject.SHARING_LIST_GATHERINGS, {"actor": actor(f"out-{unique}"), "query": {}}
        )
        assert private["id"] not in [g["id"] for g in page["items"]]
        assert made["id"] in [g["id"] for g in page["items"]]


async def test_gathering_ended_is_published_once_across_replicas(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    clock = FakeClock()
    async with sharing_replicas(nats_url, mongodb_uri, unique, clock, count=2) as replicas:
        host = f"host-{unique}"
        ids = []
        for n in range(6):
            made = await create(nc, host, clock, capacity=2, title=f"Session {n}")
            ids.append(made["id"])
            for person in ("a", "b", "c"):
                await ok(
                    nc,
                    RpcSubject.SHARING_RSVP,
                    {"actor": actor(f"{person}-{unique}"), "gathering_id": made["id"]},
                )
        await asyncio.sleep(0.3)  # both sweepers pass while nothing has ended
        assert (
            await stream_events(nc, EventSubject.GATHERING_ENDED, lambda d: d.gathering_id in ids)
            == []
        )

        clock.advance(hours=3)  # every one of them is over; both replicas sweep every 50 ms
        # Extra passes, all at once, on top of the periodic ones.
        await asyncio.gather(*(r.social.sweeper.run_once() for r in replicas * 3))
        events = await wait_for_events(
            nc, EventSubject.GATHERING_ENDED, lambda d: d.gathering_id in ids, count=len(ids)
        )
        await asyncio.sleep(0.5)
        events = await stream_events(
            nc, EventSubject.GATHERING_ENDED, lambda d: d.gathering_id in ids
        )
        assert sorted(e.data.gathering_id for e in events) == sorted(ids)  # type: ignore[union-attr]
        for event in events:
            # Those going, not the waitlist.
            assert event.data.attendee_ids == sorted([f"a-{unique}", f"b-{unique}"])  # type: ignore[union-attr]
        outbox = replicas[0].outbox.collection
        assert await outbox.count_documents({"subject": EventSubject.GATHERING_ENDED.value}) == 6
