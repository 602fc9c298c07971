"""Q&A use cases. A question follows its audience like a post does: whoever may not see it
gets 404 for it, its answers and its votes. Asking suggests up to three experts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from flowlearn_shared.contracts.people import PersonSummary
from flowlearn_shared.contracts.questions import (
    MAX_SUGGESTED_EXPERTS,
    AnswerPublic,
    AnswerRef,
    AnswerRequest,
    AskRequest,
    ListQuestionsRequest,
    QuestionDetail,
    QuestionPage,
    QuestionPublic,
    QuestionRef,
    VoteRequest,
    VoteResult,
    VoteTarget,
    VoteValue,
)
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import Actor, Forbidden, NotFound, ServiceError
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.adapters.post_repository import BadCursor
from flowlearn_sharing.adapters.question_repository import QuestionRepository
from flowlearn_sharing.domain import questions as rules
from flowlearn_sharing.domain.audience import Audience, AudienceNotAllowed, Viewer
from flowlearn_sharing.domain.questions import Answer, NotAllowed, Question
from flowlearn_sharing.service_layer.people import PeopleService

Clock = Callable[[], datetime]
# How many of the best-ranked people are checked for being able to see the question.
EXPERT_CANDIDATES = 20


def _vote(value: int) -> VoteValue:
    return 1 if value > 0 else -1 if value < 0 else 0


class QuestionService:
    def __init__(
        self,
        questions: QuestionRepository,
        people: PeopleRepository,
        directory: PeopleService,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self.questions = questions
        self.people = people
        self.directory = directory
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def viewer(self, actor: Actor) -> Viewer:
        return await self.people.viewer(actor.user_id, actor.roles)

    # Presenting
    async def present(self, viewer: Viewer, items: list[Question]) -> list[QuestionPublic]:
        mine = [q for q in items if q.author_id == viewer.user_id]
        names = await self.people.display_names(
            {q.author_id for q in items} | {u for q in mine for u in q.suggested_experts}
        )
        votes = await self.questions.my_votes(
            viewer.user_id, VoteTarget.QUESTION, [q.id for q in items]
        )
        return [
            QuestionPublic(
                id=q.id,
                title=q.title,
                body=q.body,
                tags=q.tags,
                audience=str(q.audience),
                asker=PersonSummary(user_id=q.author_id, display_name=names[q.author_id]),
                is_mine=q.author_id == viewer.user_id,
                answer_count=q.answer_count,
                accepted_answer_id=q.accepted_answer_id,
                score=q.score,
                my_vote=_vote(votes.get(q.id, 0)),
                suggested_experts=[
                    PersonSummary(user_id=u, display_name=names[u]) for u in q.suggested_experts
                ]
                if q.author_id == viewer.user_id
                else [],
                created_at=q.created_at,
                updated_at=q.updated_at,
            )
            for q in items
        ]

    async def present_answers(self, viewer: Viewer, items: list[Answer]) -> list[AnswerPublic]:
        names = await self.people.display_names({a.author_id for a in items})
        votes = await self.questions.my_votes(
            viewer.user_id, VoteTarget.ANSWER, [a.id for a in items]
        )
        return [
            AnswerPublic(
                id=a.id,
                question_id=a.question_id,
                author=PersonSummary(user_id=a.author_id, display_name=names[a.author_id]),
                body=a.body,
                score=a.score,
                my_vote=_vote(votes.get(a.id, 0)),
                accepted=a.accepted,
                is_mine=a.author_id == viewer.user_id,
                created_at=a.created_at,
            )
            for a in items
        ]

    async def detail(self, viewer: Viewer, question: Question) -> QuestionDetail:
        [public] = await self.present(viewer, [question])
        answers = await self.present_answers(viewer, await self.questions.answers_of(question.id))
        return QuestionDetail(**public.model_dump(), answers=answers)

    # Reading
    async def _visible(self, viewer: Viewer, question_id: str) -> Question:
        question = await self.questions.get_question(question_id)
        if question is None or not viewer.can_see(question.audience, question.author_id):
            raise NotFound("no such question")
        return question

    async def _visible_answer(self, viewer: Viewer, answer_id: str) -> tuple[Question, Answer]:
        answer = await self.questions.get_answer(answer_id)
        if answer is None:
            raise NotFound("no such answer")
        try:
            return await self._visible(viewer, answer.question_id), answer
        except NotFound:
            raise NotFound("no such answer") from None

    async def get(self, request: QuestionRef) -> QuestionDetail:
        viewer = await self.viewer(request.actor)
        return await self.detail(viewer, await self._visible(viewer, request.question_id))

    async def list_questions(self, request: ListQuestionsRequest) -> QuestionPage:
        viewer = await self.viewer(request.actor)
        try:
            items, next_cursor = await self.questions.list_questions(viewer, request.query)
        except BadCursor as exc:
            raise ServiceError(str(exc)) from exc
        return QuestionPage(items=await self.present(viewer, items), next_cursor=next_cursor)

    # Asking and answering
    async def suggest_experts(
        self, asker: Viewer, tags: list[str], audience: Audience
    ) -> list[str]:
        """Up to three people, best first, ranked on evidence the asker may see, and only
        people who may see the question themselves; never the asker."""
        if not tags:
            return []
        accepted = await self.questions.accepted_answers_by_author(tags, asker)
        posts = await self.questions.posts_by_author(tags, asker)
        ranked = rules.rank_experts(accepted, posts, exclude={asker.user_id})
        chosen: list[str] = []
        for expertise in ranked[:EXPERT_CANDIDATES]:
            candidate = await self.people.viewer(expertise.user_id, [])
            if candidate.can_see(audience, asker.user_id):
                chosen.append(expertise.user_id)
            if len(chosen) == MAX_SUGGESTED_EXPERTS:
                break
        return chosen

    async def ask(self, request: AskRequest) -> QuestionPublic:
        await self.directory.ensure_profile(request.actor)
        viewer = await self.viewer(request.actor)
        audience = Audience.parse(request.question.audience)
        try:
            viewer.check_can_address(audience)
        except AudienceNotAllowed as exc:
            raise Forbidden(str(exc)) from exc
        experts = await self.suggest_experts(viewer, request.question.tags, audience)
        question = rules.new_question(
            str(uuid4()), viewer.user_id, request.question, experts, self.clock()
        )

        async def work(session: AsyncClientSession) -> None:
            await self.questions.add_question(question, session)
            await self.outbox.add(rules.asked_event(question), session)

        await self.uow.run(work)
        [public] = await self.present(viewer, [question])
        return public

    async def answer(self, request: AnswerRequest) -> AnswerPublic:
        await self.directory.ensure_profile(request.actor)
        viewer = await self.viewer(request.actor)
        question = await self._visible(viewer, request.question_id)
        answer = rules.new_answer(
            str(uuid4()), question, viewer.user_id, request.answer.body, self.clock()
        )

        async def work(session: AsyncClientSession) -> None:
            await self.questions.add_answer(answer, question, session)

        await self.uow.run(work)
        [public] = await self.present_answers(viewer, [answer])
        return public

    async def accept(self, request: AnswerRef) -> QuestionDetail:
        viewer = await self.viewer(request.actor)
        question, answer = await self._visible_answer(viewer, request.answer_id)
        try:
            rules.check_can_accept(question, viewer.user_id)
        except NotAllowed as exc:
            raise Forbidden(str(exc)) from exc

        async def work(session: AsyncClientSession) -> None:
            # Read again inside the transaction: a concurrent accept may have replaced it.
            current = await self.questions.get_question(question.id, session)
            if current is None:
                raise NotFound("no such question")
            if current.accepted_answer_id == answer.id:
                return  # accepting twice is one acceptance, and one event
            now = self.clock()
            await self.questions.accept(current, answer, now, session)
            await self.outbox.add(rules.accepted_event(current, answer, now), session)

        await self.uow.run(work)
        return await self.detail(viewer, await self._visible(viewer, question.id))

    # Voting
    async def _vote(
        self, viewer: Viewer, target: VoteTarget, target_id: str, author_id: str, value: int
    ) -> VoteResult:
        try:
            rules.check_can_vote(author_id, viewer.user_id)
        except NotAllowed as exc:
            raise Forbidden(str(exc)) from exc

        async def work(session: AsyncClientSession) -> int:
            return await self.questions.vote(target, target_id, viewer.user_id, value, session)

        score = await self.uow.run(work)
        return VoteResult(target=target, id=target_id, score=score, my_vote=_vote(value))

    async def vote_question(self, request: VoteRequest) -> VoteResult:
        viewer = await self.viewer(request.actor)
        question = await self._visible(viewer, request.target_id)
        return await self._vote(
            viewer, VoteTarget.QUESTION, question.id, question.author_id, request.vote.value
        )

    async def vote_answer(self, request: VoteRequest) -> VoteResult:
        viewer = await self.viewer(request.actor)
        _, answer = await self._visible_answer(viewer, request.target_id)
        return await self._vote(
            viewer, VoteTarget.ANSWER, answer.id, answer.author_id, request.vote.value
        )
