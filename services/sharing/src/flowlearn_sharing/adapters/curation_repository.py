"""MongoDB storage of curated collections (items kept in order inside the collection) and
of enrollments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.curation import CollectionQuery
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters import keyset
from flowlearn_sharing.adapters.post_repository import visible_to
from flowlearn_sharing.domain.audience import Audience, Viewer
from flowlearn_sharing.domain.curation import Collection, Item

Document = dict[str, Any]
NEWEST = keyset.sort("created_at", descending=True)


def collection_document(collection: Collection) -> Document:
    return {
        "_id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "tags": collection.tags,
        "audience": {"kind": collection.audience.kind, "ids": list(collection.audience.ids)},
        # Named like a post's author so the one visibility filter serves both.
        "author_id": collection.curator_id,
        "items": [
            {
                "id": i.id,
                "type": i.type,
                "title": i.title,
                "url": i.url,
                "note": i.note,
                "post_id": i.post_id,
            }
            for i in collection.items
        ],
        "enrolled_count": collection.enrolled_count,
        "version": collection.version,
        "created_at": collection.created_at,
        "updated_at": collection.updated_at,
    }


def collection_from(doc: Document) -> Collection:
    audience = doc["audience"]
    return Collection(
        id=doc["_id"],
        title=doc["title"],
        description=doc.get("description", ""),
        tags=list(doc.get("tags", [])),
        audience=Audience(audience["kind"], tuple(audience.get("ids", []))),
        curator_id=doc["author_id"],
        items=tuple(Item(**item) for item in doc.get("items", [])),
        enrolled_count=int(doc.get("enrolled_count", 0)),
        version=int(doc["version"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def enrollment_key(collection_id: str, user_id: str) -> str:
    return f"{collection_id}:{user_id}"


class CurationRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collections = db["collections"]
        self.enrollments = db["collection_enrollments"]
        self.posts = db["posts"]

    async def ensure_indexes(self) -> None:
        await self.collections.create_index(NEWEST, name="newest")
        await self.collections.create_index(
            [("audience.kind", 1), ("audience.ids", 1), *NEWEST], name="audience_newest"
        )
        await self.collections.create_index([("tags", 1), *NEWEST], name="tags_newest")
        await self.enrollments.create_index("user_id", name="user")

    async def add(self, collection: Collection, session: AsyncClientSession) -> None:
        await self.collections.insert_one(collection_document(collection), session=session)

    async def get(
        self, collection_id: str, session: AsyncClientSession | None = None
    ) -> Collection | None:
        doc = await self.collections.find_one({"_id": collection_id}, session=session)
        return collection_from(doc) if doc else None

    async def replace_if_version(
        self, collection: Collection, expected: int, session: AsyncClientSession
    ) -> bool:
        # enrolled_count is kept by $inc on enrollment, so it is not overwritten here.
        doc = collection_document(collection)
        doc.pop("enrolled_count")
        doc.pop("_id")
        result = await self.collections.update_one(
            {"_id": collection.id, "version": expected}, {"$set": doc}, session=session
        )
        return result.modified_count == 1

    async def page(
        self, viewer: Viewer, query: CollectionQuery
    ) -> tuple[list[Collection], str | None]:
        conditions: list[Document] = [visible_to(viewer)]
        if query.tag:
            conditions.append({"tags": query.tag.strip().lower()})
        if query.enrolled:
            ids = await self.enrollments.distinct("collection_id", {"user_id": viewer.user_id})
            conditions.append({"_id": {"$in": ids}})
        if query.cursor:
            conditions.append(keyset.after(query.cursor, "created_at", descending=True))
        cursor = self.collections.find({"$and": conditions}).sort(NEWEST).limit(query.limit + 1)
        docs, next_cursor = keyset.page(await cursor.to_list(), query.limit, "created_at")
        return [collection_from(doc) for doc in docs], next_cursor

    async def post_facts(self, post_ids: list[str]) -> dict[str, Document]:
        """What a collection shows of its posts; the caller checks who may see each."""
        if not post_ids:
            return {}
        cursor = self.posts.find(
            {"_id": {"$in": post_ids}}, {"title": 1, "kind": 1, "audience": 1, "author_id": 1}
        )
        return {doc["_id"]: doc async for doc in cursor}

    # Enrollments
    async def enrollment(
        self, collection_id: str, user_id: str, session: AsyncClientSession | None = None
    ) -> Document | None:
        key = enrollment_key(collection_id, user_id)
        return await self.enrollments.find_one({"_id": key}, session=session)

    async def enroll(
        self,
        collection_id: str,
        user_id: str,
        interval_days: int,
        now: datetime,
        session: AsyncClientSession,
    ) -> None:
        await self.enrollments.insert_one(
            {
                "_id": enrollment_key(collection_id, user_id),
                "collection_id": collection_id,
                "user_id": user_id,
                "interval_days": interval_days,
                "enrolled_at": now,
            },
            session=session,
        )
        await self.collections.update_one(
            {"_id": collection_id}, {"$inc": {"enrolled_count": 1}}, session=session
        )

    async def change_interval(
        self, collection_id: str, user_id: str, interval_days: int, session: AsyncClientSession
    ) -> None:
        await self.enrollments.update_one(
            {"_id": enrollment_key(collection_id, user_id)},
            {"$set": {"interval_days": interval_days}},
            session=session,
        )

    async def unenroll(self, collection_id: str, user_id: str, session: AsyncClientSession) -> bool:
        key = enrollment_key(collection_id, user_id)
        result = await self.enrollments.delete_one({"_id": key}, session=session)
        if result.deleted_count:
            await self.collections.update_one(
                {"_id": collection_id}, {"$inc": {"enrolled_count": -1}}, session=session
            )
        return bool(result.deleted_count)
