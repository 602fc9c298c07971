"""A replica stopping gracefully answers what it took and leaves new requests to the others."""

from __future__ import annotations

import asyncio
import json

import pytest
from faststream.nats import NatsBroker
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.runtime import make_broker, start_broker, stop_gracefully
from flowlearn_shared.settings import ServiceSettings
from nats.aio.client import Client
from pydantic import BaseModel

pytestmark = pytest.mark.integration


class Ask(BaseModel):
    n: int


async def test_stopping_replica_finishes_in_flight_and_drops_nothing(
    nats_url: str, nc: Client, unique: str
) -> None:
    subject = f"flowrpc.tests.slow-{unique}"
    settings = ServiceSettings(nats_url=nats_url, env="test")
    answered_by: dict[int, str] = {}

    def replica(name: str) -> NatsBroker:
        broker = make_broker(settings, f"tests-{name}-{unique}")

        async def slow(ask: Ask) -> dict[str, int]:
            await asyncio.sleep(0.5)  # a database round trip on a slow day
            answered_by[ask.n] = name
            return {"n": ask.n}

        serve(broker, subject, Ask, slow, queue=f"q-{unique}")
        return broker

    stopping, staying = replica("stopping"), replica("staying")
    for broker in (stopping, staying):
        await start_broker(broker)

    async def ask(n: int) -> int:
        msg = await nc.request(subject, json.dumps({"n": n}).encode(), timeout=5)
        reply = json.loads(msg.data)
        assert reply["problem"] is None, reply
        return int(reply["result"]["n"])

    try:
        first = [asyncio.create_task(ask(n)) for n in range(6)]
        await asyncio.sleep(0.2)  # both replicas are busy now
        stop = asyncio.create_task(stop_gracefully(stopping))
        await asyncio.sleep(0.05)
        # Sent while the replica waits for its handlers: none may be lost to it.
        later = [asyncio.create_task(ask(n)) for n in range(6, 16)]
        results = await asyncio.gather(*first, *later)
        await asyncio.wait_for(stop, 10)
    finally:
        await staying.stop()

    assert sorted(results) == list(range(16))
    # The stopping replica finished what it had taken, and took nothing new.
    assert "stopping" in {answered_by[n] for n in range(6)}
    assert {answered_by[n] for n in range(6, 16)} == {"staying"}
