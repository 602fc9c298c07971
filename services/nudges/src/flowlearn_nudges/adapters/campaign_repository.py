"""MongoDB storage of campaigns, and the audiences they reach as the nudges service knows
them: team memberships (from team events), community memberships (from community events)
and every person it has met."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flowlearn_shared.contracts.campaigns import CampaignStatus
from flowlearn_shared.contracts.nudges import NudgeType
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.adapters.nudge_repository import NEVER
from flowlearn_nudges.domain.campaigns import Campaign

Document = dict[str, Any]
Session = AsyncClientSession | None
LEAD = "lead"
# What the counts need of a nudge, and nothing about whose it is.
_RESPONSE_FIELDS = {
    "_id": 0,
    "status": 1,
    "delivered_at": 1,
    "opened_at": 1,
    "acted_at": 1,
    "dismissed_at": 1,
}


def to_document(campaign: Campaign) -> Document:
    return {
        "_id": campaign.id,
        "created_by": campaign.created_by,
        "type": str(campaign.type),
        "message": campaign.message,
        "audience": campaign.audience,
        "send_at": campaign.send_at,
        "created_at": campaign.created_at,
        "status": str(campaign.status),
        "recipients": campaign.recipients,
        "audience_as_of": campaign.audience_as_of,
        "lease_until": NEVER,
        "lease_owner": None,
    }


def from_document(doc: Document) -> Campaign:
    return Campaign(
        id=doc["_id"],
        created_by=doc["created_by"],
        type=NudgeType(doc["type"]),
        message=doc["message"],
        audience=doc["audience"],
        send_at=doc["send_at"],
        created_at=doc["created_at"],
        status=CampaignStatus(doc["status"]),
        recipients=doc.get("recipients"),
        audience_as_of=doc.get("audience_as_of"),
    )


class CampaignRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.campaigns = db["campaigns"]
        self.nudges = db["nudges"]

    async def ensure_indexes(self) -> None:
        await self.campaigns.create_index(
            [("status", ASCENDING), ("lease_until", ASCENDING)], name="to_schedule"
        )
        await self.nudges.create_index([("context.campaign_id", ASCENDING)], name="by_campaign")

    async def add(self, campaign: Campaign, session: AsyncClientSession) -> None:
        await self.campaigns.insert_one(to_document(campaign), session=session)

    async def get(self, campaign_id: str) -> Campaign | None:
        doc = await self.campaigns.find_one({"_id": campaign_id})
        return None if doc is None else from_document(doc)

    async def claim_unscheduled(
        self,
        now: datetime,
        lease: timedelta,
        owner: str,
        *,
        read_through: int | None = None,
        audience_wait: timedelta = timedelta(0),
    ) -> Campaign | None:
        """Lease one campaign whose nudges are not planned yet; one replica at a time, and
        another takes it over when a replica dies before it finished. Only a campaign whose
        audience the events read so far (``read_through``) cover, or that has waited
        ``audience_wait`` for them."""
        ready: list[Document] = [
            {"audience_as_of": None},
            {"created_at": {"$lte": now - audience_wait}},
        ]
        if read_through is not None:
            ready.append({"audience_as_of": {"$lte": read_through}})
        doc = await self.campaigns.find_one_and_update(
            {
                "status": str(CampaignStatus.SCHEDULING),
                "lease_until": {"$lt": now},
                "$or": ready,
            },
            {"$set": {"lease_until": now + lease, "lease_owner": owner}},
            sort=[("created_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else from_document(doc)

    async def mark_scheduled(self, campaign_id: str, owner: str) -> bool:
        recipients = await self.nudges.count_documents({"context.campaign_id": campaign_id})
        result = await self.campaigns.update_one(
            {"_id": campaign_id, "lease_owner": owner},
            {
                "$set": {
                    "status": str(CampaignStatus.SCHEDULED),
                    "recipients": recipients,
                    "lease_until": NEVER,
                    "lease_owner": None,
                }
            },
        )
        return result.matched_count == 1

    async def responses(self, campaign_id: str) -> list[Document]:
        """The campaign's nudges, reduced to what the counts need."""
        cursor = self.nudges.find({"context.campaign_id": campaign_id}, _RESPONSE_FIELDS)
        return [doc async for doc in cursor]


class Audiences:
    """Who is in a team, a community or the organisation, from the events seen so far."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.people = db["people"]
        self.team_memberships = db["team_memberships"]
        self.community_memberships = db["community_memberships"]

    async def ensure_indexes(self) -> None:
        await self.community_memberships.create_index(
            [("community_id", ASCENDING), ("active", ASCENDING)], name="by_community"
        )

    async def led_teams(self, user_id: str) -> set[str]:
        cursor = self.team_memberships.find(
            {"user_id": user_id, "role": LEAD, "active": True}, {"team_id": 1}
        )
        return {doc["team_id"] async for doc in cursor}

    async def team_members(self, team_ids: set[str] | list[str]) -> set[str]:
        if not team_ids:
            return set()
        cursor = self.team_memberships.find(
            {"team_id": {"$in": list(team_ids)}, "active": True}, {"user_id": 1}
        )
        return {doc["user_id"] async for doc in cursor}

    async def community_members(self, community_id: str) -> set[str]:
        cursor = self.community_memberships.find(
            {"community_id": community_id, "active": True}, {"user_id": 1}
        )
        return {doc["user_id"] async for doc in cursor}

    async def everyone(self) -> set[str]:
        return {doc["_id"] async for doc in self.people.find({}, {"_id": 1})}

    async def set_community_membership(
        self,
        community_id: str,
        user_id: str,
        active: bool,
        at: datetime,
        session: AsyncClientSession,
    ) -> bool:
        """Record a join or leave unless a newer change is known (replays come out of order).
        Of two changes at the same moment the one that arrives later wins: the stream's order."""
        key = f"{community_id}\x1f{user_id}"
        doc = await self.community_memberships.find_one({"_id": key}, session=session)
        if doc is not None and doc["at"] > at:
            return False
        await self.community_memberships.update_one(
            {"_id": key},
            {
                "$set": {
                    "community_id": community_id,
                    "user_id": user_id,
                    "active": active,
                    "at": at,
                }
            },
            upsert=True,
            session=session,
        )
        return True
