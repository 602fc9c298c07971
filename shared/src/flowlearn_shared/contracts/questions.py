"""Questions and answers: ask colleagues, answer, vote, accept; and search over what the
caller may see. A question's ``audience`` follows the same rules as a post's."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowlearn_shared.contracts.people import Id, PersonSummary
from flowlearn_shared.contracts.posts import Audience, Tag, normalise_tags
from flowlearn_shared.rpc import Actor

QUESTION_BODY_MAX = 20_000
ANSWER_BODY_MAX = 20_000
PAGE_LIMIT_DEFAULT = 20
PAGE_LIMIT_MAX = 100
SEARCH_MIN = 2
SEARCH_MAX = 200
SEARCH_LIMIT_DEFAULT = 20
SEARCH_LIMIT_MAX = 50
MAX_SUGGESTED_EXPERTS = 3

VoteValue = Literal[1, -1, 0]


class QuestionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=QUESTION_BODY_MAX, description="Markdown")
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    audience: Audience = Field(default="org", description="Who may see and answer it")

    _tags = field_validator("tags")(normalise_tags)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the title must not be blank")
        return value


class AnswerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=ANSWER_BODY_MAX, description="Markdown")


class VoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: VoteValue = Field(description="1 up, -1 down, 0 takes the vote back")


class AnswerPublic(BaseModel):
    id: str
    question_id: str
    author: PersonSummary
    body: str
    score: int
    my_vote: VoteValue
    accepted: bool
    is_mine: bool
    created_at: datetime


class QuestionPublic(BaseModel):
    id: str
    title: str
    body: str
    tags: list[str]
    audience: str
    asker: PersonSummary
    is_mine: bool
    answer_count: int
    accepted_answer_id: str | None
    score: int
    my_vote: VoteValue
    suggested_experts: list[PersonSummary] = Field(
        default_factory=list, description="People asked to help; shown to the asker only"
    )
    created_at: datetime
    updated_at: datetime


class QuestionDetail(QuestionPublic):
    answers: list[AnswerPublic] = Field(
        description="The accepted answer first, then by score, then oldest first"
    )


class QuestionPage(BaseModel):
    items: list[QuestionPublic]
    next_cursor: str | None


class VoteTarget(StrEnum):
    QUESTION = "question"
    ANSWER = "answer"


class VoteResult(BaseModel):
    target: VoteTarget
    id: str
    score: int
    my_vote: VoteValue


class QuestionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str | None = Field(default=None, max_length=50)
    unanswered: bool = Field(default=False, description="Only questions nobody answered yet")
    limit: int = Field(default=PAGE_LIMIT_DEFAULT, ge=1, le=PAGE_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=300)

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip().lower() or None


class SearchHitType(StrEnum):
    POST = "post"
    QUESTION = "question"
    COLLECTION = "collection"


class SearchHit(BaseModel):
    type: SearchHitType
    id: str
    title: str
    snippet: str
    created_at: datetime


class SearchResults(BaseModel):
    items: list[SearchHit] = Field(description="Newest first")


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=SEARCH_MIN, max_length=SEARCH_MAX)
    limit: int = Field(default=SEARCH_LIMIT_DEFAULT, ge=1, le=SEARCH_LIMIT_MAX)

    @field_validator("q")
    @classmethod
    def _q(cls, value: str) -> str:
        value = value.strip()
        if len(value) < SEARCH_MIN:
            raise ValueError(f"search for at least {SEARCH_MIN} characters")
        return value


# Requests from the gateway.
class AskRequest(BaseModel):
    actor: Actor
    question: QuestionCreate


class QuestionRef(BaseModel):
    actor: Actor
    question_id: Id


class ListQuestionsRequest(BaseModel):
    actor: Actor
    query: QuestionQuery


class AnswerRequest(BaseModel):
    actor: Actor
    question_id: Id
    answer: AnswerCreate


class AnswerRef(BaseModel):
    actor: Actor
    answer_id: Id


class VoteRequest(BaseModel):
    actor: Actor
    target_id: Id
    vote: VoteCreate


class SearchRequest(BaseModel):
    actor: Actor
    query: SearchQuery
