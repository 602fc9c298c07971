"""Helpers for the outside-channel tests: an HTTP receiver and an SMTP server on 127.0.0.1
started by the test, nudges services driven by hand with a clock the test moves, and
request/reply calls as the gateway makes them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

from aiosmtpd.controller import Controller
from flowlearn_nudges.bootstrap import Nudges
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import Nudge, NudgeSpec, deliver, new_nudge
from flowlearn_nudges.domain.schedule import PersonSchedule
from flowlearn_shared.contracts.nudges import Channel, NudgePreferences, NudgeType
from flowlearn_shared.subjects import RpcSubject
from nats.aio.client import Client

WEDNESDAY_10_UTC = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = WEDNESDAY_10_UTC) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Behaviour:
    status: int = 200
    delay: float = 0.0
    script: list[int] = field(default_factory=list)  # statuses to answer first, in order
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """An HTTP server in a thread that records every request; each path answers as told."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.behaviour: dict[str, Behaviour] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, time.monotonic())
                    )
                    plan = receiver.behaviour.setdefault(self.path, Behaviour())
                    status = plan.script.pop(0) if plan.script else plan.status
                    delay, headers = plan.delay, dict(plan.headers)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str, **behaviour: Any) -> None:
        with self._lock:
            self.behaviour[path] = Behaviour(**behaviour)

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


class Mailbox:
    """aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def smtp_server(port: int) -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, mailbox


def actor(user: str) -> dict[str, Any]:
    return {"user_id": user, "roles": ["member"], "timezone": "UTC"}


async def ask(nc: Client, subject: str, user: str, **body: Any) -> dict[str, Any]:
    payload = json.dumps({"actor": actor(user), **body}).encode()
    msg = await nc.request(subject, payload, timeout=15)
    reply: dict[str, Any] = json.loads(msg.data)
    return reply


async def put_preferences(nc: Client, user: str, **preferences: Any) -> dict[str, Any]:
    return await ask(
        nc, RpcSubject.NUDGES_UPDATE_PREFERENCES, user, preferences={"daily_cap": 20, **preferences}
    )


async def inbox_item(nc: Client, user: str, nudge_id: str) -> dict[str, Any]:
    reply = await ask(nc, RpcSubject.NUDGES_INBOX, user, query={"limit": 100})
    items = {item["id"]: item for item in reply["result"]["items"]}
    item: dict[str, Any] = items[nudge_id]
    return item


async def delivered_now(
    service: Nudges,
    user: str,
    channels: list[Channel],
    now: datetime,
    nudge_type: NudgeType = NudgeType.REFLECT,
) -> Nudge:
    """A nudge that just reached the inbox, with the outside channels still pending."""
    spec = NudgeSpec(
        id=str(uuid4()), user_id=user, type=nudge_type, wanted_at=now, origin=Origin.RULE
    )
    nudge = new_nudge(spec, now, PersonSchedule(), NudgePreferences())
    assert nudge is not None
    await service.nudges.add(nudge)
    out = deliver(nudge, now, [Channel.IN_APP, *channels], now.date().isoformat())
    assert await service.nudges.save(out)
    return out


async def eventually(check: Callable[[], Any], within: float = 10.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
