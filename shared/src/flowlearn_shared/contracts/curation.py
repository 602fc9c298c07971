"""Curated collections: an ordered list of links and posts a curator put together. People
enroll and get one item per chosen interval as a micro-learning nudge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowlearn_shared.contracts.people import Id, PersonSummary
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX, Audience, PostKind, normalise_tags
from flowlearn_shared.rpc import Actor

COLLECTION_ITEMS_MAX = 200


class LinkItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["link"] = "link"
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2000, pattern=r"^https?://")
    note: str | None = Field(default=None, max_length=2000, description="Markdown")


class PostItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["post"] = "post"
    post_id: Id
    note: str | None = Field(default=None, max_length=2000, description="Markdown")


ItemCreate = Annotated[LinkItemCreate | PostItemCreate, Field(discriminator="type")]


class CollectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000, description="Markdown")
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )
    audience: Audience
    items: list[ItemCreate] = Field(default_factory=list, max_length=COLLECTION_ITEMS_MAX)

    _tags = field_validator("tags")(normalise_tags)


class CollectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        default=None, max_length=20
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else normalise_tags(values)


class ItemPosition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: ItemCreate
    position: int | None = Field(
        default=None, ge=0, description="0-based place in the list; the end when left out"
    )


class ItemOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[Id] = Field(
        max_length=COLLECTION_ITEMS_MAX, description="Every item id of the collection, once"
    )


class Enrollment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_days: int = Field(default=1, ge=1, le=30, description="One item every N days")


class ItemPublic(BaseModel):
    id: str
    type: Literal["link", "post"]
    title: str | None = Field(description="For a post: its title, when the reader may see it")
    url: str | None
    note: str | None
    post_id: str | None
    post_kind: PostKind | None = None
    available: bool = Field(
        default=True, description="False for a post the reader may not see (or was deleted)"
    )


class EnrollmentPublic(BaseModel):
    interval_days: int
    enrolled_at: datetime


class CollectionPublic(BaseModel):
    id: str
    title: str
    description: str
    tags: list[str]
    audience: str
    curator: PersonSummary
    is_mine: bool
    items: list[ItemPublic]
    enrollment: EnrollmentPublic | None = Field(description="The caller's, if enrolled")
    enrolled_count: int
    version: int
    created_at: datetime
    updated_at: datetime


class ItemAdded(CollectionPublic):
    added_item_id: str = Field(description="The id of the item just added")


class CollectionSummary(BaseModel):
    id: str
    title: str
    description: str
    tags: list[str]
    audience: str
    curator: PersonSummary
    item_count: int
    enrolled_count: int
    created_at: datetime


class CollectionPage(BaseModel):
    items: list[CollectionSummary]
    next_cursor: str | None


class CollectionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str | None = Field(default=None, max_length=50)
    enrolled: bool = Field(default=False, description="Only collections I am enrolled in")
    limit: int = Field(default=20, ge=1, le=PAGE_LIMIT_MAX)
    cursor: str | None = Field(default=None, max_length=300)


# Requests from the gateway.
class CreateCollectionRequest(BaseModel):
    actor: Actor
    collection: CollectionCreate


class CollectionRef(BaseModel):
    actor: Actor
    collection_id: Id


class ListCollectionsRequest(BaseModel):
    actor: Actor
    query: CollectionQuery


class UpdateCollectionRequest(BaseModel):
    actor: Actor
    collection_id: Id
    changes: CollectionUpdate


class AddItemRequest(BaseModel):
    actor: Actor
    collection_id: Id
    add: ItemPosition


class ReorderItemsRequest(BaseModel):
    actor: Actor
    collection_id: Id
    order: ItemOrder


class RemoveItemRequest(BaseModel):
    actor: Actor
    collection_id: Id
    item_id: Id


class EnrollRequest(BaseModel):
    actor: Actor
    collection_id: Id
    enrollment: Enrollment
