"""Erasure requests and their progress, per service. A request keeps its id, a hash of the
person's id (to answer only them, after everything else of theirs is gone), their choice
for what they wrote, and when each service confirmed. No other personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.personal_data import ERASING_SERVICES, ContentChoice, user_hash
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
PENDING = "pending"
ERASED = "erased"


def new_request(
    erasure_id: str, user_id: str, posts: ContentChoice, requested_at: datetime
) -> Document:
    return {
        "_id": erasure_id,
        "user_hash": user_hash(user_id),
        "posts": posts.value,
        "requested_at": requested_at,
        "completed_at": None,
        "services": {name: {"status": PENDING, "erased_at": None} for name in ERASING_SERVICES},
    }


class ErasureRequests:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.requests = db["erasure_requests"]

    async def ensure_indexes(self) -> None:
        await self.requests.create_index(
            [("user_hash", ASCENDING), ("completed_at", ASCENDING)], name="person_open"
        )

    async def add(self, request: Document, session: AsyncClientSession) -> None:
        await self.requests.insert_one(request, session=session)

    async def get(self, erasure_id: str) -> Document | None:
        return await self.requests.find_one({"_id": erasure_id})

    async def open_for(self, user_id: str) -> Document | None:
        """The person's erasure still in progress, if any."""
        return await self.requests.find_one({"user_hash": user_hash(user_id), "completed_at": None})

    async def confirm(self, erasure_id: str, service: str, at: datetime) -> bool:
        """Record one service's confirmation (again: no change) and complete the request
        when it was the last. True when the request is complete."""
        field = f"services.{service}"
        await self.requests.update_one(
            {"_id": erasure_id, f"{field}.status": PENDING},
            {"$set": {field: {"status": ERASED, "erased_at": at}}},
        )
        all_erased = {f"services.{name}.status": ERASED for name in ERASING_SERVICES}
        await self.requests.update_one(
            {"_id": erasure_id, "completed_at": None, **all_erased},
            {"$set": {"completed_at": at}},
        )
        doc = await self.requests.find_one({"_id": erasure_id}, {"completed_at": 1})
        return bool(doc and doc.get("completed_at"))
