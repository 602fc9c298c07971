"""Leases on nudges' outside channel deliveries, for the channel sender in every replica.

The channel deliveries live on their nudge (``deliveries.<channel>``); ``channels_due_at``
(the earliest pending one, kept by every save) is what the sender's index holds. A channel
lease (``channel_lease_owner``/``channel_lease_until``) is separate from the scheduler's,
so delivering a nudge and sending it to Slack never wait on each other.

Candidates are looked up by ``channels_due_at`` alone, bounded below, and the lease is
checked on what comes back: on SecantusDB a query with more conditions is answered by
reading the whole collection, and an unbounded range includes every nudge without an
outside delivery (every second, in every replica). The lease itself re-checks it all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.adapters.nudge_repository import NEVER, from_document
from flowlearn_nudges.domain.delivery import channels_due_at
from flowlearn_nudges.domain.nudge import Nudge

Document = dict[str, Any]
_CLAIM_ROUNDS = 3
_SCAN = 4  # candidates read per nudge wanted, as some may be leased by another replica


class ChannelDeliveryRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.nudges = db["nudges"]

    async def ensure_indexes(self) -> None:
        await self.nudges.create_index([("channels_due_at", ASCENDING)], name="channels_due")

    async def claim(
        self,
        now: datetime,
        lease: timedelta,
        owner: str,
        limit: int,
        *,
        user_id: str | None = None,
        token: str | None = None,
    ) -> tuple[str, list[Nudge]]:
        """Lease up to ``limit`` nudges with an outside delivery due. The update re-checks
        the lease per document, so each is taken by one claimer only."""
        due: Document = {
            "channels_due_at": {"$lte": now},
            "channel_lease_until": {"$not": {"$gt": now}},
        }
        if user_id is not None:
            due["user_id"] = user_id
        token = token or f"{owner}:{uuid4().hex}"
        ids: list[str] = []
        taken = 0
        candidates: Document = {"channels_due_at": {"$gt": NEVER, "$lte": now}}
        if user_id is not None:
            candidates["user_id"] = user_id
        fields = {"_id": 1, "channel_lease_until": 1}
        for _ in range(_CLAIM_ROUNDS):
            found = self.nudges.find(candidates, fields).sort("channels_due_at", ASCENDING)
            free = [
                doc["_id"]
                async for doc in found.limit(_SCAN * (limit - taken))
                if not (doc.get("channel_lease_until") or NEVER) > now
            ]
            round_ids = [i for i in free if i not in ids][: limit - taken]
            if not round_ids:
                break
            result = await self.nudges.update_many(
                {"_id": {"$in": round_ids}, **due},
                {"$set": {"channel_lease_until": now + lease, "channel_lease_owner": token}},
            )
            ids += round_ids
            taken += result.modified_count
            if result.modified_count == len(round_ids) or taken >= limit:
                break
        if not taken:
            return token, []
        cursor = self.nudges.find({"_id": {"$in": ids}, "channel_lease_owner": token})
        claimed = [from_document(doc) async for doc in cursor]
        claimed.sort(key=lambda n: (n.delivered_at or now, n.id))
        return token, claimed

    async def settle(self, nudge: Nudge, token: str, changes: dict[str, dict[str, Any]]) -> bool:
        """Write the new state of the channel deliveries and release the lease; False when
        the lease was lost meanwhile (nothing is written then)."""
        deliveries = {**nudge.deliveries, **changes}
        update: Document = {f"deliveries.{channel}": state for channel, state in changes.items()}
        update |= {
            "channels_due_at": channels_due_at(deliveries, nudge.delivered_at),
            "channel_lease_owner": None,
            "channel_lease_until": NEVER,
        }
        result = await self.nudges.update_one(
            {"_id": nudge.id, "channel_lease_owner": token}, {"$set": update}
        )
        return result.matched_count == 1

    async def release(self, token: str, ids: list[str] | None) -> int:
        """Give up the channel leases ``token`` still holds (a settle clears its own), so
        any replica may send those deliveries at once; ``ids`` None: all of them. Leases
        under another token are never touched."""
        held: Document = {"channel_lease_owner": token}
        if ids is not None:
            held["_id"] = {"$in": ids}
        result = await self.nudges.update_many(
            held, {"$set": {"channel_lease_owner": None, "channel_lease_until": NEVER}}
        )
        return result.modified_count

    async def get(self, nudge_id: str) -> Nudge | None:
        doc = await self.nudges.find_one({"_id": nudge_id})
        return None if doc is None else from_document(doc)
