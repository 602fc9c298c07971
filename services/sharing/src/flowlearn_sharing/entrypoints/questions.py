"""Request/reply for Q&A and search, and the Q&A events the sharing service publishes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from flowlearn_shared.contracts import questions as q
from flowlearn_shared.events import AnswerAccepted, QuestionAsked
from flowlearn_shared.rpc_server import serve
from flowlearn_shared.subjects import EventSubject, RpcSubject
from pydantic import BaseModel

from flowlearn_sharing.service_layer.questions import QuestionService
from flowlearn_sharing.service_layer.search import SearchService

QUEUE = "sharing"
UseCase = Callable[[Any], Awaitable[Any]]

PUBLISHED_EVENTS: dict[EventSubject, type[BaseModel]] = {
    EventSubject.QUESTION_ASKED: QuestionAsked,
    EventSubject.ANSWER_ACCEPTED: AnswerAccepted,
}


def register(broker: NatsBroker, questions: QuestionService, search: SearchService) -> None:
    routes: list[tuple[RpcSubject, type[BaseModel], UseCase]] = [
        (RpcSubject.SHARING_ASK_QUESTION, q.AskRequest, questions.ask),
        (RpcSubject.SHARING_GET_QUESTION, q.QuestionRef, questions.get),
        (RpcSubject.SHARING_LIST_QUESTIONS, q.ListQuestionsRequest, questions.list_questions),
        (RpcSubject.SHARING_ANSWER_QUESTION, q.AnswerRequest, questions.answer),
        (RpcSubject.SHARING_ACCEPT_ANSWER, q.AnswerRef, questions.accept),
        (RpcSubject.SHARING_VOTE_QUESTION, q.VoteRequest, questions.vote_question),
        (RpcSubject.SHARING_VOTE_ANSWER, q.VoteRequest, questions.vote_answer),
        (RpcSubject.SHARING_SEARCH, q.SearchRequest, search.search),
    ]
    for subject, model, use_case in routes:
        serve(broker, subject, model, use_case, queue=QUEUE)

    for event_subject, event in PUBLISHED_EVENTS.items():
        broker.publisher(
            event_subject,
            schema=event,
            title=f"sharing:{event_subject}",
            description="Published through the sharing service's outbox on FLOW_EVENTS.",
        )
