"""Posts: who may edit them, what an anonymous lesson hides, the events they raise."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from flowlearn_shared.contracts.posts import PostCreate, PostKind, PostUpdate
from flowlearn_shared.events import PostCreated, PostDeleted, PostDeletedData, PostFacts
from flowlearn_shared.idempotency import derived_id

from flowlearn_sharing.domain.audience import Audience

SOURCE = "flowlearn/sharing"


@dataclass(frozen=True)
class Post:
    id: str
    kind: PostKind
    title: str | None
    body: str
    tags: list[str]
    url: str | None
    audience: Audience
    anonymous: bool
    author_id: str
    review_by: date | None
    reaction_counts: dict[str, int]
    comment_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    source_entry_id: str | None = None
    events: list[Any] = field(default_factory=list, compare=False, repr=False)

    def facts(self) -> PostFacts:
        return PostFacts(
            post_id=self.id,
            kind=self.kind.value,
            author_id=self.author_id,
            anonymous=self.anonymous,
            audience=str(self.audience),
            tags=self.tags,
            source_entry_id=self.source_entry_id,
            review_by=self.review_by,
        )


def new_post(
    post_id: str,
    author_id: str,
    data: PostCreate,
    now: datetime,
    source_entry_id: str | None = None,
) -> Post:
    post = Post(
        id=post_id,
        kind=data.kind,
        title=data.title,
        body=data.body,
        tags=data.tags,
        url=data.url,
        audience=Audience.parse(data.audience),
        anonymous=data.anonymous,
        author_id=author_id,
        review_by=data.review_by,
        reaction_counts={},
        comment_count=0,
        version=1,
        created_at=now,
        updated_at=now,
        source_entry_id=source_entry_id,
    )
    # The subject of an anonymous post's event is the post, not its author.
    subject = post.id if post.anonymous else author_id
    # The nudge it answers is a fact of its creation only; the post does not keep it.
    facts = post.facts().model_copy(update={"nudge_id": data.nudge_id})
    post.events.append(PostCreated(source=SOURCE, subject=subject, time=now, data=facts))
    return post


# Ids of posts created with an idempotency key (see flowlearn_shared.idempotency).
IDEMPOTENT_IDS = UUID("3b0e8f54-2a6d-4c1b-8e7f-9d5a1c4b6e21")


def post_id_for_key(author_id: str, idempotency_key: str) -> str:
    return derived_id(IDEMPOTENT_IDS, author_id, idempotency_key)


def same_request(post: Post, data: PostCreate) -> bool:
    """Whether ``data`` asks for the post ``post`` was created from (a retry)."""
    return (
        post.kind == data.kind
        and post.title == data.title
        and post.body == data.body
        and post.tags == data.tags
        and post.url == data.url
        and post.audience == Audience.parse(data.audience)
        and post.anonymous == data.anonymous
        and post.review_by == data.review_by
    )


def apply_update(post: Post, changes: PostUpdate, now: datetime) -> Post:
    values: dict[str, Any] = {}
    for name in changes.model_fields_set:
        value = getattr(changes, name)
        if name == "body" and value is None:
            continue
        values[name] = [] if name == "tags" and value is None else value
    return replace(post, **values, version=post.version + 1, updated_at=now, events=[])


def deletion_event(post: Post, now: datetime) -> PostDeleted:
    subject = post.id if post.anonymous else post.author_id
    return PostDeleted(
        source=SOURCE,
        subject=subject,
        time=now,
        data=PostDeletedData(post_id=post.id, author_id=post.author_id),
    )
