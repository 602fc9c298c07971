"""Each person's time zone and display name, learned from the people directory's profile
events: streaks and default days follow the zone the person chose rather than a token
claim, and a portfolio names who gave kudos."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


class ZoneBook:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.zones = db["people_zones"]

    async def remember(
        self, user_id: str, timezone: str, as_of: datetime, display_name: str | None = None
    ) -> None:
        """Keep the newest: a late, older profile event must not undo a newer one."""
        fields: Document = {"timezone": timezone, "as_of": as_of}
        if display_name is not None:
            fields["display_name"] = display_name
        await self.zones.update_one(
            {"_id": user_id, "as_of": {"$not": {"$gt": as_of}}},
            {"$set": fields},
            upsert=False,
        )
        await self.zones.update_one({"_id": user_id}, {"$setOnInsert": fields}, upsert=True)

    async def zone_of(self, user_id: str) -> str | None:
        doc = await self.zones.find_one({"_id": user_id})
        return str(doc["timezone"]) if doc else None

    async def names_of(self, user_ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        cursor = self.zones.find({"_id": {"$in": wanted}}, {"display_name": 1})
        return {
            doc["_id"]: str(doc["display_name"]) async for doc in cursor if doc.get("display_name")
        }
