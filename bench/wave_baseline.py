"""Baseline of the scheduler wave benchmark: the least a delivery loop can do on this
database, in a process of its own (``python -m bench.wave_baseline``).

It finds due nudges a batch at a time (the service's due index, oldest first) and puts
each batch in the inbox with ``update_many`` (50 ids each): status delivered,
``delivered_at`` and ``listed_at`` now, the in-app delivery recorded, off the due index.
No lease, no transaction, no person, hours or daily cap looked at, no event: nothing
that keeps two replicas apart or a person's hours honoured. It polls as the service does.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

PENDING = ["scheduled", "snoozed"]
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


async def main() -> None:
    uri, database = os.environ["BENCH_WAVE_URI"], os.environ["BENCH_WAVE_DB"]
    batch = int(os.environ.get("BENCH_WAVE_BATCH", "500"))
    poll = float(os.environ.get("BENCH_WAVE_POLL", "1.0"))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    nudges = client[database]["nudges"]
    print("ready", flush=True)
    while True:
        now = utc_now()
        # Only pending nudges carry due_at; bounded below, the due index serves it alone.
        due = nudges.find({"due_at": {"$gt": NEVER, "$lte": now}}, {"_id": 1, "status": 1})
        found = [doc async for doc in due.sort("due_at", ASCENDING).limit(batch)]
        ids = [doc["_id"] for doc in found if doc["status"] in PENDING]
        if ids:
            delivered = {
                "status": "delivered",
                "due_at": None,
                "delivered_at": now,
                "listed_at": now,
                "channels": ["in_app"],
                "deliveries": {"in_app": {"status": "delivered", "at": now, "attempts": 1}},
                "counted_on": now.date().isoformat(),
            }
            for i in range(0, len(ids), 50):  # SecantusDB: ``$in`` costs its length squared
                await nudges.update_many({"_id": {"$in": ids[i : i + 50]}}, {"$set": delivered})
        if len(found) < batch:
            await asyncio.sleep(poll)


if __name__ == "__main__":
    asyncio.run(main())
