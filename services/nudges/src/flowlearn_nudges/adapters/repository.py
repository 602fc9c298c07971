"""MongoDB storage of journal activity and nudge responses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.domain.model import JournalActivity

Document = dict[str, Any]


class ActivityRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.activity = db["journal_activity"]
        self.responses = db["nudge_responses"]

    async def ensure_indexes(self) -> None:
        await self.responses.create_index([("user_id", 1), ("at", -1)], name="user_recent")

    async def record_entry(
        self, user_id: str, occurred_on: date, session: AsyncClientSession
    ) -> None:
        await self.activity.update_one(
            {"_id": user_id},
            {
                "$inc": {"entries_written": 1},
                "$max": {"last_entry_on": occurred_on.isoformat()},
                "$set": {"updated_at": datetime.now(UTC)},
            },
            upsert=True,
            session=session,
        )

    async def record_acted(
        self, user_id: str, nudge_id: str, entry_id: str, session: AsyncClientSession
    ) -> None:
        await self.responses.update_one(
            {"_id": f"{nudge_id}:{user_id}"},
            {
                "$setOnInsert": {
                    "nudge_id": nudge_id,
                    "user_id": user_id,
                    "action": "acted",
                    "entry_id": entry_id,
                    "at": datetime.now(UTC),
                }
            },
            upsert=True,
            session=session,
        )

    async def get(self, user_id: str) -> JournalActivity | None:
        doc = await self.activity.find_one({"_id": user_id})
        if doc is None:
            return None
        last = doc.get("last_entry_on")
        return JournalActivity(
            user_id=user_id,
            entries_written=int(doc.get("entries_written", 0)),
            last_entry_on=date.fromisoformat(last) if last else None,
        )

    async def responses_of(self, user_id: str) -> list[Document]:
        return await self.responses.find({"user_id": user_id}).sort("at", -1).to_list(100)
