"""The gateway's trace headers and its /metrics, over real NATS."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import nats
import pytest
from flowlearn_shared.subjects import RpcSubject
from nats.aio.msg import Msg
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
Entry = Callable[..., dict[str, Any]]
ROUTE = "/v1/journal/entries/{entry_id}"


def requests_counted(text: str, route: str, status: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "flowlearn_http_requests_total" and sample.labels == {
                "method": "GET",
                "route": route,
                "status": status,
            }:
                return sample.value
    return 0.0


async def test_trace_context_reaches_the_service_and_comes_back(
    gateway: httpx.AsyncClient, nats_url: str, auth: Auth, entry: Entry
) -> None:
    nc = await nats.connect(nats_url)
    received: list[Msg] = []

    async def answer(msg: Msg) -> None:
        received.append(msg)
        await msg.respond(json.dumps({"result": entry("e1"), "problem": None}).encode())

    await nc.subscribe(RpcSubject.JOURNAL_GET_ENTRY, cb=answer)
    await nc.flush()
    try:
        trace_id = secrets.token_hex(16)
        caller = f"00-{trace_id}-{secrets.token_hex(8)}-01"
        response = await gateway.get(
            "/v1/journal/entries/e1", headers={**auth("tracy"), "traceparent": caller}
        )
        untraced = await gateway.get("/v1/journal/entries/e1", headers=auth("tracy"))
    finally:
        await nc.drain()

    assert response.status_code == 200
    # The caller's trace continues: same trace id, the gateway's own span.
    assert response.headers["x-trace-id"] == trace_id
    returned = response.headers["traceparent"]
    assert returned.split("-")[1] == trace_id
    assert returned != caller
    # ... and travels with the request to the service.
    sent = (received[0].headers or {}).get("traceparent", "")
    assert sent.split("-")[1] == trace_id
    # Without one, the gateway starts a trace and says which.
    assert untraced.headers["x-trace-id"] not in ("", trace_id)
    assert (received[1].headers or {})["traceparent"].split("-")[1] == untraced.headers[
        "x-trace-id"
    ]


async def test_metrics_count_requests_by_route_template(
    gateway: httpx.AsyncClient, nats_url: str, auth: Auth, entry: Entry
) -> None:
    nc = await nats.connect(nats_url)

    async def answer(msg: Msg) -> None:
        await msg.respond(json.dumps({"result": entry("x"), "problem": None}).encode())

    await nc.subscribe(RpcSubject.JOURNAL_GET_ENTRY, cb=answer)
    await nc.flush()
    try:
        before = (await gateway.get("/metrics")).text
        for entry_id in ("a1", "b2", "c3"):
            assert (await gateway.get(f"/v1/journal/entries/{entry_id}", headers=auth())).is_success
        assert (await gateway.get("/no/such/page")).status_code == 404
        response = await gateway.get("/metrics")
    finally:
        await nc.drain()

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    assert requests_counted(after, ROUTE, "200") == requests_counted(before, ROUTE, "200") + 3
    # Raw paths never become labels.
    assert "/v1/journal/entries/a1" not in after
    assert requests_counted(after, "unmatched", "404") >= 1
    assert "flowlearn_http_request_duration_seconds_bucket" in after
    waited = [
        sample
        for family in text_string_to_metric_families(after)
        for sample in family.samples
        if sample.name == "flowlearn_rpc_client_request_duration_seconds_count"
        and sample.labels == {"subject": RpcSubject.JOURNAL_GET_ENTRY, "outcome": "ok"}
    ]
    assert waited
    assert waited[0].value >= 3
