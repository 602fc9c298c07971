"""Liveness touches nothing; readiness asks every service at once."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from flowlearn_shared.subjects import health_subject

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices

pytestmark = pytest.mark.integration


def healthy(service: str, mongodb: bool = True) -> dict[str, Any]:
    return {"result": {"service": service, "nats": True, "mongodb": mongodb}, "problem": None}


async def test_healthz_needs_nothing(make_gateway: Any) -> None:
    # NATS on a port where nothing listens: liveness still answers at once.
    async with make_gateway(nats_url="nats://127.0.0.1:9", nats_startup_wait_seconds=0.1) as client:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["nats"] is False


async def test_ready_when_every_service_reaches_its_database(
    gateway: httpx.AsyncClient, services: FakeServices
) -> None:
    for name in ("journal", "nudges", "sharing"):
        await services.answer(health_subject(name), healthy(name))
    response = await gateway.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "nats": True,
        "services": {
            name: {"nats": True, "mongodb": True} for name in ("journal", "nudges", "sharing")
        },
    }


async def test_not_ready_is_a_quick_503_problem(
    gateway: httpx.AsyncClient, services: FakeServices
) -> None:
    await services.answer(health_subject("journal"), healthy("journal"))
    await services.answer(health_subject("nudges"), healthy("nudges", mongodb=False))
    await services.answer(health_subject("sharing"), lambda body: None)  # never answers

    started = time.monotonic()
    response = await gateway.get("/readyz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers
    body = response.json()
    assert body["nats"] is True
    assert body["services"]["journal"] == {"nats": True, "mongodb": True}
    assert body["services"]["nudges"] == {"nats": True, "mongodb": False}
    assert body["services"]["sharing"] == {"nats": False, "mongodb": False}
    assert "nudges" in body["detail"]
    # Checked concurrently: one readiness timeout (0.5 s here), not three.
    assert elapsed < 1.2
