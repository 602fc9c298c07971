"""MongoDB storage of Three Ps experiments, scoped to the viewer's teams."""

from __future__ import annotations

from typing import Any

from flowlearn_shared.contracts.experiments import ExperimentQuery, ExperimentStage
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters import keyset
from flowlearn_sharing.domain.audience import Viewer
from flowlearn_sharing.domain.experiments import Experiment, StageStep

Document = dict[str, Any]
NEWEST = keyset.sort("created_at", descending=True)


def _step_document(step: StageStep) -> Document:
    return {
        "from_stage": step.from_stage.value if step.from_stage else None,
        "to_stage": step.to_stage.value,
        "learned": step.learned,
        "at": step.at,
    }


def experiment_document(e: Experiment) -> Document:
    return {
        "_id": e.id,
        "team_id": e.team_id,
        "title": e.title,
        "pitch": e.pitch,
        "stage": e.stage.value,
        "owner_id": e.owner_id,
        "history": [_step_document(step) for step in e.history],
        "version": e.version,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def experiment_from(doc: Document) -> Experiment:
    return Experiment(
        id=doc["_id"],
        team_id=doc["team_id"],
        title=doc["title"],
        pitch=doc.get("pitch", ""),
        stage=ExperimentStage(doc["stage"]),
        owner_id=doc["owner_id"],
        history=tuple(
            StageStep(
                ExperimentStage(s["from_stage"]) if s.get("from_stage") else None,
                ExperimentStage(s["to_stage"]),
                s.get("learned"),
                s["at"],
            )
            for s in doc.get("history", [])
        ),
        version=int(doc["version"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def visible_to(viewer: Viewer) -> Document:
    """The filter twin of ``Experiment.can_see``."""
    return {"$or": [{"owner_id": viewer.user_id}, {"team_id": {"$in": sorted(viewer.team_ids)}}]}


class ExperimentRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.experiments = db["experiments"]

    async def ensure_indexes(self) -> None:
        await self.experiments.create_index([("team_id", 1), *NEWEST], name="team_newest")
        await self.experiments.create_index([("owner_id", 1), *NEWEST], name="owner_newest")

    async def add(self, experiment: Experiment, session: AsyncClientSession) -> None:
        await self.experiments.insert_one(experiment_document(experiment), session=session)

    async def get(self, experiment_id: str) -> Experiment | None:
        doc = await self.experiments.find_one({"_id": experiment_id})
        return experiment_from(doc) if doc else None

    async def replace_if_version(
        self, experiment: Experiment, expected: int, session: AsyncClientSession
    ) -> bool:
        result = await self.experiments.replace_one(
            {"_id": experiment.id, "version": expected},
            experiment_document(experiment),
            session=session,
        )
        return result.modified_count == 1

    async def page(
        self, viewer: Viewer, query: ExperimentQuery
    ) -> tuple[list[Experiment], str | None]:
        conditions: list[Document] = [visible_to(viewer)]
        if query.team:
            conditions.append({"team_id": query.team})
        if query.stage:
            conditions.append({"stage": query.stage.value})
        if query.cursor:
            conditions.append(keyset.after(query.cursor, "created_at", descending=True))
        cursor = self.experiments.find({"$and": conditions}).sort(NEWEST).limit(query.limit + 1)
        docs, next_cursor = keyset.page(await cursor.to_list(), query.limit, "created_at")
        return [experiment_from(doc) for doc in docs], next_cursor
