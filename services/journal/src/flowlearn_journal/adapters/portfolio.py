"""MongoDB storage of what the portfolio learns from other services' events. Every record is
keyed by the id its event carries and written with ``$setOnInsert`` (or guarded by time),
so applying an event twice, or late, changes nothing. Every read is scoped to the owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.journal import EntryKind
from flowlearn_shared.contracts.portfolio import AcceptedAnswer, ExperimentStep, KudosReceived
from flowlearn_shared.events import AnswerAcceptedData, ExperimentStageChangedData, KudosGivenData
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_journal.adapters.repository import NEWEST_FIRST, from_document
from flowlearn_journal.domain.model import Entry
from flowlearn_journal.domain.portfolio import RecordedStep, question_path

Document = dict[str, Any]


class PortfolioRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.entries = db["entries"]
        self.kudos = db["portfolio_kudos"]
        # One document per question: the answer accepted last is the one that counts.
        self.answers = db["portfolio_answers"]
        self.steps = db["portfolio_experiment_steps"]

    async def ensure_indexes(self) -> None:
        await self.kudos.create_index(
            [("owner_id", 1), ("given_at", DESCENDING)], name="owner_newest"
        )
        await self.answers.create_index(
            [("owner_id", 1), ("accepted_at", DESCENDING)], name="owner_newest"
        )
        await self.steps.create_index([("owner_id", 1), ("at", DESCENDING)], name="owner_newest")

    # Writes, from events ------------------------------------------------------------------

    async def add_kudos(self, data: KudosGivenData, given_at: datetime) -> None:
        doc = {
            "owner_id": data.to_id,
            "from_id": data.from_id,
            "message": data.message,
            "strengths": list(data.strengths),
            "visibility": data.visibility,
            "given_at": given_at,
        }
        await self.kudos.update_one({"_id": data.kudos_id}, {"$setOnInsert": doc}, upsert=True)

    async def accept_answer(self, data: AnswerAcceptedData, accepted_at: datetime) -> None:
        """The newest acceptance of a question wins, whichever order the events come in."""
        doc = {
            "owner_id": data.answerer_id,
            "answer_id": data.answer_id,
            "asker_id": data.asker_id,
            "tags": list(data.tags),
            "accepted_at": accepted_at,
        }
        await self.answers.update_one(
            {"_id": data.question_id, "accepted_at": {"$not": {"$gt": accepted_at}}},
            {"$set": doc},
            upsert=False,
        )
        await self.answers.update_one({"_id": data.question_id}, {"$setOnInsert": doc}, upsert=True)

    async def add_experiment_step(
        self, step_id: str, data: ExperimentStageChangedData, at: datetime
    ) -> None:
        doc = {
            "owner_id": data.owner_id,
            "experiment_id": data.experiment_id,
            "team_id": data.team_id,
            "title": data.title,
            "from_stage": data.from_stage,
            "to_stage": data.to_stage,
            "learned": data.learned,
            "at": at,
        }
        await self.steps.update_one({"_id": step_id}, {"$setOnInsert": doc}, upsert=True)

    # Reads, for the owner only ------------------------------------------------------------

    async def evidence_of(self, owner_id: str, limit: int) -> list[Entry]:
        query = {
            "owner_id": owner_id,
            "$or": [{"evidence": {"$type": "object"}}, {"kind": EntryKind.ACHIEVEMENT.value}],
        }
        cursor = self.entries.find(query).sort(NEWEST_FIRST).limit(limit)
        return [from_document(doc) async for doc in cursor]

    async def kudos_of(self, owner_id: str, limit: int) -> list[KudosReceived]:
        cursor = (
            self.kudos.find({"owner_id": owner_id})
            .sort([("given_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [
            KudosReceived(
                kudos_id=doc["_id"],
                from_id=doc["from_id"],
                from_name=None,
                message=doc["message"],
                strengths=doc.get("strengths", []),
                visibility=doc["visibility"],
                given_at=doc["given_at"],
            )
            async for doc in cursor
        ]

    async def answers_of(self, owner_id: str, limit: int) -> list[AcceptedAnswer]:
        cursor = (
            self.answers.find({"owner_id": owner_id})
            .sort([("accepted_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [
            AcceptedAnswer(
                answer_id=doc["answer_id"],
                question_id=doc["_id"],
                question_path=question_path(doc["_id"]),
                asker_id=doc["asker_id"],
                tags=doc.get("tags", []),
                accepted_at=doc["accepted_at"],
            )
            async for doc in cursor
        ]

    async def experiment_steps_of(self, owner_id: str, limit: int) -> list[RecordedStep]:
        """The steps of the owner's ``limit`` most recently changed experiments."""
        latest = self.steps.aggregate(
            [
                {"$match": {"owner_id": owner_id}},
                {"$group": {"_id": "$experiment_id", "last": {"$max": "$at"}}},
                {"$sort": {"last": -1, "_id": -1}},
                {"$limit": limit},
            ]
        )
        experiment_ids = [row["_id"] async for row in await latest]
        if not experiment_ids:
            return []
        cursor = self.steps.find({"owner_id": owner_id, "experiment_id": {"$in": experiment_ids}})
        return [
            RecordedStep(
                experiment_id=doc["experiment_id"],
                team_id=doc["team_id"],
                title=doc["title"],
                step=ExperimentStep(
                    step_id=doc["_id"],
                    from_stage=doc.get("from_stage"),
                    to_stage=doc["to_stage"],
                    learned=doc.get("learned"),
                    at=doc["at"],
                ),
            )
            async for doc in cursor
        ]
