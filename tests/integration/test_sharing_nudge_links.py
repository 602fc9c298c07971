"""What sharing tells the nudges service, end to end over real NATS and SecantusDB: a post
answering a nudge marks it acted, and community memberships let a curator's campaign reach
a community's members (and no longer those who left)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import NudgeSpec, deliver, new_nudge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import Channel, NudgePreferences, NudgeStatus, NudgeType
from flowlearn_shared.subjects import EventSubject, RpcSubject
from flowlearn_sharing.bootstrap import Sharing
from nats.aio.client import Client
from nudges_support import nudges_settings
from social_support import FakeClock, actor, ok, sharing_replicas, wait_for_events

pytestmark = pytest.mark.integration


@pytest.fixture
async def nudges(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Nudges]:
    settings = nudges_settings(
        nats_url,
        mongodb_uri,
        unique,
        channels_enabled=False,
        campaign_poll_seconds=0.2,
    )
    service = bootstrap(settings)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sharing(
    nats_url: str, mongodb_uri: str, unique: str, clock: FakeClock
) -> AsyncIterator[Sharing]:
    async with sharing_replicas(nats_url, mongodb_uri, unique, clock) as replicas:
        yield replicas[0]


async def eventually(check: Callable[[], Any], within: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_a_post_answering_a_nudge_marks_it_acted(
    nudges: Nudges, sharing: Sharing, nc: Client, unique: str
) -> None:
    ana = f"ana-{unique}"
    now = datetime.now(UTC)
    spec = NudgeSpec(
        id=str(uuid4()),
        user_id=ana,
        type=NudgeType.MISTAKE_MOMENT,
        wanted_at=now,
        origin=Origin.RULE,
    )
    nudge = new_nudge(spec, now, PersonSchedule(), NudgePreferences())
    assert nudge is not None
    await nudges.nudges.add(nudge)
    await nudges.nudges.save(deliver(nudge, now, [Channel.IN_APP], now.date().isoformat()))

    post = {
        "kind": "lesson",
        "body": "Check the migration on a copy first.",
        "audience": "org",
        "nudge_id": nudge.id,
    }
    created = await ok(nc, RpcSubject.SHARING_CREATE_POST, {"actor": actor(ana), "post": post})
    events = await wait_for_events(
        nc, EventSubject.POST_CREATED, lambda data: data.post_id == created["id"], 1
    )
    assert events[0].data.nudge_id == nudge.id  # type: ignore[union-attr]

    async def acted() -> bool:
        found = await nudges.nudges.get(nudge.id)
        return found is not None and found.status == NudgeStatus.ACTED

    await eventually(acted)


async def test_community_members_are_reached_by_a_curators_campaign(
    nudges: Nudges, sharing: Sharing, nc: Client, clock: FakeClock, unique: str
) -> None:
    host, ana, bob = f"host-{unique}", f"ana-{unique}", f"bob-{unique}"
    community = await ok(
        nc,
        RpcSubject.SHARING_CREATE_COMMUNITY,
        {"actor": actor(host), "community": {"name": f"SRE {unique}"}},
    )
    ref = community["id"]
    for person in (ana, bob):
        await ok(
            nc, RpcSubject.SHARING_JOIN_COMMUNITY, {"actor": actor(person), "community_id": ref}
        )
    clock.advance(seconds=1)  # joining and leaving are moments apart, as in real life
    await ok(nc, RpcSubject.SHARING_LEAVE_COMMUNITY, {"actor": actor(bob), "community_id": ref})
    joined = await wait_for_events(
        nc, EventSubject.COMMUNITY_MEMBER_JOINED, lambda data: data.community_id == ref, 3
    )
    assert sorted(e.data.user_id for e in joined) == sorted([host, ana, bob])  # type: ignore[union-attr]
    await wait_for_events(
        nc, EventSubject.COMMUNITY_MEMBER_LEFT, lambda data: data.community_id == ref, 1
    )

    async def known() -> bool:
        return await nudges.campaigns.audiences.community_members(ref) == {host, ana}

    await eventually(known)
    campaign = {
        "message": "Bring one incident story to Friday's session",
        "audience": f"community:{ref}",
    }
    created = await ok(
        nc,
        RpcSubject.NUDGES_CREATE_CAMPAIGN,
        {"actor": actor(f"cur-{unique}", "curator"), "campaign": campaign},
    )

    async def reached() -> list[str]:
        cursor = nudges.nudges.nudges.find({"context.campaign_id": created["id"]}, {"user_id": 1})
        return sorted([doc["user_id"] async for doc in cursor])

    assert await eventually(reached) == sorted([host, ana])
