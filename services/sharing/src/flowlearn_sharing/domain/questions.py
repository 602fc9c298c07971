"""Questions and answers: who may accept and vote, how votes move a score, how experts
are ranked, and the events a question raises."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flowlearn_shared.contracts.questions import MAX_SUGGESTED_EXPERTS, QuestionCreate
from flowlearn_shared.events import (
    AnswerAccepted,
    AnswerAcceptedData,
    QuestionAsked,
    QuestionAskedData,
)

from flowlearn_sharing.domain.audience import Audience

SOURCE = "flowlearn/sharing"


class NotAllowed(Exception):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    body: str
    tags: list[str]
    audience: Audience
    author_id: str
    answer_count: int
    accepted_answer_id: str | None
    score: int
    suggested_experts: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Answer:
    id: str
    question_id: str
    author_id: str
    body: str
    score: int
    accepted: bool
    created_at: datetime


def new_question(
    question_id: str, asker_id: str, data: QuestionCreate, experts: list[str], now: datetime
) -> Question:
    return Question(
        id=question_id,
        title=data.title,
        body=data.body,
        tags=data.tags,
        audience=Audience.parse(data.audience),
        author_id=asker_id,
        answer_count=0,
        accepted_answer_id=None,
        score=0,
        suggested_experts=experts[:MAX_SUGGESTED_EXPERTS],
        created_at=now,
        updated_at=now,
    )


def new_answer(
    answer_id: str, question: Question, author_id: str, body: str, now: datetime
) -> Answer:
    return Answer(
        id=answer_id,
        question_id=question.id,
        author_id=author_id,
        body=body,
        score=0,
        accepted=False,
        created_at=now,
    )


def asked_event(question: Question) -> QuestionAsked:
    return QuestionAsked(
        source=SOURCE,
        subject=question.author_id,
        time=question.created_at,
        data=QuestionAskedData(
            question_id=question.id,
            asker_id=question.author_id,
            tags=question.tags,
            audience=str(question.audience),
            suggested_experts=question.suggested_experts,
        ),
    )


def check_can_accept(question: Question, user_id: str) -> None:
    if question.author_id != user_id:
        raise NotAllowed("only the person who asked can accept an answer")


def accepted_event(question: Question, answer: Answer, now: datetime) -> AnswerAccepted:
    return AnswerAccepted(
        source=SOURCE,
        subject=answer.author_id,
        time=now,
        data=AnswerAcceptedData(
            question_id=question.id,
            answer_id=answer.id,
            asker_id=question.author_id,
            answerer_id=answer.author_id,
            tags=question.tags,
        ),
    )


def check_can_vote(author_id: str, voter_id: str) -> None:
    if author_id == voter_id:
        raise NotAllowed("you cannot vote on what you wrote")


def score_change(previous: int, new: int) -> int:
    """One vote per person per item: changing it moves the score by the difference."""
    return new - previous


@dataclass(frozen=True)
class Expertise:
    user_id: str
    accepted_answers: int
    posts: int

    @property
    def score(self) -> int:
        return self.accepted_answers + self.posts


def rank_experts(
    accepted_answers: Mapping[str, int],
    posts: Mapping[str, int],
    exclude: Iterable[str] = (),
) -> list[Expertise]:
    """Best first: accepted answers plus posts on the tags; ties go to more accepted
    answers (someone confirmed they helped), then to the user id, so the order is stable."""
    excluded = set(exclude)
    people = (set(accepted_answers) | set(posts)) - excluded
    ranked = [Expertise(u, accepted_answers.get(u, 0), posts.get(u, 0)) for u in people]
    ranked = [e for e in ranked if e.score > 0]
    ranked.sort(key=lambda e: (-e.score, -e.accepted_answers, e.user_id))
    return ranked
