"""Junk on every subject the services listen to: a 4xx reply or a dead letter, never a
crash, a hang or a stuck consumer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from flowlearn_cli import servers
from flowlearn_gateway.entrypoints.http import create_app
from flowlearn_gateway.settings import GatewaySettings
from flowlearn_journal.bootstrap import Journal
from flowlearn_nudges.bootstrap import Nudges, bootstrap
from flowlearn_nudges.settings import NudgesSettings
from flowlearn_shared.events import JournalEntryCreated, JournalEntryFacts, serialize_event
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    EVENTS_STREAM,
    EventSubject,
    RpcSubject,
    dead_letter_subject,
)
from flowlearn_sharing.bootstrap import Sharing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.client import Client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A NATS server of this module's own: the junk published here stays out of the
    stream every other test reads."""
    port = servers.free_port()
    proc = servers.nats_server(tmp_path_factory.mktemp("junk-nats"), port).start()
    try:
        yield servers.nats_url("127.0.0.1", port)
    finally:
        proc.stop()


SECRET = "malformed-messages-secret-0123456789abcdef"

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
_actorish = st.fixed_dictionaries(
    {"actor": st.one_of(_json, st.fixed_dictionaries({"user_id": _json}))},
    optional={"query": _json, "entry_id": _json, "changes": _json, "id": _json},
)
JUNK = st.one_of(
    st.binary(max_size=200),
    _json.map(lambda value: json.dumps(value).encode()),
    _actorish.map(lambda value: json.dumps(value).encode()),
    st.integers(min_value=10_000, max_value=200_000).map(
        lambda n: b'{"actor": "' + b"x" * n + b'"}'
    ),
    st.sampled_from([b"", b"null", b"[]", b"{}", b'{"actor": {}}', b"\xff\xfe", b"[" * 5000]),
)
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def nudges(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[Nudges]:
    service = bootstrap(
        NudgesSettings(
            nats_url=nats_url,
            mongodb_uri=mongodb_uri,
            database=f"nudges_{unique}",
            journal_consumer=f"nudges-junk-{unique}",
            people_consumer=f"nudges-people-{unique}",
            sharing_consumer=f"nudges-sharing-{unique}",
            scheduler_enabled=False,
            env="test",
            retry_backoff_seconds=[0.1],
            max_deliver=2,
        )
    )
    await service.start()
    yield service
    await service.stop()


def run_in_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Any]) -> Any:
    return asyncio.run_coroutine_threadsafe(make(), loop).result(timeout=30)


async def test_junk_requests_get_a_problem_reply_on_every_rpc_subject(
    journal: Journal, sharing: Sharing, nudges: Nudges, nc: Client
) -> None:
    loop = asyncio.get_running_loop()
    seen: dict[int, int] = {}

    @EXAMPLES
    @given(subject=st.sampled_from(list(RpcSubject)), payload=JUNK)
    def junk_is_refused(subject: RpcSubject, payload: bytes) -> None:
        reply = run_in_loop(loop, lambda: nc.request(subject, payload, timeout=5))
        body = json.loads(reply.data)
        problem = body["problem"]
        assert problem is not None, (subject, payload[:100], body)
        assert 400 <= problem["status"] < 500, (subject, payload[:100], problem)
        seen[problem["status"]] = seen.get(problem["status"], 0) + 1

    await asyncio.to_thread(junk_is_refused)
    # Afterwards every subject still answers (no handler died).
    silent = []
    for subject in RpcSubject:
        try:
            reply = await nc.request(subject, b"[" * 5000, timeout=3)
        except TimeoutError:
            silent.append(subject.value)
            continue
        body = json.loads(reply.data)
        # The prompts take no input and answer anything; every other subject refuses it.
        assert body["problem"] is None or body["problem"]["status"] == 422, subject
    assert not silent, silent
    assert set(seen) <= {400, 422}


async def test_junk_events_go_to_dead_letters_and_the_consumer_goes_on(
    nudges: Nudges, journal: Journal, sharing: Sharing, nc: Client, unique: str
) -> None:
    js = nc.jetstream()
    loop = asyncio.get_running_loop()
    dlq = await js.subscribe(
        dead_letter_subject(nudges.settings.journal_consumer),
        stream=DEAD_LETTER_STREAM,
        ordered_consumer=True,
    )
    sent = 0

    @settings(EXAMPLES, max_examples=25)
    @given(subject=st.sampled_from(list(EventSubject)), payload=JUNK)
    def junk_is_published(subject: EventSubject, payload: bytes) -> None:
        nonlocal sent
        run_in_loop(loop, lambda: js.publish(subject, payload, stream=EVENTS_STREAM))
        sent += 1

    await asyncio.to_thread(junk_is_published)
    # Junk on the subject the nudges consumer reads, certainly.
    await js.publish(EventSubject.JOURNAL_ENTRY_CREATED, b"\x00junk", stream=EVENTS_STREAM)
    user = f"u-{unique}"
    good = JournalEntryCreated(
        source="tests",
        subject=user,
        data=JournalEntryFacts(
            entry_id=str(uuid4()), owner_id=user, kind="reflection", occurred_on=date(2026, 11, 20)
        ),
    )
    await js.publish(good.type, serialize_event(good), stream=EVENTS_STREAM)

    deadline = loop.time() + 20
    while (activity := await nudges.activity.get(user)) is None or activity.entries_written < 1:
        assert loop.time() < deadline, "the good event after the junk was not processed"
        await asyncio.sleep(0.1)
    assert activity.entries_written == 1
    dead = await dlq.next_msg(timeout=10)
    # The junk is kept for an operator (as it came, even empty), with where it came from.
    assert dead.headers is not None
    assert dead.headers["Flowlearn-Original-Subject"].startswith("flow.")
    assert sent >= 1


async def test_malformed_cursor_through_the_gateway_to_the_real_journal_is_400(
    journal: Journal, nats_url: str
) -> None:
    app = create_app(GatewaySettings(env="test", nats_url=nats_url, jwt_secret=SECRET))
    token = jwt.encode({"sub": "cursor-user", "exp": 4102444800}, SECRET, algorithm="HS256")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for cursor in ("%%%", "not-a-cursor", "eyJ4IjogMX0", "A" * 150):
                response = await client.get(
                    "/v1/journal/entries",
                    params={"cursor": cursor},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 400, (cursor, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["status"] == 400
