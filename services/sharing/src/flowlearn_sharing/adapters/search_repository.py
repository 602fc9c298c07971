"""Search over posts, questions and collections without a text index (SecantusDB has none
and the same queries run on MongoDB): every word must match, case-insensitively, in one of
the text fields, inside the caller's visibility filter, newest first, with a limit."""

from __future__ import annotations

import re
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters.post_repository import NEWEST_FIRST, visible_to
from flowlearn_sharing.domain.audience import Viewer

Document = dict[str, Any]
MAX_WORDS = 8


def words_of(q: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in q.split()))[:MAX_WORDS]


def words_match(words: list[str], fields: list[str]) -> Document:
    """Each word, escaped (the caller's text is never a pattern), in any of ``fields``."""
    return {
        "$and": [
            {"$or": [{f: {"$regex": re.escape(w), "$options": "i"}} for f in fields]} for w in words
        ]
    }


class SearchRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.posts = db["posts"]
        self.questions = db["questions"]
        self.collections = db["collections"]

    async def _find(
        self,
        collection: AsyncCollection[Document],
        visible: Document,
        words: list[str],
        fields: list[str],
        limit: int,
    ) -> list[Document]:
        # Only the text fields leave the database: never an anonymous post's author.
        projection = {f: 1 for f in fields if f != "tags"} | {"created_at": 1}
        cursor = (
            collection.find({"$and": [visible, words_match(words, fields)]}, projection)
            .sort(NEWEST_FIRST)
            .limit(limit)
        )
        return await cursor.to_list()

    async def posts_matching(self, viewer: Viewer, words: list[str], limit: int) -> list[Document]:
        return await self._find(
            self.posts, visible_to(viewer), words, ["title", "body", "tags"], limit
        )

    async def questions_matching(
        self, viewer: Viewer, words: list[str], limit: int
    ) -> list[Document]:
        return await self._find(
            self.questions, visible_to(viewer), words, ["title", "body", "tags"], limit
        )

    async def collections_matching(
        self, viewer: Viewer, words: list[str], limit: int
    ) -> list[Document]:
        return await self._find(
            # Collections name their curator ``author_id``, like a post's author.
            self.collections,
            visible_to(viewer),
            words,
            ["title", "description", "tags"],
            limit,
        )
