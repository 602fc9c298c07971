"""``/v1/questions`` and ``/v1/answers``: ask colleagues, answer, vote and accept. A
question follows its audience like a post; one the caller may not see is not found."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from flowlearn_shared.contracts.people import ID_PATTERN
from flowlearn_shared.contracts.questions import (
    PAGE_LIMIT_DEFAULT,
    PAGE_LIMIT_MAX,
    AnswerCreate,
    AnswerPublic,
    AnswerRef,
    AnswerRequest,
    AskRequest,
    ListQuestionsRequest,
    QuestionCreate,
    QuestionDetail,
    QuestionPage,
    QuestionPublic,
    QuestionQuery,
    QuestionRef,
    VoteCreate,
    VoteRequest,
    VoteResult,
)
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import PROBLEM_RESPONSES, problem, problems

PREFIX = "/v1"
router = APIRouter(prefix=PREFIX, tags=["questions"], responses=PROBLEM_RESPONSES)

NO_SUCH_QUESTION = problem(404, "No such question, or not one the caller may see")
NO_SUCH_ANSWER = problem(404, "No such answer, or not one the caller may see")
LOCATION = {"description": "Path of the new question", "schema": {"type": "string"}}

QuestionId = Annotated[str, Path(pattern=ID_PATTERN, description="The question's id")]
AnswerId = Annotated[str, Path(pattern=ID_PATTERN, description="The answer's id")]


def question_location(question_id: str) -> str:
    return f"{PREFIX}/questions/{quote(question_id, safe='')}"


@router.post(
    "/questions",
    response_model=QuestionPublic,
    status_code=201,
    summary="Ask a question",
    responses={
        201: {"headers": {"Location": LOCATION}},
        **problem(403, "The caller cannot ask that audience"),
        **problems(413),
    },
)
async def ask_question(
    question: QuestionCreate, user: CurrentUser, rpc: Rpc, response: Response
) -> QuestionPublic:
    """`audience` (default `org`) is `org`, `team:<id>`, `community:<id>` or
    `people:<id>,<id>`. Up to three people who know the tags (by accepted answers and
    posts) are asked to help; the asker sees who in `suggested_experts`."""
    request = AskRequest(actor=user, question=question)
    created = await rpc.request(RpcSubject.SHARING_ASK_QUESTION, request, QuestionPublic)
    response.headers["Location"] = question_location(created.id)
    return created


@router.get(
    "/questions", response_model=QuestionPage, status_code=200, summary="Questions I may see"
)
async def list_questions(
    user: CurrentUser,
    rpc: Rpc,
    tag: Annotated[str | None, Query(min_length=1, max_length=50, description="One tag")] = None,
    unanswered: Annotated[bool, Query(description="Only questions nobody answered yet")] = False,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Page size; above {PAGE_LIMIT_MAX} is read as {PAGE_LIMIT_MAX}."),
    ] = PAGE_LIMIT_DEFAULT,
) -> QuestionPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page."""
    query = QuestionQuery(
        tag=tag, unanswered=unanswered, cursor=cursor, limit=min(limit, PAGE_LIMIT_MAX)
    )
    request = ListQuestionsRequest(actor=user, query=query)
    return await rpc.request(RpcSubject.SHARING_LIST_QUESTIONS, request, QuestionPage)


@router.get(
    "/questions/{question_id}",
    response_model=QuestionDetail,
    status_code=200,
    summary="Read a question with its answers",
    responses=NO_SUCH_QUESTION,
)
async def get_question(question_id: QuestionId, user: CurrentUser, rpc: Rpc) -> QuestionDetail:
    request = QuestionRef(actor=user, question_id=question_id)
    return await rpc.request(RpcSubject.SHARING_GET_QUESTION, request, QuestionDetail)


@router.post(
    "/questions/{question_id}/answers",
    response_model=AnswerPublic,
    status_code=201,
    summary="Answer a question",
    responses={**NO_SUCH_QUESTION, **problems(413)},
)
async def answer_question(
    question_id: QuestionId, answer: AnswerCreate, user: CurrentUser, rpc: Rpc
) -> AnswerPublic:
    request = AnswerRequest(actor=user, question_id=question_id, answer=answer)
    return await rpc.request(RpcSubject.SHARING_ANSWER_QUESTION, request, AnswerPublic)


@router.post(
    "/answers/{answer_id}/accept",
    response_model=QuestionDetail,
    status_code=200,
    summary="Accept an answer (the asker only)",
    responses={**problem(403, "Only the person who asked can accept"), **NO_SUCH_ANSWER},
)
async def accept_answer(answer_id: AnswerId, user: CurrentUser, rpc: Rpc) -> QuestionDetail:
    """A question has one accepted answer: accepting another one replaces it. Returns the
    question as it now is."""
    request = AnswerRef(actor=user, answer_id=answer_id)
    return await rpc.request(RpcSubject.SHARING_ACCEPT_ANSWER, request, QuestionDetail)


_VOTE_RESPONSES = problem(403, "Nobody votes on what they wrote")


@router.put(
    "/questions/{question_id}/vote",
    response_model=VoteResult,
    status_code=200,
    summary="Vote on a question",
    responses={**_VOTE_RESPONSES, **NO_SUCH_QUESTION},
)
async def vote_question(
    question_id: QuestionId, vote: VoteCreate, user: CurrentUser, rpc: Rpc
) -> VoteResult:
    """One vote per person: `1` up, `-1` down, `0` takes it back. Voting again replaces it."""
    request = VoteRequest(actor=user, target_id=question_id, vote=vote)
    return await rpc.request(RpcSubject.SHARING_VOTE_QUESTION, request, VoteResult)


@router.put(
    "/answers/{answer_id}/vote",
    response_model=VoteResult,
    status_code=200,
    summary="Vote on an answer",
    responses={**_VOTE_RESPONSES, **NO_SUCH_ANSWER},
)
async def vote_answer(
    answer_id: AnswerId, vote: VoteCreate, user: CurrentUser, rpc: Rpc
) -> VoteResult:
    """One vote per person: `1` up, `-1` down, `0` takes it back. Voting again replaces it."""
    request = VoteRequest(actor=user, target_id=answer_id, vote=vote)
    return await rpc.request(RpcSubject.SHARING_VOTE_ANSWER, request, VoteResult)
