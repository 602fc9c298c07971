"""Knowledge sharing: posts (tips, lessons, gems, reflections, experiments), reactions,
comments and the feed. ``audience`` decides who may ever see a post."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from flowlearn_shared.contracts.people import Id, PersonSummary
from flowlearn_shared.idempotency import IDEMPOTENCY_KEY_PATTERN
from flowlearn_shared.rpc import Actor

POST_BODY_MAX = 20_000
PAGE_LIMIT_MAX = 100
AUDIENCE_PATTERN = re.compile(
    r"^(org|team:[A-Za-z0-9_.@:-]{1,100}|community:[A-Za-z0-9_.@:-]{1,100}"
    r"|people:[A-Za-z0-9_.@-]{1,100}(,[A-Za-z0-9_.@-]{1,100}){0,49})$"
)


def _audience(value: str) -> str:
    value = value.strip()
    if not AUDIENCE_PATTERN.fullmatch(value):
        raise ValueError(
            "audience must be 'org', 'team:<id>', 'community:<id>' or 'people:<id>,<id>'"
        )
    return value


Audience = Annotated[str, AfterValidator(_audience)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]


def normalise_tags(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip().lower() for v in values if v.strip()))


class PostKind(StrEnum):
    TIP = "tip"
    LESSON = "lesson"
    GEM = "gem"
    REFLECTION = "reflection"
    EXPERIMENT = "experiment"


class ReactionKind(StrEnum):
    LIKE = "like"
    INSIGHTFUL = "insightful"
    CELEBRATE = "celebrate"
    THANKS = "thanks"


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: PostKind
    title: str | None = Field(default=None, max_length=200)
    body: str = Field(min_length=1, max_length=POST_BODY_MAX, description="Markdown")
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    audience: Audience
    anonymous: bool = Field(default=False, description="Lessons only: hide the author")
    review_by: date | None = Field(default=None, description="When the owner should re-verify")
    nudge_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The nudge this post answers; it is then marked acted",
    )

    _tags = field_validator("tags")(normalise_tags)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.anonymous and self.kind != PostKind.LESSON:
            raise ValueError("only lessons can be shared anonymously")
        if self.kind == PostKind.GEM and not self.url:
            raise ValueError("a gem needs the url it points to")
        return self


class PostUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=POST_BODY_MAX)
    tags: list[Tag] | None = Field(default=None, max_length=20)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    review_by: date | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else normalise_tags(values)


class PostPublic(BaseModel):
    id: str
    kind: PostKind
    title: str | None
    body: str
    tags: list[str]
    url: str | None
    audience: str
    anonymous: bool
    author: PersonSummary | None = Field(description="null when the post is anonymous")
    is_mine: bool
    review_by: date | None
    reactions: dict[str, int]
    my_reactions: list[ReactionKind]
    comment_count: int
    version: int
    created_at: datetime
    updated_at: datetime


class PostPage(BaseModel):
    items: list[PostPublic]
    next_cursor: str | None


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)


class CommentPublic(BaseModel):
    id: str
    post_id: str
    author: PersonSummary | None = Field(
        description="null when the post is anonymous and its author wrote the comment"
    )
    body: str
    created_at: datetime


class CommentList(BaseModel):
    items: list[CommentPublic]


class FeedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str | None = Field(default=None, max_length=50)
    community: Id | None = None
    kind: PostKind | None = None
    limit: int = Field(default=20, ge=1, le=PAGE_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=300)


# Requests from the gateway.
class CreatePostRequest(BaseModel):
    actor: Actor
    post: PostCreate
    idempotency_key: str | None = Field(default=None, pattern=IDEMPOTENCY_KEY_PATTERN)


class PostRef(BaseModel):
    actor: Actor
    post_id: Id


class UpdatePostRequest(BaseModel):
    actor: Actor
    post_id: Id
    changes: PostUpdate
    if_match_version: int | None = None


class ReactRequest(BaseModel):
    actor: Actor
    post_id: Id
    reaction: ReactionKind
    on: bool = True


class CommentRequest(BaseModel):
    actor: Actor
    post_id: Id
    comment: CommentCreate


class FeedRequest(BaseModel):
    actor: Actor
    query: FeedQuery


class CheckAudienceRequest(BaseModel):
    """May the actor address this audience (share with it)? A 403 problem when not."""

    actor: Actor
    audience: Audience


class AudienceCheck(BaseModel):
    allowed: bool
