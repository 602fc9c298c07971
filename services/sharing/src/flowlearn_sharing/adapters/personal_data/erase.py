"""Erasing one person from the sharing service's database.

Every step can run again without effect: a redelivered erasure request repeats them all
and finds nothing left to do. A step that also changes a count kept on another document
(a post's reactions and comments, a question's answers, a vote's score, a collection's
enrolments, a community's members, a gathering's seats) works one item at a time, each
in its own transaction, so the count moves exactly once per item removed.

What the person wrote for others (posts, questions, answers, kudos given, collections,
gatherings hosted, experiments) is deleted, or kept under the tombstone ``ERASED_PERSON``
(posts, questions and answers also marked anonymous), as they chose. Everything else
(profile, memberships, comments, reactions, votes, RSVPs, enrolments) is deleted. Kudos
they received stay with the person who gave them, addressed to the tombstone and private.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.personal_data import ERASED_PERSON, ERASED_PERSON_NAME
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from flowlearn_sharing.adapters.gathering_repository import GatheringRepository
from flowlearn_sharing.adapters.people_repository import PeopleRepository, profile_document
from flowlearn_sharing.domain.people import new_profile

Document = dict[str, Any]
Step = Callable[[AsyncClientSession], Awaitable[bool]]
ANONYMOUS = {"author_id": ERASED_PERSON, "anonymous": True}


class SharingEraser:
    def __init__(self, db: AsyncDatabase[Document], uow: UnitOfWork) -> None:
        self.db = db
        self.uow = uow
        self.people = PeopleRepository(db)
        self.gatherings = GatheringRepository(db)

    async def erase(self, user_id: str, delete_authored: bool, now: datetime) -> dict[str, int]:
        counts = {
            "votes": await self._votes(user_id),
            "reactions": await self._reactions(user_id),
            "comments": await self._comments(user_id),
            "posts": await self._posts(user_id, delete_authored, now),
            "answers": await self._answers(user_id, delete_authored),
            "questions": await self._questions(user_id, delete_authored),
            "kudos": await self._kudos(user_id, delete_authored),
            "enrolments": await self._enrolments(user_id),
            "collections": await self._owned("collections", user_id, delete_authored),
            "rsvps": await self._rsvps(user_id),
            "gatherings": await self._gatherings(user_id, delete_authored),
            "experiments": await self._owned("experiments", user_id, delete_authored, "owner_id"),
            "memberships": await self._memberships(user_id),
        }
        counts["profile"] = (await self.db["profiles"].delete_one({"_id": user_id})).deleted_count
        await self._ensure_tombstone(now)
        return counts

    async def _each(self, docs: list[Document], step: Callable[[Document], Step]) -> int:
        done = 0
        for doc in docs:
            done += bool(await self.uow.run(step(doc)))
        return done

    async def _find(self, collection: str, query: Document) -> list[Document]:
        return await self.db[collection].find(query).to_list()

    # Traces on other people's work ------------------------------------------------------------

    async def _votes(self, user_id: str) -> int:
        def step(vote: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                gone = await self.db["votes"].delete_one({"_id": vote["_id"]}, session=session)
                if not gone.deleted_count:
                    return False
                scored = "questions" if vote["target"] == "question" else "answers"
                await self.db[scored].update_one(
                    {"_id": vote["target_id"]},
                    {"$inc": {"score": -int(vote["value"])}},
                    session=session,
                )
                return True

            return work

        return await self._each(await self._find("votes", {"user_id": user_id}), step)

    async def _reactions(self, user_id: str) -> int:
        def step(reaction: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                gone = await self.db["post_reactions"].delete_one(
                    {"_id": reaction["_id"]}, session=session
                )
                if not gone.deleted_count:
                    return False
                await self.db["posts"].update_one(
                    {"_id": reaction["post_id"]},
                    {"$inc": {f"reaction_counts.{reaction['kind']}": -1}},
                    session=session,
                )
                return True

            return work

        return await self._each(await self._find("post_reactions", {"user_id": user_id}), step)

    async def _comments(self, user_id: str) -> int:
        def step(comment: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                gone = await self.db["comments"].delete_one(
                    {"_id": comment["_id"]}, session=session
                )
                if not gone.deleted_count:
                    return False
                await self.db["posts"].update_one(
                    {"_id": comment["post_id"]}, {"$inc": {"comment_count": -1}}, session=session
                )
                return True

            return work

        return await self._each(await self._find("comments", {"author_id": user_id}), step)

    # What the person wrote for others -----------------------------------------------------------

    async def _posts(self, user_id: str, delete: bool, now: datetime) -> int:
        posts = self.db["posts"]
        if not delete:
            # No review nudge and no link to a journal entry: both would lead back to them.
            kept = await posts.update_many(
                {"author_id": user_id},
                {
                    "$set": {
                        **ANONYMOUS,
                        "source_entry_id": None,
                        "review_by": None,
                        "review_due_on": None,
                        "updated_at": now,
                    },
                    "$inc": {"version": 1},
                },
            )
            return kept.modified_count

        def step(post: Document) -> Step:
            # A post goes with its reactions and comments in one transaction: none is left
            # behind, even one written while it goes.
            async def work(session: AsyncClientSession) -> bool:
                children = {"post_id": post["_id"]}
                await self.db["post_reactions"].delete_many(children, session=session)
                await self.db["comments"].delete_many(children, session=session)
                gone = await posts.delete_one({"_id": post["_id"]}, session=session)
                return bool(gone.deleted_count)

            return work

        ids = await posts.distinct("_id", {"author_id": user_id})
        return await self._each([{"_id": post_id} for post_id in ids], step)

    async def _answers(self, user_id: str, delete: bool) -> int:
        answers = self.db["answers"]
        if not delete:
            kept = await answers.update_many({"author_id": user_id}, {"$set": ANONYMOUS})
            return kept.modified_count

        def step(answer: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                await self.db["votes"].delete_many(
                    {"target": "answer", "target_id": answer["_id"]}, session=session
                )
                gone = await answers.delete_one({"_id": answer["_id"]}, session=session)
                if not gone.deleted_count:
                    return False
                question = {"_id": answer["question_id"]}
                await self.db["questions"].update_one(
                    question, {"$inc": {"answer_count": -1}}, session=session
                )
                await self.db["questions"].update_one(
                    {**question, "accepted_answer_id": answer["_id"]},
                    {"$set": {"accepted_answer_id": None}},
                    session=session,
                )
                return True

            return work

        return await self._each(await self._find("answers", {"author_id": user_id}), step)

    async def _questions(self, user_id: str, delete: bool) -> int:
        questions = self.db["questions"]
        # The person is no longer suggested as an expert on anyone's question.
        await questions.update_many(
            {"suggested_experts": user_id}, {"$pull": {"suggested_experts": user_id}}
        )
        if not delete:
            kept = await questions.update_many(
                {"author_id": user_id}, {"$set": {**ANONYMOUS, "suggested_experts": []}}
            )
            return kept.modified_count

        def step(question: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                answer_ids = await self.db["answers"].distinct(
                    "_id", {"question_id": question["_id"]}, session=session
                )
                await self.db["votes"].delete_many(
                    {
                        "$or": [
                            {"target": "question", "target_id": question["_id"]},
                            {"target": "answer", "target_id": {"$in": answer_ids}},
                        ]
                    },
                    session=session,
                )
                await self.db["answers"].delete_many(
                    {"question_id": question["_id"]}, session=session
                )
                gone = await questions.delete_one({"_id": question["_id"]}, session=session)
                return bool(gone.deleted_count)

            return work

        return await self._each(await self._find("questions", {"author_id": user_id}), step)

    async def _kudos(self, user_id: str, delete: bool) -> int:
        kudos = self.db["kudos"]
        # Received: the giver keeps their own words, to nobody they can name, privately.
        received = await kudos.update_many(
            {"to_id": user_id},
            {"$set": {"to_id": ERASED_PERSON, "visibility": "private", "team_ids": []}},
        )
        if delete:
            given = (await kudos.delete_many({"from_id": user_id})).deleted_count
        else:
            kept = await kudos.update_many(
                {"from_id": user_id}, {"$set": {"from_id": ERASED_PERSON}}
            )
            given = kept.modified_count
        return received.modified_count + given

    async def _owned(
        self, collection: str, user_id: str, delete: bool, field: str = "author_id"
    ) -> int:
        """Collections (and their enrolments) or experiments: deleted, or the tombstone's."""
        if not delete:
            kept = await self.db[collection].update_many(
                {field: user_id}, {"$set": {field: ERASED_PERSON}}
            )
            return kept.modified_count
        ids = await self.db[collection].distinct("_id", {field: user_id})
        if collection == "collections":
            await self.db["collection_enrollments"].delete_many({"collection_id": {"$in": ids}})
        return (await self.db[collection].delete_many({"_id": {"$in": ids}})).deleted_count

    async def _gatherings(self, user_id: str, delete: bool) -> int:
        if not delete:
            return await self._owned("gatherings", user_id, delete)
        ids = await self.db["gatherings"].distinct("_id", {"author_id": user_id})
        await self.db["gathering_rsvps"].delete_many({"gathering_id": {"$in": ids}})
        return (await self.db["gatherings"].delete_many({"_id": {"$in": ids}})).deleted_count

    # The person's own places ------------------------------------------------------------------

    async def _enrolments(self, user_id: str) -> int:
        def step(enrolment: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                gone = await self.db["collection_enrollments"].delete_one(
                    {"_id": enrolment["_id"]}, session=session
                )
                if not gone.deleted_count:
                    return False
                await self.db["collections"].update_one(
                    {"_id": enrolment["collection_id"]},
                    {"$inc": {"enrolled_count": -1}},
                    session=session,
                )
                return True

            return work

        found = await self._find("collection_enrollments", {"user_id": user_id})
        return await self._each(found, step)

    async def _rsvps(self, user_id: str) -> int:
        """Each seat is freed as a cancellation frees it: the first on the waitlist gets it."""

        def step(rsvp: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                current = await self.gatherings.rsvp_of(rsvp["gathering_id"], user_id, session)
                if current is None:
                    return False
                await self.gatherings.give_up_place(current, session)
                return True

            return work

        return await self._each(await self._find("gathering_rsvps", {"user_id": user_id}), step)

    async def _memberships(self, user_id: str) -> int:
        teams = self.db["teams"]
        left = await teams.update_many(
            {"members.user_id": user_id}, {"$pull": {"members": {"user_id": user_id}}}
        )
        await teams.update_many({"created_by": user_id}, {"$set": {"created_by": ERASED_PERSON}})
        communities = self.db["communities"]
        await communities.update_many(
            {"created_by": user_id}, {"$set": {"created_by": ERASED_PERSON}}
        )

        def step(membership: Document) -> Step:
            async def work(session: AsyncClientSession) -> bool:
                return await self.people.leave(membership["community_id"], user_id, session)

            return work

        found = await self._find("community_members", {"user_id": user_id})
        return left.modified_count + await self._each(found, step)

    async def _ensure_tombstone(self, now: datetime) -> None:
        """A profile for the tombstone, so whatever shows an author shows 'Erased person'."""
        doc = profile_document(new_profile(ERASED_PERSON, ERASED_PERSON_NAME, "UTC", [], now))
        doc.pop("_id")
        await self.db["profiles"].update_one(
            {"_id": ERASED_PERSON}, {"$setOnInsert": doc}, upsert=True
        )
