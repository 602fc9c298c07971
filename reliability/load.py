"""A paced stream of HTTP writes through the gateway, as clients would send them, with what
each one got back. Every write carries a token of its own, so it can be counted in the
database afterwards whatever the reply was."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from flowlearn_cli.tokens import make_token

# Well above the gateway's request timeout: a reply slower than this is a hang.
CLIENT_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    user: str
    json: dict[str, Any]
    gateway: int = 0  # which of the stream's base URLs it goes to (several gateways)


@dataclass
class Attempt:
    index: int
    token: str
    started: float  # monotonic
    seconds: float
    status: int  # 0: no HTTP reply at all (connection refused or reset)
    gateway: int = 0
    resource_id: str | None = None
    retry_after: str | None = None
    content_type: str = ""
    error: str = ""

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


MakeRequest = Callable[[int, str], Request]  # (index, token) -> request


@dataclass
class WriteStream:
    """``count`` writes, at most ``rate`` per second, ``concurrency`` in flight; to
    ``base_url``, or to ``more_urls[n - 1]`` for a request with ``gateway=n``."""

    count: int
    make_request: MakeRequest
    base_url: str
    run_id: str
    rate: float = 25.0
    concurrency: int = 8
    more_urls: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    _accepted: int = 0
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    def token(self, index: int) -> str:
        return f"{self.run_id}-{index:05d}"

    @property
    def accepted(self) -> list[Attempt]:
        return [a for a in self.attempts if a.accepted]

    async def wait_accepted(self, n: int) -> None:
        """Until ``n`` writes were accepted (or the stream ended)."""
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._accepted >= n or len(self.attempts) >= self.count
            )

    async def run(self) -> list[Attempt]:
        tokens: dict[str, str] = {}
        next_index = 0
        began = time.monotonic()
        clients = [
            httpx.AsyncClient(
                base_url=url,
                timeout=CLIENT_TIMEOUT_SECONDS,
                limits=httpx.Limits(max_connections=self.concurrency),
            )
            for url in (self.base_url, *self.more_urls)
        ]
        async with contextlib.AsyncExitStack() as stack:
            for client in clients:
                await stack.enter_async_context(client)

            async def worker() -> None:
                nonlocal next_index
                while next_index < self.count:
                    index = next_index
                    next_index += 1
                    # Paced: write i leaves no earlier than i / rate seconds after the start.
                    delay = began + index / self.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    request = self.make_request(index, self.token(index))
                    if request.user not in tokens:
                        tokens[request.user] = make_token(request.user)
                    client = clients[request.gateway % len(clients)]
                    attempt = await self._send(client, index, request, tokens[request.user])
                    async with self._progress:
                        self.attempts.append(attempt)
                        self._accepted += attempt.accepted
                        self._progress.notify_all()

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        self.attempts.sort(key=lambda a: a.index)
        return self.attempts

    async def _send(
        self, client: httpx.AsyncClient, index: int, request: Request, token: str
    ) -> Attempt:
        started = time.monotonic()
        attempt = Attempt(index, self.token(index), started, 0.0, 0, request.gateway)
        try:
            response = await client.request(
                request.method,
                request.path,
                json=request.json if request.method != "GET" else None,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            attempt.error = type(exc).__name__
        else:
            attempt.status = response.status_code
            attempt.retry_after = response.headers.get("retry-after")
            attempt.content_type = response.headers.get("content-type", "")
            if attempt.accepted:
                body = response.json()
                attempt.resource_id = str(body.get("id") or body.get("share_id") or "")
        attempt.seconds = time.monotonic() - started
        return attempt


def paced(writes: int, seconds: float = 20.0, most: float = 25.0) -> float:
    """A rate that spreads ``writes`` over at least ``seconds`` (a fault and the restart
    after it take several seconds; writes must go on after it), at most ``most`` per second
    (about half what the gateway and journal take on SecantusDB, so that the consumers
    keep up and a backlog is the fault's doing)."""
    return min(most, writes / seconds)


def journal_entry(users: list[str]) -> MakeRequest:
    """A journal entry by one of ``users`` in turn, its token in the title."""

    def make(index: int, token: str) -> Request:
        return Request(
            "POST",
            "/v1/journal/entries",
            users[index % len(users)],
            {"kind": "learned", "title": token, "body": f"What I learned ({token})"},
        )

    return make


def statuses(attempts: list[Attempt]) -> dict[str, int]:
    """How many got each status; "none" for no HTTP reply at all."""
    counted: dict[str, int] = {}
    for attempt in attempts:
        key = str(attempt.status) if attempt.status else f"none ({attempt.error})"
        counted[key] = counted.get(key, 0) + 1
    return dict(sorted(counted.items()))
