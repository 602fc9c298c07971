"""Three Ps experiments over real NATS and a MongoDB-protocol server: who may see and move
them, the stage rules, and one stage-changed event per change."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flowlearn_shared.subjects import EventSubject, RpcSubject
from nats.aio.client import Client
from social_support import (
    FakeClock,
    actor,
    ok,
    sharing_replicas,
    status,
    stream_events,
    wait_for_events,
)

pytestmark = pytest.mark.integration


async def team_of(nc: Client, lead: str, *members: str) -> str:
    team = await ok(
        nc,
        RpcSubject.SHARING_CREATE_TEAM,
        {"actor": actor(lead, "manager"), "team": {"name": "Delivery"}},
    )
    for member in members:
        await ok(
            nc,
            RpcSubject.SHARING_ADD_TEAM_MEMBER,
            {"actor": actor(lead, "manager"), "team_id": team["id"], "member": {"user_id": member}},
        )
    return str(team["id"])


async def test_stages_move_forward_one_step_by_the_owner(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    lead, owner, mate, outsider = (f"{n}-{unique}" for n in ("lead", "own", "mate", "out"))
    async with sharing_replicas(nats_url, mongodb_uri, unique, FakeClock()):
        team_id = await team_of(nc, lead, owner, mate)
        body = {"actor": actor(outsider), "experiment": {"team_id": team_id, "title": "x"}}
        assert await status(nc, RpcSubject.SHARING_CREATE_EXPERIMENT, body) == 403
        created = await ok(
            nc,
            RpcSubject.SHARING_CREATE_EXPERIMENT,
            {
                "actor": actor(owner),
                "experiment": {"team_id": team_id, "title": "Pair on incidents"},
            },
        )
        assert created["stage"] == "pitch"
        ref = {"experiment_id": created["id"]}

        def move(user: str, to: str, learned: str = "something") -> dict[str, Any]:
            return {"actor": actor(user), **ref, "change": {"to": to, "learned": learned}}

        stage = RpcSubject.SHARING_CHANGE_EXPERIMENT_STAGE
        assert await status(nc, stage, move(owner, "pilot")) == 409  # skips prototype
        assert await status(nc, stage, move(owner, "done")) == 409
        assert await status(nc, stage, move(mate, "prototype")) == 403  # not the owner
        assert await status(nc, stage, move(outsider, "prototype")) == 404  # cannot see it
        assert await status(nc, stage, move(owner, "prototype", "")) == 422  # says nothing
        moved = await ok(nc, stage, move(owner, "prototype", "Pairs need a rota"))
        assert moved["stage"] == "prototype"
        assert [h["to_stage"] for h in moved["history"]] == ["pitch", "prototype"]
        assert moved["history"][-1]["learned"] == "Pairs need a rota"
        await ok(nc, stage, move(owner, "pilot", "Two teams tried it"))
        done = await ok(nc, stage, move(owner, "done", "Rolled out"))
        assert done["stage"] == "done"
        assert await status(nc, stage, move(owner, "stopped")) == 409  # finished for good

        def mine(data: Any) -> bool:
            return bool(data.experiment_id == created["id"])

        await wait_for_events(nc, EventSubject.EXPERIMENT_STAGE_CHANGED, mine, count=4)
        await asyncio.sleep(0.5)  # the outbox has published everything there is
        events = await stream_events(nc, EventSubject.EXPERIMENT_STAGE_CHANGED, mine)
        steps = [(e.data.from_stage, e.data.to_stage) for e in events]  # type: ignore[union-attr]
        assert steps == [
            (None, "pitch"),
            ("pitch", "prototype"),
            ("prototype", "pilot"),
            ("pilot", "done"),
        ]
        last = events[-1].data
        assert (last.owner_id, last.team_id, last.learned) == (owner, team_id, "Rolled out")  # type: ignore[union-attr]


async def test_stop_from_any_open_stage_and_team_visibility(
    nats_url: str, mongodb_uri: str, nc: Client, unique: str
) -> None:
    lead, owner, mate, outsider, admin = (
        f"{n}-{unique}" for n in ("lead", "own", "mate", "out", "adm")
    )
    async with sharing_replicas(nats_url, mongodb_uri, unique, FakeClock()):
        team_id = await team_of(nc, lead, owner, mate)
        created = await ok(
            nc,
            RpcSubject.SHARING_CREATE_EXPERIMENT,
            {"actor": actor(owner), "experiment": {"team_id": team_id, "title": "Demo Fridays"}},
        )
        stopped = await ok(
            nc,
            RpcSubject.SHARING_CHANGE_EXPERIMENT_STAGE,
            {
                "actor": actor(owner),
                "experiment_id": created["id"],
                "change": {"to": "stopped", "learned": "Nobody came on Fridays"},
            },
        )
        assert stopped["stage"] == "stopped"

        async def listed(user: str, *roles: str, **query: Any) -> list[str]:
            page = await ok(
                nc,
                RpcSubject.SHARING_LIST_EXPERIMENTS,
                {"actor": actor(user, *roles), "query": query},
            )
            return [e["id"] for e in page["items"]]

        assert created["id"] in await listed(mate, team=team_id)
        assert created["id"] in await listed(lead)
        assert created["id"] in await listed(mate, stage="stopped")
        assert created["id"] not in await listed(mate, stage="pitch")
        assert created["id"] not in await listed(outsider, team=team_id)
        assert created["id"] not in await listed(admin, "admin")
        ref = {"experiment_id": created["id"]}
        assert (
            await status(nc, RpcSubject.SHARING_GET_EXPERIMENT, {"actor": actor(mate), **ref})
            == 200
        )
        assert (
            await status(nc, RpcSubject.SHARING_GET_EXPERIMENT, {"actor": actor(outsider), **ref})
            == 404
        )
