"""MongoDB storage of the people directory: profiles, teams, communities and memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.people import QuietHours, TeamRole, WorkingHours
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from flowlearn_sharing.domain.audience import Viewer
from flowlearn_sharing.domain.people import Profile, Team

Document = dict[str, Any]
Session = AsyncClientSession | None


def profile_document(profile: Profile) -> Document:
    return {
        "_id": profile.user_id,
        "display_name": profile.display_name,
        "timezone": profile.timezone,
        "working_hours": profile.working_hours.model_dump(),
        "quiet_hours": profile.quiet_hours.model_dump() if profile.quiet_hours else None,
        "roles": profile.roles,
        "created_at": profile.created_at,
        "updated_at": profile.updated_at,
    }


def profile_from(doc: Document) -> Profile:
    quiet = doc.get("quiet_hours")
    return Profile(
        user_id=doc["_id"],
        display_name=doc["display_name"],
        timezone=doc["timezone"],
        working_hours=WorkingHours(**doc["working_hours"]),
        quiet_hours=QuietHours(**quiet) if quiet else None,
        roles=list(doc.get("roles", [])),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def team_from(doc: Document) -> Team:
    return Team(
        id=doc["_id"],
        name=doc["name"],
        members={m["user_id"]: TeamRole(m["role"]) for m in doc.get("members", [])},
        created_by=doc["created_by"],
        created_at=doc["created_at"],
    )


class ProfileExists(Exception):
    """Another transaction created this profile at the same time."""


class PeopleRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.profiles = db["profiles"]
        self.teams = db["teams"]
        self.communities = db["communities"]
        self.community_members = db["community_members"]

    async def ensure_indexes(self) -> None:
        await self.teams.create_index("members.user_id", name="member")
        await self.community_members.create_index(
            [("user_id", ASCENDING), ("community_id", ASCENDING)], name="user_communities"
        )
        await self.communities.create_index("tags", name="tags")

    # Profiles
    async def get_profile(self, user_id: str, session: Session = None) -> Profile | None:
        doc = await self.profiles.find_one({"_id": user_id}, session=session)
        return profile_from(doc) if doc else None

    async def add_profile(self, profile: Profile, session: AsyncClientSession) -> bool:
        """False when the person has a profile already. Looked up first: inside a
        transaction a duplicate-key error aborts it, and the commit would then fail."""
        if await self.profiles.count_documents({"_id": profile.user_id}, limit=1, session=session):
            return False
        try:
            await self.profiles.insert_one(profile_document(profile), session=session)
        except DuplicateKeyError as exc:  # created meanwhile by a concurrent first request
            raise ProfileExists(profile.user_id) from exc
        return True

    async def save_profile(self, profile: Profile, session: AsyncClientSession) -> None:
        await self.profiles.replace_one(
            {"_id": profile.user_id}, profile_document(profile), session=session
        )

    async def display_names(self, user_ids: set[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        cursor = self.profiles.find({"_id": {"$in": list(user_ids)}}, {"display_name": 1})
        names = {doc["_id"]: doc["display_name"] async for doc in cursor}
        return {uid: names.get(uid, uid) for uid in user_ids}

    # Teams
    async def add_team(self, team: Team, session: AsyncClientSession) -> None:
        await self.teams.insert_one(
            {
                "_id": team.id,
                "name": team.name,
                "members": [{"user_id": u, "role": r.value} for u, r in team.members.items()],
                "created_by": team.created_by,
                "created_at": team.created_at,
            },
            session=session,
        )

    async def get_team(self, team_id: str, session: Session = None) -> Team | None:
        doc = await self.teams.find_one({"_id": team_id}, session=session)
        return team_from(doc) if doc else None

    async def set_member(
        self, team_id: str, user_id: str, role: TeamRole, session: AsyncClientSession
    ) -> None:
        await self.teams.update_one(
            {"_id": team_id}, {"$pull": {"members": {"user_id": user_id}}}, session=session
        )
        await self.teams.update_one(
            {"_id": team_id},
            {"$push": {"members": {"user_id": user_id, "role": role.value}}},
            session=session,
        )

    async def remove_member(self, team_id: str, user_id: str, session: AsyncClientSession) -> None:
        await self.teams.update_one(
            {"_id": team_id}, {"$pull": {"members": {"user_id": user_id}}}, session=session
        )

    async def teams_of(self, user_id: str) -> list[Team]:
        cursor = self.teams.find({"members.user_id": user_id}).sort("name", ASCENDING)
        return [team_from(doc) async for doc in cursor]

    # Communities
    async def add_community(self, doc: Document, session: AsyncClientSession) -> None:
        await self.communities.insert_one(doc, session=session)

    async def get_community(self, community_id: str) -> Document | None:
        return await self.communities.find_one({"_id": community_id})

    async def list_communities(self, limit: int = 200) -> list[Document]:
        return await self.communities.find().sort("name", ASCENDING).limit(limit).to_list()

    async def join(
        self, community_id: str, user_id: str, now: datetime, session: Session = None
    ) -> bool:
        key = f"{community_id}:{user_id}"
        # Inside a transaction a duplicate-key error would abort it: look first.
        if await self.community_members.find_one({"_id": key}, session=session) is not None:
            return False
        try:
            await self.community_members.insert_one(
                {
                    "_id": key,
                    "community_id": community_id,
                    "user_id": user_id,
                    "joined_at": now,
                },
                session=session,
            )
        except DuplicateKeyError:
            return False
        await self.communities.update_one(
            {"_id": community_id}, {"$inc": {"member_count": 1}}, session=session
        )
        return True

    async def leave(self, community_id: str, user_id: str, session: Session = None) -> bool:
        result = await self.community_members.delete_one(
            {"_id": f"{community_id}:{user_id}"}, session=session
        )
        if result.deleted_count:
            await self.communities.update_one(
                {"_id": community_id}, {"$inc": {"member_count": -1}}, session=session
            )
        return bool(result.deleted_count)

    async def community_ids_of(self, user_id: str) -> set[str]:
        cursor = self.community_members.find({"user_id": user_id}, {"community_id": 1})
        return {doc["community_id"] async for doc in cursor}

    async def viewer(self, user_id: str, roles: list[str]) -> Viewer:
        teams = await self.teams_of(user_id)
        return Viewer(
            user_id=user_id,
            roles=frozenset(roles),
            team_ids=frozenset(t.id for t in teams),
            lead_team_ids=frozenset(t.id for t in teams if t.is_lead(user_id)),
            community_ids=frozenset(await self.community_ids_of(user_id)),
        )
