"""One MongoDB transaction around a use case: the change and its events commit together,
and the outbox relay is woken once they have."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_shared.outbox_relay import OutboxRelay

T = TypeVar("T")


class UnitOfWork:
    def __init__(
        self, client: AsyncMongoClient[dict[str, Any]], relay: OutboxRelay | None = None
    ) -> None:
        self.client = client
        self.relay = relay

    async def run(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        async with self.client.start_session() as session:
            result = await session.with_transaction(work)
        if self.relay is not None:
            self.relay.notify()
        return result
