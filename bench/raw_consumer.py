"""Baselines for the event consumption benchmark: a raw nats-py pull consumer that fetches a
batch, parses every message with ``flowlearn_shared.events.parse_event`` (the same pydantic
models as the service), applies the batch in one MongoDB transaction that skips events
already recorded in ``processed_events`` and records the rest, and only then acknowledges
each message. Two ways to apply a batch:

- ``ServiceReactions``: the nudges service's own reaction to each event
  (``Reactions.on_journal``, wired by ``flowlearn_nudges.bootstrap``), so the work is the
  service's, only the transaction and the consumer around it differ;
- ``BulkWrite``: the minimal effect (journal activity per user, nudge responses) as bulk
  writes, the floor of what consuming these events can cost on this database.

Neither retries or dead-letters: the benchmark sends no event that fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from flowlearn_nudges.bootstrap import bootstrap
from flowlearn_nudges.domain.rules import DEFAULT_RULES
from flowlearn_nudges.settings import NudgesSettings
from flowlearn_shared.events import JournalEntryCreated, parse_event
from flowlearn_shared.subjects import EVENTS_STREAM
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

Document = dict[str, Any]
Effect = Callable[[list[JournalEntryCreated], AsyncClientSession], Awaitable[None]]
SUBJECT = "flow.journal.entry.*.v1"


async def apply_batch(
    client: AsyncMongoClient[Document],
    processed: AsyncCollection[Document],
    prefix: str,
    events: list[Any],
    effect: Effect,
) -> None:
    """One transaction per batch: skip what was applied, apply the rest, record it."""
    created = {f"{prefix}:{e.id}": e for e in events if isinstance(e, JournalEntryCreated)}
    if not created:
        return

    async def in_transaction(session: AsyncClientSession) -> None:
        seen = processed.find({"_id": {"$in": list(created)}}, {"_id": 1}, session=session)
        done = {doc["_id"] async for doc in seen}
        fresh = {key: e for key, e in created.items() if key not in done}
        if fresh:
            await effect(list(fresh.values()), session)
            now = datetime.now(UTC)
            records = [{"_id": key, "processed_at": now} for key in fresh]
            await processed.insert_many(records, session=session)

    async with client.start_session() as session:
        await session.with_transaction(in_transaction)


class ServiceReactions:
    """The nudges service's reaction per event, one transaction per batch."""

    def __init__(self, settings: NudgesSettings) -> None:
        self.service = bootstrap(settings)  # builds clients; connects nothing
        self.prefix = self.service.processed.consumer

    async def prepare(self) -> None:
        """What the service's start does to its database, without starting its broker."""
        s = self.service
        for store in (s.activity, s.nudges, s.people, s.rules, s.outbox, s.processed):
            await store.ensure_indexes()
        await s.rules.seed(DEFAULT_RULES)

    async def effect(self, events: list[JournalEntryCreated], session: AsyncClientSession) -> None:
        for event in events:
            await self.service.reactions.on_journal(event, session)

    async def apply(self, events: list[Any]) -> None:
        s = self.service
        await apply_batch(s.mongo, s.processed.collection, self.prefix, events, self.effect)

    async def close(self) -> None:
        await self.service.mongo.close()


class BulkWrite:
    """The minimal effect in bulk: one activity upsert per user, one per nudge response."""

    def __init__(self, uri: str, database: str, prefix: str) -> None:
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(uri, tz_aware=True)
        self.db = self.client[database]
        self.prefix = prefix

    async def prepare(self) -> None:
        await self.db["nudge_responses"].create_index(
            [("user_id", 1), ("at", -1)], name="user_recent"
        )
        await self.db["processed_events"].create_index(
            "processed_at", name="processed_ttl", expireAfterSeconds=45 * 24 * 3600
        )

    async def effect(self, events: list[JournalEntryCreated], session: AsyncClientSession) -> None:
        now = datetime.now(UTC)
        per_user: dict[str, tuple[int, str]] = {}
        for e in events:
            count, last = per_user.get(e.data.owner_id, (0, ""))
            per_user[e.data.owner_id] = (count + 1, max(last, e.data.occurred_on.isoformat()))
        activity = [
            UpdateOne(
                {"_id": user},
                {
                    "$inc": {"entries_written": count},
                    "$max": {"last_entry_on": last},
                    "$set": {"updated_at": now},
                },
                upsert=True,
            )
            for user, (count, last) in per_user.items()
        ]
        await self.db["journal_activity"].bulk_write(activity, ordered=False, session=session)
        responses = [
            UpdateOne(
                {"_id": f"{e.data.nudge_id}:{e.data.owner_id}"},
                {"$setOnInsert": {"user_id": e.data.owner_id, "action": "acted", "at": now}},
                upsert=True,
            )
            for e in events
            if e.data.nudge_id
        ]
        if responses:
            await self.db["nudge_responses"].bulk_write(responses, ordered=False, session=session)

    async def apply(self, events: list[Any]) -> None:
        processed = self.db["processed_events"]
        await apply_batch(self.client, processed, self.prefix, events, self.effect)

    async def close(self) -> None:
        await self.client.close()


class RawConsumer:
    def __init__(self, nc: Client, durable: str, applier: ServiceReactions | BulkWrite) -> None:
        self.nc = nc
        self.durable = durable
        self.applier = applier
        self.stopping = asyncio.Event()

    async def subscribe(self, batch: int) -> Any:
        await self.applier.prepare()
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=60,
            max_ack_pending=max(1000, 2 * batch),
        )
        return await self.nc.jetstream().pull_subscribe(
            SUBJECT, durable=self.durable, stream=EVENTS_STREAM, config=config
        )

    async def run(self, sub: Any, batch: int) -> None:
        while not self.stopping.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=1)
            except TimeoutError:  # nats-py raises its own subclass or asyncio's: nothing came
                continue
            await self.applier.apply([parse_event(msg.data) for msg in msgs])
            for msg in msgs:
                await msg.ack()


async def stored(uri: str, database: str) -> dict[str, int]:
    """What a consumer left in its database, to check they did the same work."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        db = client[database]
        group = [{"$group": {"_id": None, "n": {"$sum": "$entries_written"}}}]
        totals = await (await db["journal_activity"].aggregate(group)).to_list()
        return {
            "processed": await db["processed_events"].count_documents({}),
            "entries": int(totals[0]["n"]) if totals else 0,
        }
    finally:
        await client.close()
