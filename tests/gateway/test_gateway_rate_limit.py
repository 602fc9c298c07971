"""Rate limits per user and per IP, shared by two gateway replicas through NATS."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from flowlearn_shared.subjects import RpcSubject

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices, GatewayFactory

pytestmark = pytest.mark.integration


def _limited(unique: str, **overrides: Any) -> dict[str, Any]:
    return {
        "rate_limit_enabled": True,
        "rate_limit_bucket": f"rl_{unique}",
        "rate_limit_window_seconds": 3600,  # no window change mid-test
        **overrides,
    }


async def _answer_entries(services: FakeServices) -> None:
    await services.answer(
        RpcSubject.JOURNAL_LIST_ENTRIES,
        services.ok({"items": [], "next_cursor": None}),
    )


async def test_two_replicas_share_one_user_limit(
    make_gateway: GatewayFactory,
    services: FakeServices,
    auth: Callable[..., dict[str, str]],
    unique: str,
) -> None:
    await _answer_entries(services)
    settings = _limited(unique, rate_limit_per_user=4, rate_limit_per_ip=1000)
    async with make_gateway(**settings) as one, make_gateway(**settings) as two:
        alice = auth("alice")
        statuses = []
        for client in (one, two, one, two):
            statuses.append((await client.get("/v1/journal/entries", headers=alice)).status_code)
        assert statuses == [200, 200, 200, 200]

        refused = await two.get("/v1/journal/entries", headers=alice)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 429
        assert refused.json()["title"] == "Too many requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert (await one.get("/v1/journal/entries", headers=alice)).status_code == 429

        # Another user has an allowance of their own.
        assert (await one.get("/v1/journal/entries", headers=auth("bob"))).status_code == 200
        # Probes are never limited.
        assert (await one.get("/healthz")).status_code == 200


async def test_ip_limit_counts_every_user_and_anonymous_callers(
    make_gateway: GatewayFactory,
    services: FakeServices,
    auth: Callable[..., dict[str, str]],
    unique: str,
) -> None:
    await _answer_entries(services)
    settings = _limited(unique, rate_limit_per_user=1000, rate_limit_per_ip=3)
    async with make_gateway(**settings) as one, make_gateway(**settings) as two:
        assert (await one.get("/v1/journal/entries", headers=auth("a"))).status_code == 200
        assert (await two.get("/v1/journal/entries", headers=auth("b"))).status_code == 200
        assert (await one.get("/v1/journal/entries")).status_code == 401
        refused = await two.get("/v1/journal/entries", headers=auth("c"))
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers


async def test_forged_subject_does_not_use_up_the_real_users_allowance(
    make_gateway: GatewayFactory,
    services: FakeServices,
    auth: Callable[..., dict[str, str]],
    token: Callable[..., str],
    unique: str,
) -> None:
    await _answer_entries(services)
    settings = _limited(unique, rate_limit_per_user=2, rate_limit_per_ip=1000)
    forged = {"Authorization": f"Bearer {token('alice', key='wrong-secret-0123456789abcdefghij')}"}
    async with make_gateway(**settings) as client:
        for _ in range(4):
            assert (await client.get("/v1/journal/entries", headers=forged)).status_code == 401
        assert (await client.get("/v1/journal/entries", headers=auth("alice"))).status_code == 200


async def test_unreachable_counters_let_requests_through(
    make_gateway: GatewayFactory,
    services: FakeServices,
    auth: Callable[..., dict[str, str]],
    unique: str,
    caplog: Any,
) -> None:
    """Fail open: a limiter that cannot count must not refuse every request."""
    await _answer_entries(services)

    async def broken(key: str) -> int:
        raise ConnectionError("NATS KV is down")

    def break_counters(app: Any) -> None:
        app.state.container.rate_counters.incr = broken

    settings = _limited(unique, rate_limit_per_user=1, rate_limit_per_ip=1)
    async with make_gateway(configure=break_counters, **settings) as client:
        for _ in range(3):
            response = await client.get("/v1/journal/entries", headers=auth("alice"))
            assert response.status_code == 200
    assert "rate limiter unavailable" in caplog.text


async def test_limits_are_off_in_test_env_by_default(
    make_gateway: GatewayFactory, services: FakeServices, auth: Callable[..., dict[str, str]]
) -> None:
    await _answer_entries(services)
    async with make_gateway(rate_limit_per_user=1, rate_limit_per_ip=1) as client:
        for _ in range(3):
            response: httpx.Response = await client.get(
                "/v1/journal/entries", headers=auth("alice")
            )
            assert response.status_code == 200
