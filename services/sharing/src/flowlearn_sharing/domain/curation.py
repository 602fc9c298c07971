"""Curated collections: who curates, how the ordered item list changes, enrollment events."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from flowlearn_shared.contracts.curation import (
    COLLECTION_ITEMS_MAX,
    CollectionCreate,
    CollectionUpdate,
    ItemCreate,
    LinkItemCreate,
)
from flowlearn_shared.events import (
    CollectionEnrolled,
    CollectionEnrolledData,
    CollectionUnenrolled,
    CollectionUnenrolledData,
)

from flowlearn_sharing.domain.audience import Audience
from flowlearn_sharing.domain.rules import InvalidValue, NotPermitted

SOURCE = "flowlearn/sharing"
CURATOR_ROLES = frozenset({"curator", "admin"})


@dataclass(frozen=True)
class Item:
    id: str
    type: Literal["link", "post"]
    title: str | None = None
    url: str | None = None
    note: str | None = None
    post_id: str | None = None


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    tags: list[str]
    audience: Audience
    curator_id: str
    items: tuple[Item, ...]
    enrolled_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, compare=False, repr=False)


def check_can_curate(roles: list[str]) -> None:
    if not CURATOR_ROLES.intersection(roles):
        raise NotPermitted("only curators and admins create collections")


def check_owner(collection: Collection, user_id: str) -> None:
    if collection.curator_id != user_id:
        raise NotPermitted("only the collection's curator changes it")


def new_item(item_id: str, data: ItemCreate) -> Item:
    if isinstance(data, LinkItemCreate):
        return Item(item_id, "link", title=data.title, url=data.url, note=data.note)
    return Item(item_id, "post", note=data.note, post_id=data.post_id)


def new_collection(
    collection_id: str, curator_id: str, data: CollectionCreate, items: list[Item], now: datetime
) -> Collection:
    return Collection(
        id=collection_id,
        title=data.title,
        description=data.description,
        tags=data.tags,
        audience=Audience.parse(data.audience),
        curator_id=curator_id,
        items=tuple(items),
        enrolled_count=0,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _changed(collection: Collection, now: datetime, **values: Any) -> Collection:
    return replace(collection, **values, version=collection.version + 1, updated_at=now, events=[])


def apply_update(collection: Collection, changes: CollectionUpdate, now: datetime) -> Collection:
    values = {
        name: getattr(changes, name)
        for name in changes.model_fields_set
        if getattr(changes, name) is not None
    }
    return _changed(collection, now, **values)


def add_item(collection: Collection, item: Item, position: int | None, now: datetime) -> Collection:
    if len(collection.items) >= COLLECTION_ITEMS_MAX:
        raise InvalidValue("item", f"a collection holds at most {COLLECTION_ITEMS_MAX} items")
    items = list(collection.items)
    # A position past the end means the end, as with list.insert.
    items.insert(len(items) if position is None else position, item)
    return _changed(collection, now, items=tuple(items))


def reorder(collection: Collection, item_ids: list[str], now: datetime) -> Collection:
    by_id = {item.id: item for item in collection.items}
    if sorted(item_ids) != sorted(by_id):
        raise InvalidValue("item_ids", "list every item of the collection exactly once")
    return _changed(collection, now, items=tuple(by_id[i] for i in item_ids))


def remove_item(collection: Collection, item_id: str, now: datetime) -> Collection | None:
    """None when there is no such item."""
    items = tuple(item for item in collection.items if item.id != item_id)
    if len(items) == len(collection.items):
        return None
    return _changed(collection, now, items=items)


def enrolled_event(
    collection: Collection, user_id: str, interval_days: int, now: datetime
) -> CollectionEnrolled:
    return CollectionEnrolled(
        source=SOURCE,
        subject=user_id,
        time=now,
        data=CollectionEnrolledData(
            collection_id=collection.id,
            user_id=user_id,
            title=collection.title,
            interval_days=interval_days,
            item_count=len(collection.items),
        ),
    )


def unenrolled_event(collection_id: str, user_id: str, now: datetime) -> CollectionUnenrolled:
    return CollectionUnenrolled(
        source=SOURCE,
        subject=user_id,
        time=now,
        data=CollectionUnenrolledData(collection_id=collection_id, user_id=user_id),
    )
