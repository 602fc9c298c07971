"""One MongoDB transaction around a use case: the entry change and its events commit
together, and the outbox relay is woken once they have."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from flowlearn_shared.outbox import Outbox, OutboxRelay
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

T = TypeVar("T")


class UnitOfWork:
    def __init__(
        self, client: AsyncMongoClient[dict[str, Any]], outbox: Outbox, relay: OutboxRelay | None
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.relay = relay

    async def run(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        async with self.client.start_session() as session:
            result = await session.with_transaction(work)
        if self.relay is not None:
            self.relay.notify()
        return result
