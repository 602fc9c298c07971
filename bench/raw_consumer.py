"""The baseline for the event consumption benchmark: a raw nats-py pull consumer that does
what the nudges service does per event, but a batch at a time.

For each fetched batch: every message is parsed with ``flowlearn_shared.events.parse_event``
(the same pydantic models), then one MongoDB transaction skips events already recorded in
``processed_events``, applies the effect of the rest in bulk (journal activity per user,
nudge responses) and records them as processed; only after the commit is each message
acknowledged. The end state is the one the nudges service leaves: the same collections,
documents, keys and indexes. Unlike the service it has no retries or dead letters: the
benchmark sends no event that fails.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from flowlearn_shared.events import JournalEntryCreated, parse_event
from flowlearn_shared.subjects import EVENTS_STREAM
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

Document = dict[str, Any]
SUBJECT = "flow.journal.entry.*.v1"


class RawConsumer:
    def __init__(
        self, nc: Client, mongo: AsyncMongoClient[Document], database: str, durable: str
    ) -> None:
        self.nc = nc
        self.mongo = mongo
        self.db = mongo[database]
        self.durable = durable
        self.stopping = asyncio.Event()

    async def prepare(self, batch: int) -> Any:
        """The same indexes as the nudges service, then the durable pull consumer."""
        await self.db["nudge_responses"].create_index(
            [("user_id", 1), ("at", -1)], name="user_recent"
        )
        await self.db["processed_events"].create_index(
            "processed_at",
            name="processed_ttl",
            expireAfterSeconds=int(timedelta(days=45).total_seconds()),
        )
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=30,
            max_ack_pending=max(1000, 2 * batch),
        )
        return await self.nc.jetstream().pull_subscribe(
            SUBJECT, durable=self.durable, stream=EVENTS_STREAM, config=config
        )

    async def run(self, sub: Any, batch: int) -> None:
        while not self.stopping.is_set():
            try:
                msgs = await sub.fetch(batch, timeout=1)
            except NatsTimeout:
                continue
            events = [parse_event(msg.data) for msg in msgs]
            await self.apply(events)
            for msg in msgs:
                await msg.ack()

    async def apply(self, events: list[Any]) -> None:
        created = {
            f"{self.durable}:{e.id}": e for e in events if isinstance(e, JournalEntryCreated)
        }
        if not created:
            return

        async def in_transaction(session: AsyncClientSession) -> None:
            seen = self.db["processed_events"].find(
                {"_id": {"$in": list(created)}}, {"_id": 1}, session=session
            )
            done = {doc["_id"] async for doc in seen}
            fresh = [(key, e) for key, e in created.items() if key not in done]
            if not fresh:
                return
            now = datetime.now(UTC)
            await self.db["journal_activity"].bulk_write(
                activity_updates([e for _, e in fresh], now), ordered=False, session=session
            )
            responses = response_upserts([e for _, e in fresh], now)
            if responses:
                await self.db["nudge_responses"].bulk_write(
                    responses, ordered=False, session=session
                )
            await self.db["processed_events"].insert_many(
                [{"_id": key, "processed_at": now} for key, _ in fresh], session=session
            )

        async with self.mongo.start_session() as session:
            await session.with_transaction(in_transaction)


def activity_updates(events: list[JournalEntryCreated], now: datetime) -> list[UpdateOne]:
    """One upsert per user for the whole batch: the count of their entries and the latest day."""
    per_user: dict[str, tuple[int, str]] = {}
    for event in events:
        count, last = per_user.get(event.data.owner_id, (0, ""))
        per_user[event.data.owner_id] = (count + 1, max(last, event.data.occurred_on.isoformat()))
    return [
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


def response_upserts(events: list[JournalEntryCreated], now: datetime) -> list[UpdateOne]:
    return [
        UpdateOne(
            {"_id": f"{e.data.nudge_id}:{e.data.owner_id}"},
            {
                "$setOnInsert": {
                    "nudge_id": e.data.nudge_id,
                    "user_id": e.data.owner_id,
                    "action": "acted",
                    "entry_id": e.data.entry_id,
                    "at": now,
                }
            },
            upsert=True,
        )
        for e in events
        if e.data.nudge_id
    ]
