"""Each person's time zone, learned from the people directory's profile events, so
streaks and default days follow the zone the person chose rather than a token claim."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


class ZoneBook:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.zones = db["people_zones"]

    async def remember(self, user_id: str, timezone: str, as_of: datetime) -> None:
        """Keep the newest: a late, older profile event must not undo a newer one."""
        await self.zones.update_one(
            {"_id": user_id, "as_of": {"$not": {"$gt": as_of}}},
            {"$set": {"timezone": timezone, "as_of": as_of}},
            upsert=False,
        )
        await self.zones.update_one(
            {"_id": user_id},
            {"$setOnInsert": {"timezone": timezone, "as_of": as_of}},
            upsert=True,
        )

    async def zone_of(self, user_id: str) -> str | None:
        doc = await self.zones.find_one({"_id": user_id})
        return str(doc["timezone"]) if doc else None
