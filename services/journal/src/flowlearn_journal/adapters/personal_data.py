"""The journal's personal data in MongoDB: everything a person owns, read for an export,
and erased. Every read and every deletion is scoped to the person; records of other people
keep only a tombstone where they named the person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flowlearn_shared.contracts.personal_data import (
    ERASED_PERSON,
    ERASED_PERSON_NAME,
    ExperimentStepExport,
    JournalExport,
    KnownProfile,
)
from flowlearn_shared.contracts.portfolio import AcceptedAnswer, KudosReceived
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_journal.adapters.repository import from_document
from flowlearn_journal.domain.portfolio import question_path

Document = dict[str, Any]
OLDEST_FIRST = [("created_at", ASCENDING), ("_id", ASCENDING)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JournalPersonalData:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.entries = db["entries"]
        self.zones = db["people_zones"]
        self.kudos = db["portfolio_kudos"]
        self.answers = db["portfolio_answers"]
        self.steps = db["portfolio_experiment_steps"]

    async def ensure_indexes(self) -> None:
        # Erasure finds what the person gave or asked for in other people's portfolios.
        await self.kudos.create_index("from_id", name="from")
        await self.answers.create_index("asker_id", name="asker")

    async def export(self, user_id: str) -> JournalExport:
        entries = self.entries.find({"owner_id": user_id}).sort(OLDEST_FIRST)
        kudos = self.kudos.find({"owner_id": user_id}).sort([("given_at", 1), ("_id", 1)])
        answers = self.answers.find({"owner_id": user_id}).sort([("accepted_at", 1), ("_id", 1)])
        steps = self.steps.find({"owner_id": user_id}).sort([("at", 1), ("_id", 1)])
        zone = await self.zones.find_one({"_id": user_id})
        return JournalExport(
            entries=[from_document(doc).to_public() async for doc in entries],
            portfolio_kudos=[
                KudosReceived(
                    kudos_id=doc["_id"],
                    from_id=doc["from_id"],
                    from_name=None,
                    message=doc["message"],
                    strengths=doc.get("strengths", []),
                    visibility=doc["visibility"],
                    given_at=doc["given_at"],
                )
                async for doc in kudos
            ],
            portfolio_answers=[
                AcceptedAnswer(
                    answer_id=doc["answer_id"],
                    question_id=doc["_id"],
                    question_path=question_path(doc["_id"]),
                    asker_id=doc["asker_id"],
                    tags=doc.get("tags", []),
                    accepted_at=doc["accepted_at"],
                )
                async for doc in answers
            ],
            portfolio_experiment_steps=[
                ExperimentStepExport(
                    step_id=doc["_id"],
                    experiment_id=doc["experiment_id"],
                    team_id=doc["team_id"],
                    title=doc["title"],
                    from_stage=doc.get("from_stage"),
                    to_stage=doc["to_stage"],
                    learned=doc.get("learned"),
                    at=doc["at"],
                )
                async for doc in steps
            ],
            known_profile=KnownProfile(
                timezone=zone.get("timezone"),
                display_name=zone.get("display_name"),
                as_of=zone.get("as_of"),
            )
            if zone
            else None,
        )

    async def erase(self, user_id: str, delete_authored: bool) -> dict[str, int]:
        """Delete what the person owns; in others' portfolios, replace them by the tombstone
        (kudos they gave are deleted instead when they chose to delete what they wrote).
        Each step can run again without effect, so a redelivered request just repeats it."""
        counts = {
            "entries": (await self.entries.delete_many({"owner_id": user_id})).deleted_count,
            "profile": (await self.zones.delete_one({"_id": user_id})).deleted_count,
            "kudos": (await self.kudos.delete_many({"owner_id": user_id})).deleted_count,
            "answers": (await self.answers.delete_many({"owner_id": user_id})).deleted_count,
            "steps": (await self.steps.delete_many({"owner_id": user_id})).deleted_count,
        }
        if delete_authored:
            given = await self.kudos.delete_many({"from_id": user_id})
            counts["kudos_given"] = given.deleted_count
        else:
            given_kept = await self.kudos.update_many(
                {"from_id": user_id}, {"$set": {"from_id": ERASED_PERSON}}
            )
            counts["kudos_given"] = given_kept.modified_count
        asked = await self.answers.update_many(
            {"asker_id": user_id}, {"$set": {"asker_id": ERASED_PERSON}}
        )
        counts["answers_asked"] = asked.modified_count
        # Portfolios name the tombstone like anyone else.
        tombstone = {"timezone": "UTC", "display_name": ERASED_PERSON_NAME, "as_of": EPOCH}
        await self.zones.update_one(
            {"_id": ERASED_PERSON}, {"$setOnInsert": tombstone}, upsert=True
        )
        return counts
