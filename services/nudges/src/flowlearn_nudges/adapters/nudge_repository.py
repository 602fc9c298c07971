"""MongoDB storage of nudges, their leases and the per-day delivery counts.

Only pending nudges carry ``due_at``, so the scheduler's index holds only work to do.
Indexes are ascending: SecantusDB drops the boundary of a range on a descending key.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from flowlearn_shared.contracts.nudges import Channel, NudgeStatus, NudgeType
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from flowlearn_nudges.domain.catalogue import Origin, Timing
from flowlearn_nudges.domain.delivery import channels_due_at
from flowlearn_nudges.domain.nudge import PENDING, Nudge

Document = dict[str, Any]
Session = AsyncClientSession | None
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
_PENDING = [str(s) for s in PENDING]
_CLAIM_ROUNDS = 3  # after losing a race to another replica, look for other due nudges
# Fields a save writes; the rest (ids, trigger, creation) never change.
_MUTABLE = (
    "status",
    "message",
    "due_at",
    "expires_at",
    "channels",
    "deliveries",
    "counted_on",
    "delivered_at",
    "opened_at",
    "acted_at",
    "dismissed_at",
    "snoozed_until",
    "ended_reason",
    "channels_due_at",
)


class InvalidCursor(ValueError):
    pass


def to_document(nudge: Nudge) -> Document:
    return {
        "_id": nudge.id,
        "user_id": nudge.user_id,
        "type": str(nudge.type),
        "message": nudge.message,
        "status": str(nudge.status),
        "origin": str(nudge.origin),
        "timing": str(nudge.timing),
        "wanted_at": nudge.wanted_at,
        "due_at": nudge.due_at,
        "expires_at": nudge.expires_at,
        "created_at": nudge.created_at,
        "context": nudge.context,
        "rule_id": nudge.rule_id,
        "event_id": nudge.event_id,
        "channels": [str(c) for c in nudge.channels],
        "deliveries": nudge.deliveries,
        "counted_on": nudge.counted_on,
        "delivered_at": nudge.delivered_at,
        "opened_at": nudge.opened_at,
        "acted_at": nudge.acted_at,
        "dismissed_at": nudge.dismissed_at,
        "snoozed_until": nudge.snoozed_until,
        "ended_reason": nudge.ended_reason,
        # Derived: the earliest pending outside-channel delivery, for the channel sender.
        "channels_due_at": channels_due_at(nudge.deliveries, nudge.delivered_at),
    }


def from_document(doc: Document) -> Nudge:
    return Nudge(
        id=doc["_id"],
        user_id=doc["user_id"],
        type=NudgeType(doc["type"]),
        message=doc["message"],
        status=NudgeStatus(doc["status"]),
        origin=Origin(doc["origin"]),
        timing=Timing(doc["timing"]),
        wanted_at=doc["wanted_at"],
        due_at=doc.get("due_at"),
        expires_at=doc.get("expires_at"),
        created_at=doc["created_at"],
        context=dict(doc.get("context") or {}),
        rule_id=doc.get("rule_id"),
        event_id=doc.get("event_id"),
        channels=[Channel(c) for c in doc.get("channels") or []],
        deliveries=dict(doc.get("deliveries") or {}),
        counted_on=doc.get("counted_on"),
        delivered_at=doc.get("delivered_at"),
        opened_at=doc.get("opened_at"),
        acted_at=doc.get("acted_at"),
        dismissed_at=doc.get("dismissed_at"),
        snoozed_until=doc.get("snoozed_until"),
        ended_reason=doc.get("ended_reason"),
    )


def encode_cursor(listed_at: datetime, nudge_id: str) -> str:
    raw = f"{int(listed_at.timestamp() * 1000)}\x1f{nudge_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        millis, nudge_id = raw.split("\x1f", 1)
        return datetime.fromtimestamp(int(millis) / 1000, UTC), nudge_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("not a cursor from this inbox") from exc


class NudgeRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.nudges = db["nudges"]
        self.daily_counts = db["daily_counts"]

    async def ensure_indexes(self) -> None:
        await self.nudges.create_index([("due_at", ASCENDING)], name="due")
        await self.nudges.create_index(
            [("user_id", ASCENDING), ("due_at", ASCENDING)], name="pending_by_person"
        )
        await self.nudges.create_index(
            [("user_id", ASCENDING), ("listed_at", ASCENDING), ("_id", ASCENDING)], name="inbox"
        )
        await self.daily_counts.create_index("expire_at", name="ttl", expireAfterSeconds=0)

    async def add(self, nudge: Nudge, session: Session = None) -> bool:
        """Store a new nudge; False when one with this id exists (a repeated trigger)."""
        doc = to_document(nudge) | {"lease_until": NEVER, "lease_owner": None, "listed_at": None}
        result = await self.nudges.update_one(
            {"_id": nudge.id}, {"$setOnInsert": doc}, upsert=True, session=session
        )
        return result.upserted_id is not None

    async def get(self, nudge_id: str, session: Session = None) -> Nudge | None:
        doc = await self.nudges.find_one({"_id": nudge_id}, session=session)
        return None if doc is None else from_document(doc)

    async def get_leased(self, nudge_id: str, token: str, session: Session = None) -> Nudge | None:
        doc = await self.nudges.find_one({"_id": nudge_id, "lease_owner": token}, session=session)
        return None if doc is None else from_document(doc)

    async def get_many(self, ids: list[str] | set[str]) -> list[Nudge]:
        cursor = self.nudges.find({"_id": {"$in": list(ids)}})
        return [from_document(doc) async for doc in cursor]

    async def get_for(self, user_id: str, nudge_id: str, session: Session = None) -> Nudge | None:
        doc = await self.nudges.find_one({"_id": nudge_id, "user_id": user_id}, session=session)
        return None if doc is None else from_document(doc)

    async def save(
        self,
        nudge: Nudge,
        session: Session = None,
        *,
        expect_status: NudgeStatus | None = None,
        lease_token: str | None = None,
    ) -> bool:
        """Write what changed. With ``lease_token`` only while that lease is held (and
        releases it); with ``expect_status`` only if nobody changed the status meanwhile."""
        query: Document = {"_id": nudge.id}
        if expect_status is not None:
            query["status"] = str(expect_status)
        doc = to_document(nudge)
        changes: Document = {name: doc[name] for name in _MUTABLE}
        if nudge.delivered_at is not None:
            changes["listed_at"] = nudge.delivered_at
        if lease_token is not None:
            query["lease_owner"] = lease_token
            changes |= {"lease_until": NEVER, "lease_owner": None}
        result = await self.nudges.update_one(query, {"$set": changes}, session=session)
        return result.matched_count == 1

    async def pending_of(self, user_id: str, session: Session = None) -> list[Nudge]:
        cursor = self.nudges.find(
            {"user_id": user_id, "due_at": {"$gt": NEVER}, "status": {"$in": _PENDING}},
            session=session,
        ).sort("due_at", ASCENDING)
        return [from_document(doc) async for doc in cursor]

    async def remove_scheduled(
        self,
        user_id: str,
        origins: list[Origin],
        due_after: datetime,
        session: AsyncClientSession,
    ) -> int:
        """Forget scheduled nudges of these origins due after ``due_after``, to plan them
        anew."""
        result = await self.nudges.delete_many(
            {
                "user_id": user_id,
                "due_at": {"$gt": due_after},
                "status": str(NudgeStatus.SCHEDULED),
                "origin": {"$in": [str(o) for o in origins]},
            },
            session=session,
        )
        return result.deleted_count

    async def claim(
        self, now: datetime, lease: timedelta, owner: str, limit: int
    ) -> tuple[str, list[Nudge]]:
        """Lease up to ``limit`` due nudges. Each is taken by one claimer only: the update
        re-checks the lease per document, atomically. Returns the lease token and nudges."""
        due: Document = {
            "due_at": {"$lte": now},
            "lease_until": {"$lt": now},
            "status": {"$in": _PENDING},
        }
        token = f"{owner}:{uuid4().hex}"
        ids: list[str] = []
        taken = 0
        for _ in range(_CLAIM_ROUNDS):
            candidates = self.nudges.find(due, {"_id": 1}).sort("due_at", ASCENDING)
            round_ids = [doc["_id"] async for doc in candidates.limit(limit - taken)]
            if not round_ids:
                break
            leased = await self._lease(
                round_ids, due, {"lease_until": now + lease, "lease_owner": token}
            )
            ids += round_ids
            taken += leased
            if leased == len(round_ids) or taken >= limit:
                break
            # Another replica took some of these first: look again at what is left.
        if not taken:
            return "", []
        cursor = self.nudges.find({"_id": {"$in": ids}, "lease_owner": token})
        claimed = [from_document(doc) async for doc in cursor]
        claimed.sort(key=lambda n: (n.due_at or now, n.id))
        return token, claimed

    async def _lease(self, ids: list[str], due: Document, lease: Document) -> int:
        """Lease those of ``ids`` still due, in a transaction. A replica killed mid-delivery
        leaves its open transaction holding the nudge until the server ends it (60 s on
        MongoDB); a plain write would wait for that, stalling every delivery, while a
        transaction fails at once. Then each is tried alone and the held ones are skipped."""
        try:
            return await self._lease_in_transaction({"_id": {"$in": ids}, **due}, lease)
        except OperationFailure as exc:
            if not exc.has_error_label("TransientTransactionError"):
                raise
        taken = 0
        for one in ids:
            try:
                taken += await self._lease_in_transaction({"_id": one, **due}, lease)
            except OperationFailure as exc:
                if not exc.has_error_label("TransientTransactionError"):
                    raise
        return taken

    async def _lease_in_transaction(self, query: Document, lease: Document) -> int:
        client = self.nudges.database.client
        async with client.start_session() as session, await session.start_transaction():
            result = await self.nudges.update_many(query, {"$set": lease}, session=session)
        return result.modified_count

    async def take_daily_slot(
        self, user_id: str, day: date, cap: int, session: AsyncClientSession
    ) -> bool:
        """Count one delivery on the person's local ``day``; False when the cap is reached.
        Inside the delivery's transaction, so concurrent deliveries conflict and retry."""
        key = f"{user_id}\x1f{day.isoformat()}"
        doc = await self.daily_counts.find_one({"_id": key}, session=session)
        if doc is not None and int(doc["count"]) >= cap:
            return False
        expire_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(days=3)
        await self.daily_counts.update_one(
            {"_id": key},
            {"$inc": {"count": 1}, "$setOnInsert": {"expire_at": expire_at}},
            upsert=True,
            session=session,
        )
        return True

    async def delivered_on(self, user_id: str, day: date) -> int:
        doc = await self.daily_counts.find_one({"_id": f"{user_id}\x1f{day.isoformat()}"})
        return 0 if doc is None else int(doc["count"])

    async def inbox(
        self, user_id: str, status: NudgeStatus | None, cursor: str | None, limit: int
    ) -> tuple[list[Nudge], str | None]:
        """Nudges that reached the person, last delivered first."""
        query: Document = {"user_id": user_id, "listed_at": {"$gt": NEVER}}
        if status is not None:
            query["status"] = str(status)
        if cursor:
            at, last_id = decode_cursor(cursor)
            query["$or"] = [
                {"listed_at": {"$lt": at}},
                {"listed_at": at, "_id": {"$lt": last_id}},
            ]
        found = (
            self.nudges.find(query)
            .sort([("listed_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit + 1)
        )
        docs = [doc async for doc in found]
        more = len(docs) > limit
        docs = docs[:limit]
        next_cursor = encode_cursor(docs[-1]["listed_at"], docs[-1]["_id"]) if more else None
        return [from_document(doc) for doc in docs], next_cursor
