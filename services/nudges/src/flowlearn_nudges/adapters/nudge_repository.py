"""MongoDB storage of nudges, their leases and the per-day delivery counts.

Only pending nudges carry ``due_at``, so the scheduler's index holds only work to do.
Indexes are ascending: SecantusDB drops the boundary of a range on a descending key.

Shaped for SecantusDB's costs, harmless on MongoDB: an index range is read whole whatever
the limit, so the due nudges are looked up by ``due_at`` alone (bounded below, which keeps
the delivered ones, without ``due_at``, out of the scan) and a claim leases from a list of
candidates read once for several batches; and ``$in`` costs grow with the square of the
list, so ids go in chunks.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from flowlearn_shared.contracts.nudges import NudgeStatus
from pymongo import ASCENDING, DESCENDING, UpdateMany, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from flowlearn_nudges.adapters.nudge_documents import (
    NEVER,
    Document,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    from_document,
    save_update,
    to_document,
)
from flowlearn_nudges.domain.catalogue import Origin
from flowlearn_nudges.domain.nudge import PENDING, Nudge

# Where the rest of the service and its tools have always found them.
__all__ = [
    "NEVER",
    "InvalidCursor",
    "NudgeRepository",
    "decode_cursor",
    "encode_cursor",
    "from_document",
    "to_document",
]

Session = AsyncClientSession | None
_PENDING = [str(s) for s in PENDING]
_CLAIM_ROUNDS = 3  # after losing a race to another replica, look for other due nudges
_IN_CHUNK = 50  # ids per ``$in``
_PREFETCH = 20  # candidates read at once, in batches: a wave is scanned for every 20
_PREFETCH_FOR = timedelta(seconds=5)  # then read afresh, for nudges due since


def new_lease_token(owner: str) -> str:
    return f"{owner}:{uuid4().hex}"


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]


def _due(now: datetime) -> Document:
    """Due at ``now`` and leased by nobody (a lease ending exactly now still holds)."""
    return {
        "due_at": {"$gt": NEVER, "$lte": now},
        "lease_until": {"$lt": now},
        "status": {"$in": _PENDING},
    }


def _day_key(user_id: str, day: date) -> str:
    return f"{user_id}\x1f{day.isoformat()}"


def _count_expiry(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(days=3)


class NudgeRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.nudges = db["nudges"]
        self.daily_counts = db["daily_counts"]
        self._candidates: list[str] = []  # due when read, at ``_read_at``; oldest last
        self._read_at = NEVER

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

    async def get_leased_many(
        self, ids: list[str], token: str, session: Session = None
    ) -> list[Nudge]:
        found = []
        for chunk in _chunks(ids):
            query = {"_id": {"$in": chunk}, "lease_owner": token}
            found += [from_document(doc) async for doc in self.nudges.find(query, session=session)]
        return found

    async def get_due_many(
        self, ids: list[str], now: datetime, session: AsyncClientSession | None = None
    ) -> list[Nudge]:
        """Those of ``ids`` due at ``now`` and leased by nobody, as ``session`` sees them."""
        found = []
        for chunk in _chunks(ids):
            query = {"_id": {"$in": chunk}, **_due(now)}
            found += [from_document(doc) async for doc in self.nudges.find(query, session=session)]
        return found

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
        query, update = save_update(nudge, expect_status, lease_token)
        result = await self.nudges.update_one(query, update, session=session)
        return result.matched_count == 1

    async def save_many(
        self,
        changes: list[tuple[Nudge, Nudge]],
        session: AsyncClientSession,
        *,
        lease_token: str | None = None,
        unleased_at: datetime | None = None,
    ) -> int:
        """``save`` of each (as read in ``session``, as it is to be) while ``lease_token``
        holds its lease, or nobody's holds at ``unleased_at``, in one request: only the
        fields that changed, nudges changed alike in one update. Returns how many still
        matched: fewer than given means some lease was lost or taken."""
        held: Document = {"lease_owner": lease_token}
        free: Document = {}
        if lease_token is None:
            assert unleased_at is not None, "a save without a lease needs its moment"
            held = {"lease_until": {"$lt": unleased_at}, "status": {"$in": _PENDING}}
            # An expired lease is cleared too: its late owner must not match it later.
            free = {"lease_until": NEVER, "lease_owner": None}
        alike: dict[str, tuple[Document, list[str]]] = {}
        for before, after in changes:
            _, update = save_update(after, None, lease_token)
            old = to_document(before)
            changed = {k: v for k, v in update["$set"].items() if k not in old or old[k] != v}
            changed |= free
            key = repr(sorted(changed.items()))
            alike.setdefault(key, (changed, []))[1].append(after.id)
        writes = [
            UpdateMany({"_id": {"$in": chunk}, **held}, {"$set": changed})
            for changed, ids in alike.values()
            for chunk in _chunks(ids)
        ]
        if not writes:
            return 0
        result = await self.nudges.bulk_write(writes, session=session)
        return result.matched_count

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
        self, now: datetime, lease: timedelta, owner: str, limit: int, *, token: str = ""
    ) -> tuple[str, list[Nudge]]:
        """Lease up to ``limit`` due nudges. Each is taken by one claimer only: the update
        re-checks the lease per document, atomically. Returns the lease token and nudges.
        A ``token`` chosen beforehand lets a claim cut short be released all the same."""
        due = _due(now)
        token = token or new_lease_token(owner)
        ids: list[str] = []
        taken = 0
        for _ in range(_CLAIM_ROUNDS):
            round_ids = await self.due_candidates(now, limit - taken)
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
        claimed = await self.get_leased_many(ids, token)
        claimed.sort(key=lambda n: (n.due_at or now, n.id))
        return token, claimed

    async def claim_ids(
        self, ids: list[str], now: datetime, lease: timedelta, token: str
    ) -> list[Nudge]:
        """``claim`` of these candidates only; those leased elsewhere meanwhile are skipped."""
        if not await self._lease(
            ids, _due(now), {"lease_until": now + lease, "lease_owner": token}
        ):
            return []
        claimed = await self.get_leased_many(ids, token)
        claimed.sort(key=lambda n: (n.due_at or now, n.id))
        return claimed

    async def release(self, token: str, ids: list[str] | None) -> int:
        """Give up the leases ``token`` still holds on nudges not settled yet (a settle
        clears the lease), so any replica may take them at once; ``ids`` None: all of them.
        Leases under another token are never touched."""
        held: Document = {"lease_owner": token, "status": {"$in": _PENDING}}
        free = {"$set": {"lease_until": NEVER, "lease_owner": None}}
        if ids is None:  # a claim cut short: which nudges it took is unknown
            return (await self.nudges.update_many(held, free)).modified_count
        released = 0
        for chunk in _chunks(ids):
            result = await self.nudges.update_many({"_id": {"$in": chunk}, **held}, free)
            released += result.modified_count
        return released

    async def due_candidates(self, now: datetime, limit: int, *, spread: bool = False) -> list[str]:
        """Up to ``limit`` ids of nudges due and not leased when last read, oldest first
        (``spread``: from anywhere among those, for a replica meeting another's batches);
        read again when used up or a few seconds old. Whoever takes them checks again."""
        if not self._candidates or not (now - _PREFETCH_FOR <= self._read_at <= now):
            query = {"due_at": {"$gt": NEVER, "$lte": now}}
            fields = {"_id": 1, "lease_until": 1, "status": 1}
            found = self.nudges.find(query, fields).sort("due_at", ASCENDING)
            free = [
                doc["_id"]
                async for doc in found.limit(limit * _PREFETCH)
                if doc["lease_until"] < now and doc["status"] in _PENDING
            ]
            self._candidates, self._read_at = free[::-1], now
        end = len(self._candidates)
        if spread and end > limit:
            end = random.randrange(limit, end + 1)
        taken = self._candidates[max(0, end - limit) : end][::-1]
        del self._candidates[max(0, end - limit) : end]
        return taken

    async def _lease(self, ids: list[str], due: Document, lease: Document) -> int:
        """Lease those of ``ids`` still due, in a transaction. A replica killed mid-delivery
        leaves its open transaction holding the nudge until the server ends it (60 s on
        MongoDB); a plain write would wait for that, stalling every delivery, while a
        transaction fails at once. It is tried again once, as the conflict is mostly another
        replica's claim, over by then; then each is tried alone and the held ones skipped."""
        for _ in range(2):
            try:
                return await self._lease_in_transaction(
                    [{"_id": {"$in": c}, **due} for c in _chunks(ids)], lease
                )
            except OperationFailure as exc:
                if not exc.has_error_label("TransientTransactionError"):
                    raise
        taken = 0
        for one in ids:
            try:
                taken += await self._lease_in_transaction([{"_id": one, **due}], lease)
            except OperationFailure as exc:
                if not exc.has_error_label("TransientTransactionError"):
                    raise
        return taken

    async def _lease_in_transaction(self, queries: list[Document], lease: Document) -> int:
        client = self.nudges.database.client
        writes = [UpdateMany(query, {"$set": lease}) for query in queries]
        async with client.start_session() as session, await session.start_transaction():
            result = await self.nudges.bulk_write(writes, session=session)
        return result.modified_count

    async def take_daily_slot(
        self, user_id: str, day: date, cap: int, session: AsyncClientSession
    ) -> bool:
        """Count one delivery on the person's local ``day``; False when the cap is reached.
        Inside the delivery's transaction, so concurrent deliveries conflict and retry."""
        key = _day_key(user_id, day)
        doc = await self.daily_counts.find_one({"_id": key}, session=session)
        if doc is not None and int(doc["count"]) >= cap:
            return False
        await self.daily_counts.update_one(
            {"_id": key},
            {"$inc": {"count": 1}, "$setOnInsert": {"expire_at": _count_expiry(day)}},
            upsert=True,
            session=session,
        )
        return True

    async def daily_counts_of(
        self, days: set[tuple[str, date]], session: AsyncClientSession
    ) -> dict[tuple[str, date], int]:
        """Deliveries counted so far on each (person, local day), in one read."""
        keys = {_day_key(user_id, day): (user_id, day) for user_id, day in days}
        if not keys:
            return {}
        counts: dict[str, int] = {}
        for chunk in _chunks(sorted(keys)):
            found = self.daily_counts.find({"_id": {"$in": chunk}}, session=session)
            counts |= {doc["_id"]: int(doc["count"]) async for doc in found}
        return {keys[key]: counts.get(key, 0) for key in keys}

    async def count_deliveries(
        self, taken: Mapping[tuple[str, date], int], session: AsyncClientSession
    ) -> None:
        """Add deliveries to each (person, local day), in one request. Within the
        delivering transaction, as ``take_daily_slot``, after ``daily_counts_of`` read
        them: concurrent deliveries to the same person conflict and retry."""
        writes = [
            UpdateOne(
                {"_id": _day_key(user_id, day)},
                {"$inc": {"count": n}, "$setOnInsert": {"expire_at": _count_expiry(day)}},
                upsert=True,
            )
            for (user_id, day), n in taken.items()
            if n
        ]
        if writes:
            await self.daily_counts.bulk_write(writes, session=session)

    async def delivered_on(self, user_id: str, day: date) -> int:
        doc = await self.daily_counts.find_one({"_id": _day_key(user_id, day)})
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
