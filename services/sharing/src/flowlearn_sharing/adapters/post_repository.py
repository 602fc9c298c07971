"""MongoDB storage of posts, reactions and comments, and the visibility-scoped feed."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flowlearn_shared.contracts.posts import FeedQuery, PostKind
from pymongo import DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from flowlearn_sharing.domain.audience import Audience, Viewer
from flowlearn_sharing.domain.posts import Post

Document = dict[str, Any]
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
# The feed is read window by window (see ``PostRepository.feed``): 6 hours, then 8 times
# wider each time (2 days, 16 days, 128 days, 2.8 years), then one open-ended query.
FIRST_WINDOW = timedelta(hours=6)
WINDOW_GROWTH = 8
WINDOWS = 5
ONE_MS = timedelta(milliseconds=1)  # the resolution of a stored datetime


class BadCursor(ValueError):
    pass


class AlreadyStored(Exception):
    """A post with this id was stored by another transaction at the same time."""


def visible_to(viewer: Viewer) -> Document:
    """The Mongo filter twin of ``Viewer.can_see``: every list and search uses it."""
    return {
        "$or": [
            {"author_id": viewer.user_id},
            {"audience.kind": "org"},
            {"audience.kind": "team", "audience.ids": {"$in": sorted(viewer.team_ids)}},
            {"audience.kind": "community", "audience.ids": {"$in": sorted(viewer.community_ids)}},
            {"audience.kind": "people", "audience.ids": viewer.user_id},
        ]
    }


def seen_through(viewer: Viewer, filters: Document) -> list[Document]:
    """``visible_to`` as one equality filter per way of seeing a post (as its author, the
    org, each of one's teams and communities, named), each narrowed by ``filters``.

    Each is the leading fields of an index ordered newest first, so a store can walk it
    from a cursor on; an ``$or`` of them is planned as a whole by MongoDB but is a
    collection scan to SecantusDB. A way that ``filters`` contradict is left out."""
    ways: list[Document] = [{"author_id": viewer.user_id}, {"audience.kind": "org"}]
    ways += [{"audience.kind": "team", "audience.ids": t} for t in sorted(viewer.team_ids)]
    ways += [
        {"audience.kind": "community", "audience.ids": c} for c in sorted(viewer.community_ids)
    ]
    ways.append({"audience.kind": "people", "audience.ids": viewer.user_id})
    narrowed: list[Document] = []
    for way in ways:
        both = dict(way)
        for key, value in filters.items():
            if key not in both or both[key] == value:
                both[key] = value
            elif key == "audience.ids":  # an array: it may hold both ids
                both[key] = {"$all": [both[key], value]}
            else:
                break
        else:
            narrowed.append(both)
    return narrowed


def encode_cursor(created_at: datetime, item_id: str) -> str:
    raw = json.dumps({"c": created_at.isoformat(), "i": item_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        return datetime.fromisoformat(data["c"]), str(data["i"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("the cursor is not one this API returned") from exc


def _window_start(end: datetime, span: timedelta) -> datetime | None:
    """``end - span`` to the millisecond, or None when that is before year 1."""
    try:
        start = end - span
    except OverflowError:
        return None
    return start.replace(microsecond=start.microsecond // 1000 * 1000)


def after_cursor(cursor: str) -> Document:
    created_at, item_id = decode_cursor(cursor)
    return {
        "$or": [
            {"created_at": {"$lt": created_at}},
            {"created_at": created_at, "_id": {"$lt": item_id}},
        ]
    }


def post_document(post: Post) -> Document:
    return {
        "_id": post.id,
        "kind": post.kind.value,
        "title": post.title,
        "body": post.body,
        "tags": post.tags,
        "url": post.url,
        "audience": {"kind": post.audience.kind, "ids": list(post.audience.ids)},
        "anonymous": post.anonymous,
        "author_id": post.author_id,
        "review_by": post.review_by.isoformat() if post.review_by else None,
        # Every write re-arms the review nudge; the review sweep clears it (once per date).
        "review_due_on": post.review_by.isoformat() if post.review_by else None,
        "reaction_counts": post.reaction_counts,
        "comment_count": post.comment_count,
        "version": post.version,
        "created_at": post.created_at,
        "updated_at": post.updated_at,
        "source_entry_id": post.source_entry_id,
    }


def post_from(doc: Document) -> Post:
    audience = doc["audience"]
    return Post(
        id=doc["_id"],
        kind=PostKind(doc["kind"]),
        title=doc.get("title"),
        body=doc["body"],
        tags=list(doc.get("tags", [])),
        url=doc.get("url"),
        audience=Audience(audience["kind"], tuple(audience.get("ids", []))),
        anonymous=bool(doc.get("anonymous")),
        author_id=doc["author_id"],
        review_by=date.fromisoformat(doc["review_by"]) if doc.get("review_by") else None,
        reaction_counts=dict(doc.get("reaction_counts") or {}),
        comment_count=int(doc.get("comment_count", 0)),
        version=int(doc["version"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        source_entry_id=doc.get("source_entry_id"),
    )


class PostRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.posts = db["posts"]
        self.reactions = db["post_reactions"]
        self.comments = db["comments"]

    async def ensure_indexes(self) -> None:
        await self.posts.create_index(NEWEST_FIRST, name="newest")
        # The feed's org-wide posts, newest first (``audience_newest`` has the ids between).
        await self.posts.create_index([("audience.kind", 1), *NEWEST_FIRST], name="kind_newest")
        await self.posts.create_index(
            [("audience.kind", 1), ("audience.ids", 1), *NEWEST_FIRST], name="audience_newest"
        )
        await self.posts.create_index([("author_id", 1), *NEWEST_FIRST], name="author_newest")
        await self.posts.create_index([("tags", 1), *NEWEST_FIRST], name="tags_newest")
        await self.reactions.create_index([("post_id", 1), ("user_id", 1)], name="post_user")
        await self.comments.create_index([("post_id", 1), ("created_at", 1)], name="post_time")

    async def add(self, post: Post, session: AsyncClientSession) -> bool:
        """False when a post with this id exists already (a redelivered share, a retried
        create). Looked up first: a failed insert aborts the transaction on the server, and
        carrying on in it makes every later step, and the commit, fail and be retried."""
        if await self.posts.count_documents({"_id": post.id}, limit=1, session=session):
            return False
        try:
            await self.posts.insert_one(post_document(post), session=session)
        except DuplicateKeyError as exc:  # stored meanwhile by another transaction
            raise AlreadyStored(post.id) from exc
        return True

    async def get(self, post_id: str, session: AsyncClientSession | None = None) -> Post | None:
        doc = await self.posts.find_one({"_id": post_id}, session=session)
        return post_from(doc) if doc else None

    async def replace_if_version(
        self, post: Post, expected: int, session: AsyncClientSession
    ) -> bool:
        result = await self.posts.replace_one(
            {"_id": post.id, "version": expected}, post_document(post), session=session
        )
        return result.modified_count == 1

    async def delete(self, post_id: str, session: AsyncClientSession) -> None:
        await self.posts.delete_one({"_id": post_id}, session=session)
        await self.reactions.delete_many({"post_id": post_id}, session=session)
        await self.comments.delete_many({"post_id": post_id}, session=session)

    async def feed(self, viewer: Viewer, query: FeedQuery) -> tuple[list[Post], str | None]:
        filters: Document = {}
        if query.tag:
            filters["tags"] = query.tag.strip().lower()
        if query.kind:
            filters["kind"] = query.kind.value
        if query.community:
            filters.update({"audience.kind": "community", "audience.ids": query.community})
        docs = await self._newest(seen_through(viewer, filters), query)
        posts = [post_from(doc) for doc in docs]
        more = len(posts) > query.limit
        posts = posts[: query.limit]
        last = posts[-1] if posts else None
        return posts, encode_cursor(last.created_at, last.id) if more and last else None

    async def _page(self, ways: list[Document], when: Document, limit: int) -> list[Document]:
        """The newest ``limit`` posts matching ``when`` that any of ``ways`` lets one see."""

        async def read(way: Document) -> list[Document]:
            found = self.posts.find({**way, **when}).sort(NEWEST_FIRST).limit(limit)
            return await found.to_list()

        # A post seen two ways (one's own post to the org) is listed once.
        merged = {
            doc["_id"]: doc for docs in await asyncio.gather(*map(read, ways)) for doc in docs
        }
        newest = sorted(merged.values(), key=lambda d: (d["created_at"], d["_id"]), reverse=True)
        return newest[:limit]

    async def _newest(self, ways: list[Document], query: FeedQuery) -> list[Document]:
        """Up to ``limit + 1`` posts after the cursor, newest first.

        Read as a few bounded queries instead of one open-ended one: the posts sharing the
        cursor's instant, then windows of time going back, each ``WINDOW_GROWTH`` times
        wider than the one before, until the page is full. Every query starts at the
        cursor's position in an index, so a deep page costs what the first page costs;
        and each window bounds what a store without limit push-down (SecantusDB fetches
        and sorts every post a range matches) has to read."""
        want = query.limit + 1
        found: list[Document] = []
        end: datetime | None = None  # exclusive
        if query.cursor:
            end, item_id = decode_cursor(query.cursor)
            found += await self._page(ways, {"created_at": end, "_id": {"$lt": item_id}}, want)
        span = FIRST_WINDOW
        top = end or datetime.now(UTC)
        for window in range(WINDOWS + 1):
            if len(found) >= want:
                break
            start = _window_start(top, span) if window < WINDOWS else None
            bounds: Document = {}
            if start is not None:
                # Strict bounds only (SecantusDB drops the boundary of ``$gte`` on a
                # descending key): after one millisecond less is from ``start`` on.
                bounds["$gt"] = start - ONE_MS
            if end is not None:
                bounds["$lt"] = end
            when = {"created_at": bounds} if bounds else {}
            found += await self._page(ways, when, want - len(found))
            if start is None:
                break
            end = top = start
            span *= WINDOW_GROWTH
        return found

    async def set_reaction(
        self, post_id: str, user_id: str, kind: str, on: bool, session: AsyncClientSession
    ) -> None:
        key = {"_id": f"{post_id}:{user_id}:{kind}"}
        if on:
            # Reacting twice is one reaction. Looked up first: inside a transaction a
            # duplicate-key error aborts it, and the commit would then fail and be retried.
            if await self.reactions.count_documents(key, limit=1, session=session):
                return
            await self.reactions.insert_one(
                {**key, "post_id": post_id, "user_id": user_id, "kind": kind},
                session=session,
            )
            change = 1
        else:
            if not (await self.reactions.delete_one(key, session=session)).deleted_count:
                return
            change = -1
        await self.posts.update_one(
            {"_id": post_id}, {"$inc": {f"reaction_counts.{kind}": change}}, session=session
        )

    async def reactions_of(self, user_id: str, post_ids: list[str]) -> dict[str, list[str]]:
        cursor = self.reactions.find({"user_id": user_id, "post_id": {"$in": post_ids}})
        mine: dict[str, list[str]] = {}
        async for doc in cursor:
            mine.setdefault(doc["post_id"], []).append(doc["kind"])
        return mine

    async def add_comment(self, doc: Document, session: AsyncClientSession) -> None:
        await self.comments.insert_one(doc, session=session)
        await self.posts.update_one(
            {"_id": doc["post_id"]}, {"$inc": {"comment_count": 1}}, session=session
        )

    async def comments_of(self, post_id: str, limit: int = 200) -> list[Document]:
        cursor = self.comments.find({"post_id": post_id}).sort("created_at", 1).limit(limit)
        return await cursor.to_list()
