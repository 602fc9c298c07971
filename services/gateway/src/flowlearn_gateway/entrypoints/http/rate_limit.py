"""Rate limiting per user (token subject) and per client IP, in fixed windows.

The counters live in NATS (see ``adapters.rate_counters``), so every gateway replica counts
against the same limit. When the counters cannot be reached the request goes through: a
broken limiter must not take the whole API down with it (fail open, logged).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from flowlearn_gateway.adapters.tokens import TokenVerifier
from flowlearn_gateway.domain.errors import AuthenticationFailed, ServiceUnavailable
from flowlearn_gateway.entrypoints.http.problems import problem_response

log = logging.getLogger("flowlearn.gateway.rate_limit")

# Only the API is limited: probes, the hub's pages and static files, and the API
# documents are cheap and must keep answering.
LIMITED_PREFIX = "/v1/"
# Seconds between two "limiter unavailable" warnings, so an outage does not flood the log.
WARN_EVERY_SECONDS = 30.0


class Counters(Protocol):
    async def incr(self, key: str) -> int: ...


@dataclass(frozen=True)
class Limits:
    per_user: int
    per_ip: int
    window_seconds: int
    # How long one check may wait for the counters before the request is let through.
    timeout_seconds: float = 0.5


def _key(kind: str, identity: str, window_start: int) -> str:
    # KV keys allow only a few characters; subjects and IPv6 addresses have others.
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"rl.{kind}.{digest}.{window_start}"


class RateLimitMiddleware:
    """429 with Retry-After once a user or an IP has used up the current window."""

    def __init__(
        self, app: ASGIApp, counters: Counters, tokens: TokenVerifier, limits: Limits
    ) -> None:
        self.app = app
        self.counters = counters
        self.tokens = tokens
        self.limits = limits
        self._last_warning = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        now = time.time()
        window = self.limits.window_seconds
        window_start = int(now // window * window)
        checks: list[tuple[str, str, int]] = []
        client = scope.get("client")
        if client:
            checks.append(("ip", str(client[0]), self.limits.per_ip))
        user = await self._user(scope)
        if user is not None:
            checks.append(("user", user, self.limits.per_user))
        over = await self._over_limit(checks, window_start)
        if over is None:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(window_start + window - now))
        response = problem_response(
            429,
            title="Too many requests",
            detail=f"More than {over} requests in {window} seconds; "
            f"try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)

    async def _user(self, scope: Scope) -> str | None:
        # Only a verified subject is counted: an unverified one would let anyone use up
        # someone else's allowance. Bad tokens are refused later by the route (401).
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            actor = await self.tokens.verify(token.strip())
        except (AuthenticationFailed, ServiceUnavailable):
            return None
        return actor.user_id

    async def _over_limit(
        self, checks: list[tuple[str, str, int]], window_start: int
    ) -> int | None:
        """The limit that is exceeded, if any. Every check counts the request."""
        if not checks:
            return None
        try:
            async with asyncio.timeout(self.limits.timeout_seconds):
                counts = await asyncio.gather(
                    *(self.counters.incr(_key(kind, who, window_start)) for kind, who, _ in checks)
                )
        except Exception as exc:
            self._warn(exc)
            return None
        for (_, _, limit), count in zip(checks, counts, strict=True):
            if count > limit:
                return limit
        return None

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning(
                "rate limiter unavailable, letting requests through: %s",
                type(exc).__name__ or exc,
            )
