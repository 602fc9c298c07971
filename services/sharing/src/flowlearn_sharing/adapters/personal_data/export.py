"""Everything the sharing service holds of one person, read for their export. Every query
names the person; what they wrote anonymously is included and marked, since it is theirs."""

from __future__ import annotations

from typing import Any

from flowlearn_shared.contracts.people import ProfilePublic
from flowlearn_shared.contracts.personal_data import (
    AnswerExport,
    CollectionExport,
    CommentExport,
    CommunityMembershipExport,
    EnrolmentExport,
    ExperimentExport,
    GatheringExport,
    KudosExport,
    PostExport,
    QuestionExport,
    ReactionExport,
    RsvpExport,
    SharingExport,
    TeamMembershipExport,
    VoteExport,
)
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters.people_repository import profile_from
from flowlearn_sharing.domain.audience import Audience

Document = dict[str, Any]
OLDEST_FIRST = [("created_at", ASCENDING), ("_id", ASCENDING)]


def audience(doc: Document) -> str:
    value = doc["audience"]
    return str(Audience(value["kind"], tuple(value.get("ids") or ())))


async def _all(
    collection: AsyncCollection[Document], query: Document, order: str = "created_at"
) -> list[Document]:
    cursor = collection.find(query).sort([(order, ASCENDING), ("_id", ASCENDING)])
    return await cursor.to_list()


def _kudos(doc: Document) -> KudosExport:
    return KudosExport(
        id=doc["_id"],
        from_id=doc["from_id"],
        to_id=doc["to_id"],
        message=doc["message"],
        strengths=doc.get("strengths", []),
        visibility=doc["visibility"],
        created_at=doc["created_at"],
    )


class SharingExportReader:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def ensure_indexes(self) -> None:
        """What the export and the erasure look up by person, beyond the existing indexes."""
        for collection, field in (
            ("comments", "author_id"),
            ("post_reactions", "user_id"),
            ("answers", "author_id"),
            ("votes", "user_id"),
            ("collections", "author_id"),
            ("gatherings", "author_id"),
            ("gathering_rsvps", "user_id"),
            ("questions", "suggested_experts"),
            ("teams", "created_by"),
            ("communities", "created_by"),
        ):
            await self.db[collection].create_index(field, name=f"personal_{field}")

    async def export(self, user_id: str) -> SharingExport:
        db = self.db
        profile = await db["profiles"].find_one({"_id": user_id})
        return SharingExport(
            profile=ProfilePublic.model_validate(profile_from(profile), from_attributes=True)
            if profile
            else None,
            teams=await self._teams(user_id),
            communities=await self._communities(user_id),
            posts=[self._post(d) for d in await _all(db["posts"], {"author_id": user_id})],
            comments=[
                CommentExport(
                    id=d["_id"], post_id=d["post_id"], body=d["body"], created_at=d["created_at"]
                )
                for d in await _all(db["comments"], {"author_id": user_id})
            ],
            reactions=[
                ReactionExport(post_id=d["post_id"], kind=d["kind"])
                for d in await _all(db["post_reactions"], {"user_id": user_id}, "post_id")
            ],
            questions=[
                QuestionExport(
                    id=d["_id"],
                    title=d["title"],
                    body=d["body"],
                    tags=d.get("tags", []),
                    audience=audience(d),
                    answer_count=int(d.get("answer_count", 0)),
                    accepted_answer_id=d.get("accepted_answer_id"),
                    score=int(d.get("score", 0)),
                    created_at=d["created_at"],
                    updated_at=d["updated_at"],
                )
                for d in await _all(db["questions"], {"author_id": user_id})
            ],
            answers=[
                AnswerExport(
                    id=d["_id"],
                    question_id=d["question_id"],
                    body=d["body"],
                    score=int(d.get("score", 0)),
                    accepted=bool(d.get("accepted")),
                    created_at=d["created_at"],
                )
                for d in await _all(db["answers"], {"author_id": user_id})
            ],
            votes=[
                VoteExport(target=d["target"], target_id=d["target_id"], value=int(d["value"]))
                for d in await _all(db["votes"], {"user_id": user_id}, "target_id")
            ],
            kudos_given=[_kudos(d) for d in await _all(db["kudos"], {"from_id": user_id})],
            kudos_received=[_kudos(d) for d in await _all(db["kudos"], {"to_id": user_id})],
            collections=[
                CollectionExport(
                    id=d["_id"],
                    title=d["title"],
                    description=d.get("description", ""),
                    tags=d.get("tags", []),
                    audience=audience(d),
                    items=list(d.get("items", [])),
                    enrolled_count=int(d.get("enrolled_count", 0)),
                    created_at=d["created_at"],
                    updated_at=d["updated_at"],
                )
                for d in await _all(db["collections"], {"author_id": user_id})
            ],
            enrolments=[
                EnrolmentExport(
                    collection_id=d["collection_id"],
                    interval_days=int(d["interval_days"]),
                    enrolled_at=d["enrolled_at"],
                )
                for d in await _all(
                    db["collection_enrollments"], {"user_id": user_id}, "enrolled_at"
                )
            ],
            gatherings_hosted=[
                GatheringExport(
                    id=d["_id"],
                    kind=d["kind"],
                    title=d["title"],
                    description=d.get("description", ""),
                    starts_at=d["starts_at"],
                    duration_minutes=int(d["duration_minutes"]),
                    capacity=int(d["capacity"]),
                    location=d.get("location"),
                    audience=audience(d),
                    going_count=int(d.get("going_count", 0)),
                    waitlist_count=int(d.get("waitlist_count", 0)),
                    created_at=d["created_at"],
                )
                for d in await _all(db["gatherings"], {"author_id": user_id})
            ],
            rsvps=[
                RsvpExport(
                    gathering_id=d["gathering_id"], status=d["status"], created_at=d["created_at"]
                )
                for d in await _all(db["gathering_rsvps"], {"user_id": user_id})
            ],
            experiments=[
                ExperimentExport(
                    id=d["_id"],
                    team_id=d["team_id"],
                    title=d["title"],
                    pitch=d.get("pitch", ""),
                    stage=d["stage"],
                    history=list(d.get("history", [])),
                    created_at=d["created_at"],
                    updated_at=d["updated_at"],
                )
                for d in await _all(db["experiments"], {"owner_id": user_id})
            ],
        )

    @staticmethod
    def _post(doc: Document) -> PostExport:
        return PostExport(
            id=doc["_id"],
            kind=doc["kind"],
            title=doc.get("title"),
            body=doc["body"],
            tags=doc.get("tags", []),
            url=doc.get("url"),
            audience=audience(doc),
            anonymous=bool(doc.get("anonymous")),
            review_by=doc.get("review_by"),
            reactions={k: v for k, v in (doc.get("reaction_counts") or {}).items() if v > 0},
            comment_count=int(doc.get("comment_count", 0)),
            source_entry_id=doc.get("source_entry_id"),
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
        )

    async def _teams(self, user_id: str) -> list[TeamMembershipExport]:
        teams = await _all(self.db["teams"], {"members.user_id": user_id})
        return [
            TeamMembershipExport(team_id=t["_id"], team_name=t["name"], role=m["role"])
            for t in teams
            for m in t.get("members", [])
            if m["user_id"] == user_id
        ]

    async def _communities(self, user_id: str) -> list[CommunityMembershipExport]:
        memberships = await _all(self.db["community_members"], {"user_id": user_id}, "joined_at")
        ids = [m["community_id"] for m in memberships]
        names = {
            doc["_id"]: doc.get("name")
            async for doc in self.db["communities"].find({"_id": {"$in": ids}}, {"name": 1})
        }
        return [
            CommunityMembershipExport(
                community_id=m["community_id"],
                community_name=names.get(m["community_id"]),
                joined_at=m.get("joined_at"),
            )
            for m in memberships
        ]
