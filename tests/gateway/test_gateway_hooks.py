"""Signed work-event hooks over real NATS: a correctly signed CloudEvent lands on
JetStream as ``flow.work.<source>.<type>.v1``; anything unsigned, mis-signed, stale or from
an unknown source is refused, and a resent event is not published twice."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import nats
import pytest
from flowlearn_gateway.domain.hooks import signature
from flowlearn_shared.events import WorkEvent, parse_event
from flowlearn_shared.settings import ServiceSettings
from flowlearn_shared.streams import ensure_streams
from flowlearn_shared.subjects import EVENTS_STREAM
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from pydantic import SecretStr

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import GatewayFactory

pytestmark = pytest.mark.integration

HOOK = "/v1/hooks/work-events"
SECRET = "incident-tool-secret-0123456789"


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    await ensure_streams(client.jetstream(), ServiceSettings(stream_storage="memory"))
    yield client
    await client.drain()


@pytest.fixture
def source(unique: str) -> str:
    return f"incidents-{unique}"


@pytest.fixture
async def hooks(
    make_gateway: GatewayFactory, source: str, nc: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async with make_gateway(hook_secrets={source: SecretStr(SECRET)}) as client:
        yield client


def cloud_event(source: str, event_id: str = "evt-1", **fields: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": "incident.closed",
        "subject": "INC-42",
        "time": "2026-06-10T12:00:00Z",
        "datacontenttype": "application/json",
        "data": {"incident_id": "INC-42", "participants": ["ana", "bob"], "severity": 2},
        **fields,
    }


def signed(
    body: bytes, secret: str = SECRET, at: int | None = None, **overrides: str
) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    return {
        "content-type": "application/cloudevents+json",
        "X-Flowlearn-Timestamp": stamp,
        "X-Flowlearn-Signature": signature(secret, stamp, body),
        **overrides,
    }


async def stored(nc: Client, subject: str) -> tuple[int, WorkEvent] | None:
    try:
        msg = await nc.jetstream().get_last_msg(EVENTS_STREAM, subject)
    except NotFoundError:
        return None
    event = parse_event(msg.data or b"")
    assert isinstance(event, WorkEvent)
    return int(msg.seq or 0), event


async def test_a_signed_event_is_published_once(
    hooks: httpx.AsyncClient, nc: Client, source: str
) -> None:
    body = json.dumps(cloud_event(source)).encode()
    response = await hooks.post(HOOK, content=body, headers=signed(body))
    assert response.status_code == 202, response.text
    accepted = response.json()
    subject = f"flow.work.{source}.incident.closed.v1"
    assert accepted["subject"] == subject
    assert accepted["duplicate"] is False

    found = await stored(nc, subject)
    assert found is not None
    seq, event = found
    assert str(event.id) == accepted["id"]
    assert event.type == subject
    assert event.subject == "INC-42"
    assert event.originid == "evt-1"
    assert event.origintype == "incident.closed"
    assert event.data.model_dump() == {
        "incident_id": "INC-42",
        "participants": ["ana", "bob"],
        "severity": 2,
    }

    # The tool retries (a lost response): accepted again, but not published again.
    again = await hooks.post(HOOK, content=body, headers=signed(body))
    assert again.status_code == 202
    assert again.json() == accepted | {"duplicate": True}
    assert (await stored(nc, subject)) == (seq, event)


async def test_bad_signatures_stale_requests_and_unknown_sources_are_refused(
    hooks: httpx.AsyncClient, nc: Client, source: str
) -> None:
    body = json.dumps(cloud_event(source, "evt-bad")).encode()
    now = int(time.time())
    attempts = {
        "wrong secret": signed(body, secret="not-the-secret"),
        "signature of another body": signed(body + b" "),
        "six minutes old": signed(body, at=now - 360),
        "six minutes ahead": signed(body, at=now + 360),
        "no signature": {"X-Flowlearn-Timestamp": str(now)},
        "no timestamp": {"X-Flowlearn-Signature": signed(body)["X-Flowlearn-Signature"]},
    }
    for name, headers in attempts.items():
        response = await hooks.post(HOOK, content=body, headers=headers)
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json", name
        assert "WWW-Authenticate" in response.headers
    # Signed with this source's secret, but claiming another source.
    other = json.dumps(cloud_event("someone-else", "evt-bad")).encode()
    response = await hooks.post(HOOK, content=other, headers=signed(other))
    assert response.status_code == 401
    assert response.json()["detail"] == "the source is not known"
    # A tampered body: the signature was made for the original.
    tampered = body.replace(b'"ana"', b'"eve"')
    response = await hooks.post(HOOK, content=tampered, headers=signed(body))
    assert response.status_code == 401
    # Nothing of it was published.
    assert await stored(nc, f"flow.work.{source}.incident.closed.v1") is None


async def test_a_signed_request_that_is_not_a_cloud_event_is_422(
    hooks: httpx.AsyncClient, source: str
) -> None:
    event = cloud_event(source)
    del event["specversion"]
    body = json.dumps(event).encode()
    response = await hooks.post(HOOK, content=body, headers=signed(body))
    assert response.status_code == 422
    assert any(e["loc"][-1] == "specversion" for e in response.json()["errors"])

    body = json.dumps(cloud_event(source, type="***")).encode()
    response = await hooks.post(HOOK, content=body, headers=signed(body))
    assert response.status_code == 422
