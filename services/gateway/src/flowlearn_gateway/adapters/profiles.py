"""Profiles come into being on a token subject's first request: the gateway asks the sharing
service for the caller's profile once, and the service creates it from the token's claims."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from flowlearn_shared.contracts.people import ActorRequest, ProfilePublic
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.adapters.rpc import RpcClient
from flowlearn_gateway.domain.errors import GatewayError

log = logging.getLogger("flowlearn.gateway.profiles")


class KnownSubjects:
    """A bounded set of recently seen subjects: least recently used out first, and each
    forgotten after ``ttl_seconds`` so a profile erased elsewhere is made again."""

    def __init__(
        self,
        max_size: int = 10_000,
        ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_size = max_size
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, subject: object) -> bool:
        if not isinstance(subject, str):
            return False
        added = self._seen.get(subject)
        if added is None:
            return False
        if self.clock() - added > self.ttl_seconds:
            del self._seen[subject]
            return False
        self._seen.move_to_end(subject)
        return True

    def add(self, subject: str) -> None:
        self._seen[subject] = self.clock()
        self._seen.move_to_end(subject)
        while len(self._seen) > self.max_size:
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)


class ProfileEnsurer:
    """Makes sure the caller has a profile, asking the sharing service at most once per
    subject while it is remembered. Never fails the caller's request: when sharing does
    not answer, the next request tries again."""

    def __init__(
        self, rpc: RpcClient, known: KnownSubjects | None = None, wait_seconds: float = 1.0
    ) -> None:
        self.rpc = rpc
        self.known = known or KnownSubjects()
        self.wait_seconds = wait_seconds
        # One question in flight per subject, however many requests arrive at once.
        self._pending: dict[str, asyncio.Future[None]] = {}

    async def ensure(self, actor: Actor) -> None:
        subject = actor.user_id
        if subject in self.known:
            return
        pending = self._pending.get(subject)
        if pending is not None:
            await asyncio.shield(pending)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[subject] = future
        try:
            await self._ask(actor)
        finally:
            del self._pending[subject]
            future.set_result(None)

    async def _ask(self, actor: Actor) -> None:
        try:
            await self.rpc.request(
                RpcSubject.SHARING_ME,
                ActorRequest(actor=actor),
                ProfilePublic,
                wait_seconds=self.wait_seconds,
            )
        except GatewayError as exc:
            log.warning("profile not ensured; trying again on the next request: %s", exc)
            return
        self.known.add(actor.user_id)
