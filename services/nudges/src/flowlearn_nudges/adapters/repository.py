"""MongoDB storage of journal activity: counts and dates only, never entry text."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.domain.model import JournalActivity

Document = dict[str, Any]


class ActivityRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.activity = db["journal_activity"]

    async def ensure_indexes(self) -> None:
        return None  # looked up by _id only

    async def record_entry(
        self,
        user_id: str,
        occurred_on: date,
        written_at: datetime,
        session: AsyncClientSession,
    ) -> None:
        await self.activity.update_one(
            {"_id": user_id},
            {
                "$inc": {"entries_written": 1},
                "$max": {"last_entry_on": occurred_on.isoformat(), "last_written_at": written_at},
                "$set": {"updated_at": written_at},
            },
            upsert=True,
            session=session,
        )

    async def get(
        self, user_id: str, session: AsyncClientSession | None = None
    ) -> JournalActivity | None:
        doc = await self.activity.find_one({"_id": user_id}, session=session)
        if doc is None:
            return None
        last = doc.get("last_entry_on")
        return JournalActivity(
            user_id=user_id,
            entries_written=int(doc.get("entries_written", 0)),
            last_entry_on=date.fromisoformat(last) if last else None,
            last_written_at=doc.get("last_written_at"),
        )
