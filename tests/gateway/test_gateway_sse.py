"""The live notification stream, served by real HTTP servers over real NATS: a delivered
nudge reaches every stream its person holds, on every gateway replica, and nobody else's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import nats
import pytest
import uvicorn
from fastapi import FastAPI
from flowlearn_cli import servers
from flowlearn_gateway.entrypoints.http import create_app
from flowlearn_gateway.settings import GatewaySettings
from flowlearn_shared.events import NudgeDelivered, NudgeDeliveredData, serialize_event
from flowlearn_shared.subjects import EventSubject, RpcSubject
from nats.aio.client import Client

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
STREAM = "/v1/notifications/stream"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app behind a real uvicorn server on a free port (streaming needs real HTTP)."""
    port = servers.free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.025)
    assert server.started, "the gateway did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def gateway_settings(settings: GatewaySettings) -> GatewaySettings:
    return settings.model_copy(update={"notifications_heartbeat_seconds": 0.3})


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


class EventReader:
    """Reads one open event stream line by line into events (comments are counted)."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()
        self.comments = 0

    async def next_event(self, within: float = 10.0) -> dict[str, str]:
        async def read() -> dict[str, str]:
            fields: dict[str, str] = {}
            async for line in self.lines:
                if line == "":
                    if fields:
                        return fields
                    continue
                if line.startswith(":"):
                    self.comments += 1
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            raise AssertionError("the stream ended")

        return await asyncio.wait_for(read(), within)

    async def next_nudge(self, within: float = 10.0) -> dict[str, str]:
        while True:
            event = await self.next_event(within)
            if event.get("event") == "nudge":
                return event


@asynccontextmanager
async def open_stream(
    base_url: str, headers: dict[str, str] | None = None, params: dict[str, str] | None = None
) -> AsyncIterator[tuple[httpx.Response, EventReader]]:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=10) as client,
        client.stream("GET", STREAM, headers=headers, params=params) as response,
    ):
        reader = EventReader(response)
        if response.status_code == 200:
            await reader.next_event()  # the opening "retry" line: the stream is registered
        yield response, reader


def delivered(user: str, nudge_id: str, message: str = "What have you learned today?") -> bytes:
    event = NudgeDelivered(
        source="tests",
        subject=user,
        data=NudgeDeliveredData(
            nudge_id=nudge_id,
            user_id=user,
            nudge_type="reflect",
            message=message,
            channels=["in_app"],
            delivered_at=datetime(2026, 6, 10, 16, 30, tzinfo=UTC),
            context={"question_id": "q1"},
        ),
    )
    return serialize_event(event)


async def test_each_replica_sends_a_persons_nudges_to_their_streams_only(
    gateway_settings: GatewaySettings, nc: Client, auth: Auth, unique: str
) -> None:
    ana, bob = f"ana-{unique}", f"bob-{unique}"
    first, second = create_app(gateway_settings), create_app(gateway_settings)
    async with (
        serving(first) as url_a,
        serving(second) as url_b,
        open_stream(url_a, auth(ana)) as (response, ana_on_a),
        open_stream(url_b, auth(ana)) as (_, ana_on_b),
        open_stream(url_a, auth(bob)) as (_, bob_on_a),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"

        await nc.publish(EventSubject.NUDGE_DELIVERED, delivered(ana, f"n-{unique}"))
        for reader in (ana_on_a, ana_on_b):
            event = await reader.next_nudge()
            assert event["id"] == f"n-{unique}"
            item = json.loads(event["data"])
            assert item == {
                "id": f"n-{unique}",
                "type": "reflect",
                "message": "What have you learned today?",
                "status": "delivered",
                "delivered_at": "2026-06-10T16:30:00Z",
                "channels": ["in_app"],
                "context": {"question_id": "q1"},
                "redelivery": False,
            }
        # Bob's first nudge is his own: Ana's, published before it, never reached him.
        await nc.publish(EventSubject.NUDGE_DELIVERED, delivered(bob, f"m-{unique}"))
        assert (await bob_on_a.next_nudge())["id"] == f"m-{unique}"
        # Heartbeats keep quiet streams open.
        await asyncio.sleep(0.7)
        await nc.publish(EventSubject.NUDGE_DELIVERED, delivered(ana, f"n2-{unique}"))
        assert (await ana_on_a.next_nudge())["id"] == f"n2-{unique}"
        assert ana_on_a.comments >= 1
        assert first.state.container.notifications.open_count() == 2
        assert second.state.container.notifications.open_count() == 1


async def test_a_closed_stream_is_forgotten_and_streams_per_person_are_bounded(
    gateway_settings: GatewaySettings, auth: Auth, unique: str
) -> None:
    ana = f"ana-{unique}"
    app = create_app(gateway_settings.model_copy(update={"notifications_max_per_user": 2}))
    hub = app.state.container.notifications
    async with serving(app) as url:
        async with open_stream(url, auth(ana)), open_stream(url, auth(ana)):
            assert hub.open_count(ana) == 2
            async with open_stream(url, auth(ana)) as (third, _):
                assert third.status_code == 429
                assert third.headers["content-type"] == "application/problem+json"
                assert "Retry-After" in third.headers
        for _ in range(100):
            if hub.open_count() == 0:
                break
            await asyncio.sleep(0.05)
        assert hub.open_count() == 0
        async with open_stream(url, auth(ana)) as (again, _):
            assert again.status_code == 200


async def test_the_stream_needs_a_token_or_a_ticket(
    gateway_settings: GatewaySettings, nc: Client, auth: Auth, token: Any, unique: str
) -> None:
    ana = f"ana-{unique}"
    async with serving(create_app(gateway_settings)) as url:
        async with open_stream(url) as (response, _):
            assert response.status_code == 401
        # A bearer token is not a ticket, and a ticket is not a bearer token.
        async with open_stream(url, params={"ticket": token(ana)}) as (response, _):
            assert response.status_code == 401
        async with httpx.AsyncClient(base_url=url) as client:
            issued = await client.post("/v1/notifications/tickets", headers=auth(ana))
            assert issued.status_code == 201, issued.text
            ticket = issued.json()["ticket"]
            assert issued.json()["expires_in"] == 60
            journal = await client.get(
                "/v1/journal/entries", headers={"Authorization": f"Bearer {ticket}"}
            )
            assert journal.status_code == 401
        async with open_stream(url, params={"ticket": ticket}) as (response, reader):
            assert response.status_code == 200
            await nc.publish(EventSubject.NUDGE_DELIVERED, delivered(ana, f"t-{unique}"))
            assert (await reader.next_nudge())["id"] == f"t-{unique}"


async def test_reconnecting_with_last_event_id_replays_what_was_missed(
    gateway_settings: GatewaySettings,
    services: FakeServices,
    nc: Client,
    auth: Auth,
    unique: str,
) -> None:
    ana = f"ana-{unique}"

    def item(nudge_id: str, minute: int) -> dict[str, Any]:
        at = f"2026-06-10T16:{minute:02d}:00Z"
        return {
            "id": nudge_id,
            "type": "custom",
            "message": f"message {nudge_id}",
            "status": "delivered",
            "due_at": None,
            "delivered_at": at,
            "channels": ["in_app"],
            "context": {},
            "created_at": at,
        }

    # The inbox, last delivered first: n3 and n2 came after n1, the last one seen.
    page = {"items": [item("n3", 30), item("n2", 20), item("n1", 10)], "next_cursor": None}
    await services.answer(RpcSubject.NUDGES_INBOX, services.ok(page))
    async with serving(create_app(gateway_settings)) as url:
        headers = auth(ana) | {"Last-Event-ID": "n1"}
        async with open_stream(url, headers) as (response, reader):
            assert response.status_code == 200
            assert [(await reader.next_nudge())["id"] for _ in range(2)] == ["n2", "n3"]
            asked = services.last(RpcSubject.NUDGES_INBOX)
            assert asked["actor"]["user_id"] == ana
            await nc.publish(EventSubject.NUDGE_DELIVERED, delivered(ana, "n4"))
            assert (await reader.next_nudge())["id"] == "n4"
