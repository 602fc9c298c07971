"""Which posts are due for review, and the record that a review nudge was sent.

Every write of a post sets ``review_due_on`` to its ``review_by`` (see ``post_document``);
the sweep clears it. The notice key ``<post>:<date>`` makes the nudge once per review date
even when an edit sets the field again for a date already handled.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
REVIEW_DUE_FIELD = "review_due_on"


def notice_key(post_id: str, review_by: str) -> str:
    return f"{post_id}:{review_by}"


class ReviewRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.posts = db["posts"]
        self.notices = db["post_review_notices"]

    async def ensure_indexes(self) -> None:
        await self.posts.create_index(REVIEW_DUE_FIELD, name="review_due", sparse=True)

    async def due(self, today: date, limit: int = 100) -> list[Document]:
        # Dates are ISO strings, so string order is date order; null never matches.
        cursor = self.posts.find(
            {REVIEW_DUE_FIELD: {"$lte": today.isoformat()}},
            {REVIEW_DUE_FIELD: 1, "author_id": 1, "kind": 1, "title": 1, "anonymous": 1},
        ).sort(REVIEW_DUE_FIELD, 1)
        return await cursor.limit(limit).to_list()

    async def claim(self, post: Document, session: AsyncClientSession) -> bool:
        """Clear the post's pending review and record the notice; False when this review
        date was handled already (by another replica, or before an edit)."""
        review_by = post[REVIEW_DUE_FIELD]
        cleared = await self.posts.update_one(
            {"_id": post["_id"], REVIEW_DUE_FIELD: review_by},
            {"$set": {REVIEW_DUE_FIELD: None}},
            session=session,
        )
        if not cleared.modified_count:
            return False
        key = notice_key(post["_id"], review_by)
        if await self.notices.find_one({"_id": key}, session=session) is not None:
            return False
        await self.notices.insert_one(
            {"_id": key, "post_id": post["_id"], "review_by": review_by}, session=session
        )
        return True
