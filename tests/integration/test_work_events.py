"""Work events end to end: a tool's signed CloudEvent goes in at the gateway's hook, is
published as ``flow.work.<source>.<type>.v1``, and a rule on it nudges the participants it
lists, through the nudges service's durable consumer, over real NATS and SecantusDB."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from flowlearn_gateway.domain.hooks import signature
from flowlearn_gateway.entrypoints.http import create_app
from flowlearn_gateway.settings import GatewaySettings
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.domain.nudge import Nudge
from flowlearn_nudges.domain.rules import Rule, Target
from flowlearn_shared.contracts.nudges import NudgeType
from nudges_support import nudges_settings
from pydantic import SecretStr

pytestmark = pytest.mark.integration

SECRET = "ci-and-incidents-secret-0123456789"
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # a Wednesday, inside office hours


@pytest.fixture
async def service(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Nudges]:
    settings = nudges_settings(
        nats_url,
        mongodb_uri,
        unique,
        channels_enabled=False,
        campaigns_enabled=False,
    )
    nudges = bootstrap(settings, clock=lambda: NOW)
    await nudges.start()
    yield nudges
    await nudges.stop()


@pytest.fixture
async def hook(nats_url: str, unique: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(
        env="test",
        nats_url=nats_url,
        jwt_secret="work-events-tests-secret-0123456789",
        hook_secrets={f"incident-{unique}": SecretStr(SECRET)},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def send(client: httpx.AsyncClient, event: dict[str, Any]) -> httpx.Response:
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/cloudevents+json",
        "X-Flowlearn-Timestamp": stamp,
        "X-Flowlearn-Signature": signature(SECRET, stamp, body),
    }
    return await client.post("/v1/hooks/work-events", content=body, headers=headers)


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


async def reflections(service: Nudges, user: str) -> list[Nudge]:
    return [n for n in await service.nudges.pending_of(user) if n.type == NudgeType.REFLECT]


async def test_a_closed_incident_asks_its_participants_to_reflect(
    service: Nudges, hook: httpx.AsyncClient, unique: str
) -> None:
    source = f"incident-{unique}"
    await service.rules.save(
        Rule(
            id=f"test:incident-reflect-{unique}",
            on=f"flow.work.{source}.incident.closed.v1",
            where={"severity": [1, 2]},
            nudge=NudgeType.REFLECT,
            to=Target.PARTICIPANTS,
            after=timedelta(hours=1),
            message="The incident is closed. What did it teach you?",
        )
    )
    ana, bob, cy = f"ana-{unique}", f"bob-{unique}", f"cy-{unique}"

    def incident(event_id: str, severity: int, participants: list[str]) -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": "incident.closed",
            "subject": "INC-7",
            "time": NOW.isoformat(),
            "data": {"incident_id": "INC-7", "severity": severity, "participants": participants},
        }

    # A minor incident does not match the rule; the next one does.
    assert (await send(hook, incident("e-minor", 4, [cy]))).status_code == 202
    closed = incident("e-major", 2, [ana, bob])
    assert (await send(hook, closed)).status_code == 202
    for person in (ana, bob):
        found = await eventually(lambda p=person: reflections(service, p))
        assert len(found) == 1
        nudge = found[0]
        assert nudge.message == "The incident is closed. What did it teach you?"
        assert nudge.due_at == NOW + timedelta(hours=1)
        assert nudge.context == {"incident_id": "INC-7"}
        assert nudge.rule_id == f"test:incident-reflect-{unique}"

    # The tool sends it again: accepted, and nobody is nudged twice.
    resent = await send(hook, closed)
    assert resent.status_code == 202
    assert resent.json()["duplicate"] is True
    marker = incident("e-marker", 1, [f"zed-{unique}"])
    assert (await send(hook, marker)).status_code == 202
    await eventually(lambda: reflections(service, f"zed-{unique}"))
    assert len(await reflections(service, ana)) == 1
    assert await reflections(service, cy) == []
