"""MongoDB storage of gatherings and RSVPs.

Seats are taken with one conditional update of the gathering (``going_count`` below the
capacity) inside the RSVP's transaction, and each RSVP has the key ``<gathering>:<user>``.
Every RSVP change writes the gathering document, so concurrent changes to one gathering
conflict and are retried one after another: no over-booking, no seat given twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.gatherings import GatheringKind, GatheringQuery, RsvpStatus
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters import keyset
from flowlearn_sharing.adapters.post_repository import visible_to
from flowlearn_sharing.domain.audience import Audience, Viewer
from flowlearn_sharing.domain.gatherings import Gathering

Document = dict[str, Any]
Session = AsyncClientSession | None


def gathering_document(g: Gathering) -> Document:
    return {
        "_id": g.id,
        "kind": g.kind.value,
        "title": g.title,
        "description": g.description,
        "starts_at": g.starts_at,
        "ends_at": g.ends_at,
        "duration_minutes": g.duration_minutes,
        "capacity": g.capacity,
        "location": g.location,
        "audience": {"kind": g.audience.kind, "ids": list(g.audience.ids)},
        "author_id": g.host_id,  # named like a post's author for the shared visibility filter
        "going_count": 0,
        "waitlist_count": 0,
        "rsvp_seq": 0,
        "ended_published": False,
        "created_at": g.created_at,
    }


def gathering_from(doc: Document) -> Gathering:
    audience = doc["audience"]
    return Gathering(
        id=doc["_id"],
        kind=GatheringKind(doc["kind"]),
        title=doc["title"],
        description=doc.get("description", ""),
        starts_at=doc["starts_at"],
        duration_minutes=int(doc["duration_minutes"]),
        capacity=int(doc["capacity"]),
        location=doc.get("location"),
        audience=Audience(audience["kind"], tuple(audience.get("ids", []))),
        host_id=doc["author_id"],
        going_count=int(doc.get("going_count", 0)),
        waitlist_count=int(doc.get("waitlist_count", 0)),
        created_at=doc["created_at"],
    )


def rsvp_key(gathering_id: str, user_id: str) -> str:
    return f"{gathering_id}:{user_id}"


class GatheringRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.gatherings = db["gatherings"]
        self.rsvps = db["gathering_rsvps"]

    async def ensure_indexes(self) -> None:
        await self.gatherings.create_index([("starts_at", 1), ("_id", 1)], name="starts")
        await self.gatherings.create_index(
            [("ended_published", 1), ("ends_at", 1)], name="ended_unpublished"
        )
        await self.rsvps.create_index(
            [("gathering_id", 1), ("status", 1), ("seq", 1)], name="gathering_queue"
        )

    async def add(self, gathering: Gathering, session: AsyncClientSession) -> None:
        await self.gatherings.insert_one(gathering_document(gathering), session=session)

    async def get(self, gathering_id: str, session: Session = None) -> Gathering | None:
        doc = await self.gatherings.find_one({"_id": gathering_id}, session=session)
        return gathering_from(doc) if doc else None

    async def page(
        self, viewer: Viewer, query: GatheringQuery, now: datetime
    ) -> tuple[list[Gathering], str | None]:
        # Upcoming (not yet ended): soonest first; past: the latest first.
        past = query.when == "past"
        conditions: list[Document] = [
            visible_to(viewer),
            {"ends_at": {"$lte": now}} if past else {"ends_at": {"$gt": now}},
        ]
        if query.kind:
            conditions.append({"kind": query.kind.value})
        if query.cursor:
            conditions.append(keyset.after(query.cursor, "starts_at", descending=past))
        order = keyset.sort("starts_at", descending=past)
        cursor = self.gatherings.find({"$and": conditions}).sort(order).limit(query.limit + 1)
        docs, next_cursor = keyset.page(await cursor.to_list(), query.limit, "starts_at")
        return [gathering_from(doc) for doc in docs], next_cursor

    # RSVPs
    async def rsvp_of(
        self, gathering_id: str, user_id: str, session: Session = None
    ) -> Document | None:
        return await self.rsvps.find_one({"_id": rsvp_key(gathering_id, user_id)}, session=session)

    async def rsvps_of(self, user_id: str, gathering_ids: list[str]) -> dict[str, Document]:
        keys = [rsvp_key(g, user_id) for g in gathering_ids]
        return {doc["gathering_id"]: doc async for doc in self.rsvps.find({"_id": {"$in": keys}})}

    async def take_place(
        self, gathering: Gathering, user_id: str, now: datetime, session: AsyncClientSession
    ) -> Document:
        """A seat if one is free, else the end of the waitlist. Call in a transaction."""
        seat = await self.gatherings.find_one_and_update(
            {"_id": gathering.id, "going_count": {"$lt": gathering.capacity}},
            {"$inc": {"going_count": 1, "rsvp_seq": 1}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if seat is not None:
            status, seq = RsvpStatus.GOING, seat["rsvp_seq"]
        else:
            queued = await self.gatherings.find_one_and_update(
                {"_id": gathering.id},
                {"$inc": {"waitlist_count": 1, "rsvp_seq": 1}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if queued is None:
                raise LookupError("the gathering disappeared")
            status, seq = RsvpStatus.WAITLISTED, queued["rsvp_seq"]
        doc = {
            "_id": rsvp_key(gathering.id, user_id),
            "gathering_id": gathering.id,
            "user_id": user_id,
            "status": status.value,
            "seq": seq,
            "created_at": now,
        }
        await self.rsvps.insert_one(doc, session=session)
        return doc

    async def give_up_place(self, rsvp: Document, session: AsyncClientSession) -> Document | None:
        """Remove an RSVP; a freed seat goes to the first on the waitlist, who is returned."""
        gathering_id = rsvp["gathering_id"]
        await self.rsvps.delete_one({"_id": rsvp["_id"]}, session=session)
        if rsvp["status"] == RsvpStatus.WAITLISTED:
            await self._count(gathering_id, {"waitlist_count": -1}, session)
            return None
        first = await self.rsvps.find_one(
            {"gathering_id": gathering_id, "status": RsvpStatus.WAITLISTED.value},
            sort=[("seq", 1)],
            session=session,
        )
        if first is None:
            await self._count(gathering_id, {"going_count": -1}, session)
            return None
        await self.rsvps.update_one(
            {"_id": first["_id"]}, {"$set": {"status": RsvpStatus.GOING.value}}, session=session
        )
        await self._count(gathering_id, {"waitlist_count": -1}, session)
        return first

    async def _count(
        self, gathering_id: str, change: Document, session: AsyncClientSession
    ) -> None:
        await self.gatherings.update_one({"_id": gathering_id}, {"$inc": change}, session=session)

    async def waitlist_position(self, gathering_id: str, seq: int) -> int:
        ahead = await self.rsvps.count_documents(
            {
                "gathering_id": gathering_id,
                "status": RsvpStatus.WAITLISTED.value,
                "seq": {"$lt": seq},
            }
        )
        return ahead + 1

    async def attendees(
        self, gathering_id: str, status: RsvpStatus, session: Session = None, limit: int = 2000
    ) -> list[str]:
        cursor = self.rsvps.find(
            {"gathering_id": gathering_id, "status": status.value},
            {"user_id": 1},
            sort=[("seq", 1)],
            session=session,
        )
        return [doc["user_id"] for doc in await cursor.limit(limit).to_list()]

    # Ending
    async def ended_unpublished(self, now: datetime, limit: int = 100) -> list[str]:
        cursor = self.gatherings.find(
            {"ended_published": False, "ends_at": {"$lte": now}}, {"_id": 1}
        ).sort("ends_at", 1)
        return [doc["_id"] for doc in await cursor.limit(limit).to_list()]

    async def claim_ended(
        self, gathering_id: str, now: datetime, session: AsyncClientSession
    ) -> Gathering | None:
        """Mark the end as published; None when another replica did it first."""
        doc = await self.gatherings.find_one_and_update(
            {"_id": gathering_id, "ended_published": False},
            {"$set": {"ended_published": True, "ended_published_at": now}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return gathering_from(doc) if doc else None
