"""The nudges service's personal data in MongoDB: the person (schedule and preferences),
their nudges, journal activity counts, memberships learned from events, and the campaigns
they created. Read for an export and erased, always scoped to the person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flowlearn_shared.contracts.personal_data import (
    ERASED_PERSON,
    ActivityExport,
    CampaignExport,
    MembershipExport,
)
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.adapters.nudge_repository import from_document
from flowlearn_nudges.adapters.sealed import SecretBox, open_preferences
from flowlearn_nudges.domain.nudge import Nudge

Document = dict[str, Any]
OLDEST_FIRST = [("created_at", ASCENDING), ("_id", ASCENDING)]


@dataclass
class NudgesData:
    person: Document | None
    nudges: list[Nudge] = field(default_factory=list)
    activity: ActivityExport | None = None
    memberships: list[MembershipExport] = field(default_factory=list)
    campaigns: list[CampaignExport] = field(default_factory=list)


class NudgesPersonalData:
    def __init__(self, db: AsyncDatabase[Document], box: SecretBox) -> None:
        self.box = box
        self.people = db["people"]
        self.person_locks = db["person_locks"]
        self.nudges = db["nudges"]
        self.daily_counts = db["daily_counts"]
        self.activity = db["journal_activity"]
        self.team_memberships = db["team_memberships"]
        self.community_memberships = db["community_memberships"]
        self.campaigns = db["campaigns"]

    async def ensure_indexes(self) -> None:
        await self.community_memberships.create_index("user_id", name="by_person")
        await self.campaigns.create_index("created_by", name="by_creator")

    async def read(self, user_id: str) -> NudgesData:
        nudges = self.nudges.find({"user_id": user_id}).sort(OLDEST_FIRST)
        activity = await self.activity.find_one({"_id": user_id})
        teams = self.team_memberships.find({"user_id": user_id}).sort("at", ASCENDING)
        communities = self.community_memberships.find({"user_id": user_id}).sort("at", ASCENDING)
        campaigns = self.campaigns.find({"created_by": user_id}).sort(OLDEST_FIRST)
        memberships = [
            MembershipExport(
                group="team",
                group_id=doc["team_id"],
                role=doc.get("role"),
                active=bool(doc.get("active")),
                at=doc["at"],
            )
            async for doc in teams
        ] + [
            MembershipExport(
                group="community",
                group_id=doc["community_id"],
                active=bool(doc.get("active")),
                at=doc["at"],
            )
            async for doc in communities
        ]
        person = await self.people.find_one({"_id": user_id})
        if person and person.get("preferences"):
            person["preferences"] = open_preferences(self.box, user_id, person["preferences"])
        return NudgesData(
            person=person,
            nudges=[from_document(doc) async for doc in nudges],
            activity=ActivityExport(
                entries_written=int(activity.get("entries_written", 0)),
                last_entry_on=activity.get("last_entry_on"),
                last_written_at=activity.get("last_written_at"),
            )
            if activity
            else None,
            memberships=memberships,
            campaigns=[
                CampaignExport(
                    id=doc["_id"],
                    type=doc["type"],
                    message=doc["message"],
                    audience=doc["audience"],
                    send_at=doc.get("send_at"),
                    status=doc["status"],
                    created_at=doc["created_at"],
                )
                async for doc in campaigns
            ],
        )

    async def erase(self, user_id: str) -> dict[str, int]:
        """Delete everything of the person. Campaigns they created stay (they were sent to
        others on the organisation's behalf) under the tombstone. Each step can run again
        without effect. A nudge being delivered meanwhile is saved only if it still
        exists, so a delivery in flight does not bring it back."""
        day_counts = {"_id": {"$regex": f"^{re.escape(user_id)}\x1f"}}
        campaigns = await self.campaigns.update_many(
            {"created_by": user_id}, {"$set": {"created_by": ERASED_PERSON}}
        )
        return {
            "nudges": (await self.nudges.delete_many({"user_id": user_id})).deleted_count,
            "person": (await self.people.delete_one({"_id": user_id})).deleted_count,
            "person_lock": (await self.person_locks.delete_one({"_id": user_id})).deleted_count,
            "activity": (await self.activity.delete_one({"_id": user_id})).deleted_count,
            "daily_counts": (await self.daily_counts.delete_many(day_counts)).deleted_count,
            "team_memberships": (
                await self.team_memberships.delete_many({"user_id": user_id})
            ).deleted_count,
            "community_memberships": (
                await self.community_memberships.delete_many({"user_id": user_id})
            ).deleted_count,
            "campaigns": campaigns.modified_count,
        }
