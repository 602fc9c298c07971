"""Stale knowledge: a post's review date comes, its owner is asked once to re-verify it,
and a new review date asks again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from flowlearn_shared.subjects import EventSubject, RpcSubject
from nats.aio.client import Client
from social_support import FakeClock, actor, ok, sharing_replicas, stream_events, wait_for_events

pytestmark = pytest.mark.integration


async def test_review_due_once_per_review_date(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    clock = FakeClock()
    owner = f"own-{unique}"
    async with sharing_replicas(nats_url, mongodb_uri, unique, clock, count=2) as replicas:
        review_by = clock.now.date() + timedelta(days=3)
        post = await ok(
            nc,
            RpcSubject.SHARING_CREATE_POST,
            {
                "actor": actor(owner),
                "post": {
                    "kind": "tip",
                    "title": "Rotate the keys",
                    "body": "Every quarter",
                    "audience": "org",
                    "review_by": review_by.isoformat(),
                },
            },
        )

        def mine(data: Any) -> bool:
            return bool(data.post_id == post["id"])

        async def sweep() -> None:
            await asyncio.gather(*(r.social.sweeper.run_once() for r in replicas * 2))

        await sweep()
        await asyncio.sleep(0.3)
        assert await stream_events(nc, EventSubject.POST_REVIEW_DUE, mine) == []

        clock.advance(days=3)  # the review date, UTC
        await sweep()
        [event] = await wait_for_events(nc, EventSubject.POST_REVIEW_DUE, mine, count=1)
        assert event.data.owner_id == owner  # type: ignore[union-attr]
        assert event.data.review_by == review_by  # type: ignore[union-attr]

        # Editing the body keeps the date: no second nudge for it.
        await ok(
            nc,
            RpcSubject.SHARING_UPDATE_POST,
            {"actor": actor(owner), "post_id": post["id"], "changes": {"body": "Every month"}},
        )
        clock.advance(days=1)
        await sweep()
        await asyncio.sleep(0.5)
        assert len(await stream_events(nc, EventSubject.POST_REVIEW_DUE, mine)) == 1

        # Re-verified with a later date: asked again when that one comes.
        later = clock.now.date() + timedelta(days=30)
        await ok(
            nc,
            RpcSubject.SHARING_UPDATE_POST,
            {
                "actor": actor(owner),
                "post_id": post["id"],
                "changes": {"review_by": later.isoformat()},
            },
        )
        await sweep()
        await asyncio.sleep(0.3)
        assert len(await stream_events(nc, EventSubject.POST_REVIEW_DUE, mine)) == 1
        clock.advance(days=31)
        await sweep()
        events = await wait_for_events(nc, EventSubject.POST_REVIEW_DUE, mine, count=2)
        await asyncio.sleep(0.5)
        events = await stream_events(nc, EventSubject.POST_REVIEW_DUE, mine)
        assert [e.data.review_by for e in events] == [review_by, later]  # type: ignore[union-attr]
