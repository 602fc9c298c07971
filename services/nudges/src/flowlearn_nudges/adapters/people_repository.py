"""People as the nudges service knows them: schedule (from profile events), nudge
preferences, and team memberships (from team events, to find a person's managers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flowlearn_shared.contracts.nudges import NudgePreferences
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_nudges.adapters.sealed import (
    SecretBox,
    UnopenableValue,
    open_preferences,
    reseal_preferences,
    seal_preferences,
)
from flowlearn_nudges.domain.model import Person
from flowlearn_nudges.domain.schedule import PersonSchedule

Document = dict[str, Any]
Session = AsyncClientSession | None
LEAD = "lead"
_IN_CHUNK = 50


def _schedule_doc(schedule: PersonSchedule) -> Document:
    quiet = None
    if schedule.quiet_start is not None and schedule.quiet_end is not None:
        quiet = [schedule.quiet_start.strftime("%H:%M"), schedule.quiet_end.strftime("%H:%M")]
    return {
        "timezone": schedule.timezone,
        "days": sorted(schedule.working_days),
        "start": schedule.work_start.strftime("%H:%M"),
        "end": schedule.work_end.strftime("%H:%M"),
        "quiet": quiet,
    }


def _schedule(doc: Document | None) -> PersonSchedule:
    if not doc:
        return PersonSchedule()
    quiet = doc.get("quiet")
    return PersonSchedule.from_profile(
        doc["timezone"], doc["days"], doc["start"], doc["end"], tuple(quiet) if quiet else None
    )


def _person(user_id: str, doc: Document | None, box: SecretBox) -> Person:
    if doc is None:
        return Person(user_id)
    since = {k: date.fromisoformat(v) for k, v in (doc.get("rrule_since") or {}).items()}
    raw = doc.get("preferences")
    preferences = (
        NudgePreferences.model_validate(open_preferences(box, user_id, raw))
        if raw
        else NudgePreferences()
    )
    return Person(user_id, _schedule(doc.get("schedule")), preferences, since)


@dataclass
class ResealReport:
    people: int = 0  # people with stored preferences
    resealed: int = 0
    unopenable: list[str] = field(default_factory=list)


class PeopleRepository:
    def __init__(self, db: AsyncDatabase[Document], box: SecretBox) -> None:
        self.box = box
        self.people = db["people"]
        self.memberships = db["team_memberships"]
        self.locks = db["person_locks"]

    async def ensure_indexes(self) -> None:
        await self.memberships.create_index(
            [("user_id", ASCENDING), ("active", ASCENDING)], name="by_person"
        )
        await self.memberships.create_index(
            [("team_id", ASCENDING), ("active", ASCENDING)], name="by_team"
        )

    async def lock(self, user_id: str, session: AsyncClientSession) -> None:
        """Serialise transactions that plan nudges for one person: each writes this
        document, so of two concurrent ones the later aborts and is retried, and then sees
        what the other wrote. Without it, a profile change and a rule firing for a person
        not yet known could each miss the other's write (a nudge left timed to the default
        hours). A separate collection, so a lock never makes a person known."""
        await self.locks.update_one(
            {"_id": user_id}, {"$inc": {"writes": 1}}, upsert=True, session=session
        )

    async def get(self, user_id: str, session: Session = None) -> Person:
        doc = await self.people.find_one({"_id": user_id}, session=session)
        return _person(user_id, doc, self.box)

    async def get_many(self, user_ids: set[str], session: Session = None) -> dict[str, Person]:
        """Each of ``user_ids`` (defaults for one not known), 50 to a read."""
        docs: dict[str, Document] = {}
        ordered = sorted(user_ids)
        for i in range(0, len(ordered), _IN_CHUNK):  # ``$in`` costs grow with its square
            query = {"_id": {"$in": ordered[i : i + _IN_CHUNK]}}
            docs |= {doc["_id"]: doc async for doc in self.people.find(query, session=session)}
        return {user_id: _person(user_id, docs.get(user_id), self.box) for user_id in user_ids}

    async def known(self, user_id: str, session: Session = None) -> bool:
        return await self.people.count_documents({"_id": user_id}, limit=1, session=session) > 0

    async def ensure(self, user_id: str, schedule: PersonSchedule, session: Session = None) -> bool:
        """Remember a person first seen without a profile. True when they were new."""
        result = await self.people.update_one(
            {"_id": user_id},
            {
                "$setOnInsert": {
                    "schedule": _schedule_doc(schedule),
                    "profile_at": None,
                    "created_at": datetime.now(UTC),
                }
            },
            upsert=True,
            session=session,
        )
        return result.upserted_id is not None

    async def apply_profile(
        self, user_id: str, schedule: PersonSchedule, at: datetime, session: AsyncClientSession
    ) -> bool:
        """Store the schedule unless a newer profile is already known (events may be
        replayed out of order). True when it changed."""
        doc = await self.people.find_one({"_id": user_id}, session=session)
        seen = doc.get("profile_at") if doc else None
        if seen is not None and seen >= at:
            return False
        await self.people.update_one(
            {"_id": user_id},
            {
                "$set": {"schedule": _schedule_doc(schedule), "profile_at": at},
                "$setOnInsert": {"created_at": datetime.now(UTC)},
            },
            upsert=True,
            session=session,
        )
        return True

    async def save_preferences(
        self,
        user_id: str,
        preferences: NudgePreferences,
        rrule_since: dict[str, date],
        session: AsyncClientSession,
    ) -> None:
        await self.people.update_one(
            {"_id": user_id},
            {
                "$set": {
                    "preferences": seal_preferences(
                        self.box, user_id, preferences.model_dump(mode="json")
                    ),
                    "rrule_since": {k: v.isoformat() for k, v in rrule_since.items()},
                },
                "$setOnInsert": {
                    "schedule": _schedule_doc(PersonSchedule()),
                    "profile_at": None,
                    "created_at": datetime.now(UTC),
                },
            },
            upsert=True,
            session=session,
        )

    async def reseal(self) -> ResealReport:
        """Seal again under the current key every credential that is not (stored before
        sealing, or under a previous key), so previous keys can be retired. A person whose
        preferences changed meanwhile is left as saved (saving seals with the current key);
        one with a value no key opens is counted and left untouched."""
        report = ResealReport()
        async for doc in self.people.find({"preferences": {"$type": "object"}}, {"preferences": 1}):
            report.people += 1
            try:
                resealed = reseal_preferences(self.box, doc["_id"], doc["preferences"])
            except UnopenableValue:
                report.unopenable.append(doc["_id"])
                continue
            if resealed is None:
                continue
            result = await self.people.update_one(
                {"_id": doc["_id"], "preferences": doc["preferences"]},
                {"$set": {"preferences": resealed}},
            )
            report.resealed += result.modified_count
        return report

    async def set_membership(
        self,
        team_id: str,
        user_id: str,
        role: str,
        active: bool,
        at: datetime,
        session: AsyncClientSession,
    ) -> bool:
        key = f"{team_id}\x1f{user_id}"
        doc = await self.memberships.find_one({"_id": key}, session=session)
        if doc is not None and doc["at"] >= at:
            return False  # a newer change is already known
        await self.memberships.update_one(
            {"_id": key},
            {
                "$set": {
                    "team_id": team_id,
                    "user_id": user_id,
                    "role": role,
                    "active": active,
                    "at": at,
                }
            },
            upsert=True,
            session=session,
        )
        return True

    async def teams_of(self, user_id: str, session: Session = None) -> list[str]:
        cursor = self.memberships.find(
            {"user_id": user_id, "active": True}, {"team_id": 1}, session=session
        )
        return [doc["team_id"] async for doc in cursor]

    async def colleagues(
        self, user_id: str, *, leads_only: bool, session: Session = None
    ) -> list[str]:
        """People sharing a team with ``user_id`` (only its leads with ``leads_only``)."""
        teams = await self.teams_of(user_id, session)
        if not teams:
            return []
        query: Document = {"team_id": {"$in": teams}, "active": True}
        if leads_only:
            query["role"] = LEAD
        cursor = self.memberships.find(query, {"user_id": 1}, session=session)
        found = sorted({doc["user_id"] async for doc in cursor} - {user_id})
        return found
