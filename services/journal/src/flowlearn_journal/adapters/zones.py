"""Each person's time zone and display name, learned from the people directory's profile
events: streaks and default days follow the zone the person chose rather than a token
claim, and a portfolio names who gave kudos."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


# Zones read for new entries are kept this long: a write without a day reads its author's
# zone, and that read was a sixth of the journal's work per write. A profile change handled
# by this process applies at once; one handled by another replica within this time.
CACHE_SECONDS = 30.0
CACHE_SIZE = 10_000


class ZoneBook:
    def __init__(self, db: AsyncDatabase[Document], cache_seconds: float = CACHE_SECONDS) -> None:
        self.zones = db["people_zones"]
        self.cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

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
        self.forget(user_id)

    def forget(self, user_id: str) -> None:
        self._cache.pop(user_id, None)

    async def zone_of(self, user_id: str) -> str | None:
        now = time.monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        doc = await self.zones.find_one({"_id": user_id})
        zone = str(doc["timezone"]) if doc else None
        self._cache[user_id] = (now + self.cache_seconds, zone)
        self._cache.move_to_end(user_id)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return zone

    async def names_of(self, user_ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        cursor = self.zones.find({"_id": {"$in": wanted}}, {"display_name": 1})
        return {
            doc["_id"]: str(doc["display_name"]) async for doc in cursor if doc.get("display_name")
        }
