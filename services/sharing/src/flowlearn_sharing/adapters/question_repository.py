"""MongoDB storage of questions, answers and votes, the visibility-scoped question list,
and the evidence of expertise (accepted answers and posts per tag)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.questions import QuestionQuery, VoteTarget
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters.post_repository import (
    NEWEST_FIRST,
    after_cursor,
    encode_cursor,
    visible_to,
)
from flowlearn_sharing.domain.audience import Audience, Viewer
from flowlearn_sharing.domain.questions import Answer, Question, score_change

Document = dict[str, Any]
Session = AsyncClientSession | None
# Expertise looks at this many of the newest pieces of evidence per kind: recent work
# says more about who can help today, and the aggregation stays bounded.
EVIDENCE_LIMIT = 5000
ANSWERS_SHOWN = 200


def question_document(question: Question) -> Document:
    return {
        "_id": question.id,
        "title": question.title,
        "body": question.body,
        "tags": question.tags,
        "audience": {"kind": question.audience.kind, "ids": list(question.audience.ids)},
        # Named like a post's author so one visibility filter serves posts and questions.
        "author_id": question.author_id,
        "answer_count": question.answer_count,
        "accepted_answer_id": question.accepted_answer_id,
        "score": question.score,
        "suggested_experts": question.suggested_experts,
        "created_at": question.created_at,
        "updated_at": question.updated_at,
    }


def question_from(doc: Document) -> Question:
    audience = doc["audience"]
    return Question(
        id=doc["_id"],
        title=doc["title"],
        body=doc["body"],
        tags=list(doc.get("tags", [])),
        audience=Audience(audience["kind"], tuple(audience.get("ids", []))),
        author_id=doc["author_id"],
        answer_count=int(doc.get("answer_count", 0)),
        accepted_answer_id=doc.get("accepted_answer_id"),
        score=int(doc.get("score", 0)),
        suggested_experts=list(doc.get("suggested_experts", [])),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def answer_document(answer: Answer, question: Question) -> Document:
    return {
        "_id": answer.id,
        "question_id": answer.question_id,
        "author_id": answer.author_id,
        "body": answer.body,
        "score": answer.score,
        "accepted": answer.accepted,
        # Copied from the question (which never changes them) so expertise can be counted,
        # and scoped to what the asker may see, without a join.
        "tags": question.tags,
        "audience": {"kind": question.audience.kind, "ids": list(question.audience.ids)},
        "created_at": answer.created_at,
    }


def answer_from(doc: Document) -> Answer:
    return Answer(
        id=doc["_id"],
        question_id=doc["question_id"],
        author_id=doc["author_id"],
        body=doc["body"],
        score=int(doc.get("score", 0)),
        accepted=bool(doc.get("accepted")),
        created_at=doc["created_at"],
    )


def vote_id(target: VoteTarget, target_id: str, user_id: str) -> str:
    return f"{target.value}:{target_id}:{user_id}"


class QuestionRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.questions = db["questions"]
        self.answers = db["answers"]
        self.votes = db["votes"]
        self.posts = db["posts"]

    async def ensure_indexes(self) -> None:
        await self.questions.create_index(NEWEST_FIRST, name="newest")
        await self.questions.create_index(
            [("audience.kind", 1), ("audience.ids", 1), *NEWEST_FIRST], name="audience_newest"
        )
        await self.questions.create_index([("author_id", 1), *NEWEST_FIRST], name="author_newest")
        await self.questions.create_index([("tags", 1), *NEWEST_FIRST], name="tags_newest")
        await self.questions.create_index(
            [("answer_count", 1), *NEWEST_FIRST], name="unanswered_newest"
        )
        await self.answers.create_index(
            [("question_id", ASCENDING), ("created_at", ASCENDING)], name="question_time"
        )
        await self.answers.create_index(
            [("accepted", ASCENDING), ("tags", ASCENDING), *NEWEST_FIRST], name="accepted_tags"
        )

    # Questions
    async def add_question(self, question: Question, session: AsyncClientSession) -> None:
        await self.questions.insert_one(question_document(question), session=session)

    async def get_question(self, question_id: str, session: Session = None) -> Question | None:
        doc = await self.questions.find_one({"_id": question_id}, session=session)
        return question_from(doc) if doc else None

    async def list_questions(
        self, viewer: Viewer, query: QuestionQuery
    ) -> tuple[list[Question], str | None]:
        """Raises ``BadCursor`` for a cursor this API did not hand out."""
        conditions: list[Document] = [visible_to(viewer)]
        if query.tag:
            conditions.append({"tags": query.tag})
        if query.unanswered:
            conditions.append({"answer_count": 0})
        if query.cursor:
            conditions.append(after_cursor(query.cursor))
        cursor = self.questions.find({"$and": conditions}).sort(NEWEST_FIRST)
        items = [question_from(doc) async for doc in cursor.limit(query.limit + 1)]
        more = len(items) > query.limit
        items = items[: query.limit]
        last = items[-1] if items else None
        return items, encode_cursor(last.created_at, last.id) if more and last else None

    # Answers
    async def add_answer(
        self, answer: Answer, question: Question, session: AsyncClientSession
    ) -> None:
        await self.answers.insert_one(answer_document(answer, question), session=session)
        await self.questions.update_one(
            {"_id": question.id},
            {"$inc": {"answer_count": 1}, "$set": {"updated_at": answer.created_at}},
            session=session,
        )

    async def get_answer(self, answer_id: str, session: Session = None) -> Answer | None:
        doc = await self.answers.find_one({"_id": answer_id}, session=session)
        return answer_from(doc) if doc else None

    async def answers_of(self, question_id: str) -> list[Answer]:
        cursor = (
            self.answers.find({"question_id": question_id})
            .sort([("accepted", DESCENDING), ("score", DESCENDING), ("created_at", ASCENDING)])
            .limit(ANSWERS_SHOWN)
        )
        return [answer_from(doc) async for doc in cursor]

    async def accept(
        self, question: Question, answer: Answer, now: datetime, session: AsyncClientSession
    ) -> None:
        """One accepted answer per question: accepting another one replaces it."""
        if question.accepted_answer_id:
            await self.answers.update_one(
                {"_id": question.accepted_answer_id}, {"$set": {"accepted": False}}, session=session
            )
        await self.answers.update_one(
            {"_id": answer.id}, {"$set": {"accepted": True}}, session=session
        )
        await self.questions.update_one(
            {"_id": question.id},
            {"$set": {"accepted_answer_id": answer.id, "updated_at": now}},
            session=session,
        )

    # Votes
    def _scored(self, target: VoteTarget) -> AsyncCollection[Document]:
        return self.questions if target == VoteTarget.QUESTION else self.answers

    async def vote(
        self,
        target: VoteTarget,
        target_id: str,
        user_id: str,
        value: int,
        session: AsyncClientSession,
    ) -> int:
        """Record the person's one vote on the item and return the item's new score."""
        key = {"_id": vote_id(target, target_id, user_id)}
        existing = await self.votes.find_one(key, session=session)
        previous = int(existing["value"]) if existing else 0
        if value == 0:
            await self.votes.delete_one(key, session=session)
        else:
            await self.votes.replace_one(
                key,
                {
                    **key,
                    "target": target.value,
                    "target_id": target_id,
                    "user_id": user_id,
                    "value": value,
                },
                upsert=True,
                session=session,
            )
        doc = await self._scored(target).find_one_and_update(
            {"_id": target_id},
            {"$inc": {"score": score_change(previous, value)}},
            projection={"score": 1},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return int(doc["score"]) if doc else 0

    async def my_votes(self, user_id: str, target: VoteTarget, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        keys = [vote_id(target, i, user_id) for i in ids]
        cursor = self.votes.find({"_id": {"$in": keys}})
        return {doc["target_id"]: int(doc["value"]) async for doc in cursor}

    # Expertise
    async def accepted_answers_by_author(self, tags: list[str], seen_by: Viewer) -> Counter[str]:
        """Accepted answers on questions with any of ``tags`` that ``seen_by`` may see. An
        erased person's answers kept anonymously never count: nobody is behind them."""
        match = {
            "accepted": True,
            "tags": {"$in": tags},
            "anonymous": {"$ne": True},
            **visible_to(seen_by),
        }
        return await self._count_by_author(self.answers, match)

    async def posts_by_author(self, tags: list[str], seen_by: Viewer) -> Counter[str]:
        """Posts with any of ``tags`` that ``seen_by`` may see. Anonymous posts never count:
        ranking someone by them would point at who wrote them."""
        match = {"tags": {"$in": tags}, "anonymous": {"$ne": True}, **visible_to(seen_by)}
        return await self._count_by_author(self.posts, match)

    async def _count_by_author(
        self, collection: AsyncCollection[Document], match: Document
    ) -> Counter[str]:
        pipeline: list[Document] = [
            {"$match": match},
            {"$sort": dict(NEWEST_FIRST)},
            {"$limit": EVIDENCE_LIMIT},
            {"$group": {"_id": "$author_id", "n": {"$sum": 1}}},
        ]
        cursor = await collection.aggregate(pipeline)
        return Counter({doc["_id"]: int(doc["n"]) async for doc in cursor})
