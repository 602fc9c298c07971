"""MongoDB storage of kudos, listed newest first and scoped to what the viewer may see."""

from __future__ import annotations

from typing import Any

from flowlearn_shared.contracts.kudos import KudosQuery, KudosVisibility
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters import keyset
from flowlearn_sharing.domain.audience import Viewer
from flowlearn_sharing.domain.kudos import Kudos

Document = dict[str, Any]
NEWEST = keyset.sort("created_at", descending=True)


def kudos_document(kudos: Kudos) -> Document:
    return {
        "_id": kudos.id,
        "from_id": kudos.from_id,
        "to_id": kudos.to_id,
        "message": kudos.message,
        "strengths": kudos.strengths,
        "visibility": kudos.visibility.value,
        "team_ids": list(kudos.team_ids),
        "created_at": kudos.created_at,
    }


def kudos_from(doc: Document) -> Kudos:
    return Kudos(
        id=doc["_id"],
        from_id=doc["from_id"],
        to_id=doc["to_id"],
        message=doc["message"],
        strengths=list(doc.get("strengths", [])),
        visibility=KudosVisibility(doc["visibility"]),
        team_ids=tuple(doc.get("team_ids", [])),
        created_at=doc["created_at"],
    )


def visible_to(viewer: Viewer) -> Document:
    """The filter twin of ``Kudos.can_see``."""
    return {
        "$or": [
            {"from_id": viewer.user_id},
            {"to_id": viewer.user_id},
            {"visibility": "team", "team_ids": {"$in": sorted(viewer.team_ids)}},
        ]
    }


class KudosRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.kudos = db["kudos"]

    async def ensure_indexes(self) -> None:
        await self.kudos.create_index([("to_id", 1), *NEWEST], name="received_newest")
        await self.kudos.create_index([("from_id", 1), *NEWEST], name="given_newest")

    async def add(self, kudos: Kudos, session: AsyncClientSession) -> None:
        await self.kudos.insert_one(kudos_document(kudos), session=session)

    async def get(self, kudos_id: str) -> Kudos | None:
        doc = await self.kudos.find_one({"_id": kudos_id})
        return kudos_from(doc) if doc else None

    async def page(
        self, viewer: Viewer, query: KudosQuery, owner: str
    ) -> tuple[list[Kudos], str | None]:
        field = "from_id" if query.box == "given" else "to_id"
        conditions: list[Document] = [{field: owner}, visible_to(viewer)]
        if query.cursor:
            conditions.append(keyset.after(query.cursor, "created_at", descending=True))
        cursor = self.kudos.find({"$and": conditions}).sort(NEWEST).limit(query.limit + 1)
        docs, next_cursor = keyset.page(await cursor.to_list(), query.limit, "created_at")
        return [kudos_from(doc) for doc in docs], next_cursor
