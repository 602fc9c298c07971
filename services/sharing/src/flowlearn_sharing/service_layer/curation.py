"""Curated collection use cases. A collection is seen under the same audience rules as a
post, and a post inside it is shown only to readers who may see that post."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

from flowlearn_shared.contracts.curation import (
    AddItemRequest,
    CollectionPage,
    CollectionPublic,
    CollectionRef,
    CollectionSummary,
    CreateCollectionRequest,
    EnrollmentPublic,
    EnrollRequest,
    ItemAdded,
    ItemCreate,
    ItemPublic,
    ListCollectionsRequest,
    PostItemCreate,
    RemoveItemRequest,
    ReorderItemsRequest,
    UpdateCollectionRequest,
)
from flowlearn_shared.contracts.people import PersonSummary
from flowlearn_shared.contracts.posts import PostKind
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import Actor, InvalidInput, NotFound, PreconditionFailed
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.curation_repository import CurationRepository
from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.adapters.post_repository import PostRepository
from flowlearn_sharing.domain import curation as rules
from flowlearn_sharing.domain.audience import Audience, Viewer
from flowlearn_sharing.domain.curation import Collection, Item
from flowlearn_sharing.service_layer.people import PeopleService
from flowlearn_sharing.service_layer.rule_errors import refusals

Clock = Callable[[], datetime]


class CollectionService:
    def __init__(
        self,
        collections: CurationRepository,
        posts: PostRepository,
        people: PeopleRepository,
        directory: PeopleService,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self.collections = collections
        self.posts = posts
        self.people = people
        self.directory = directory
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def viewer(self, actor: Actor) -> Viewer:
        return await self.people.viewer(actor.user_id, actor.roles)

    def _item_public(self, item: Item, viewer: Viewer, posts: dict[str, Any]) -> ItemPublic:
        if item.type == "link":
            return ItemPublic(
                id=item.id,
                type="link",
                title=item.title,
                url=item.url,
                note=item.note,
                post_id=None,
            )
        post = posts.get(item.post_id or "")
        visible = post is not None and viewer.can_see(
            Audience(post["audience"]["kind"], tuple(post["audience"].get("ids", []))),
            post["author_id"],
        )
        return ItemPublic(
            id=item.id,
            type="post",
            title=post.get("title") if post and visible else None,
            url=None,
            note=item.note,
            post_id=item.post_id,
            post_kind=PostKind(post["kind"]) if post and visible else None,
            available=visible,
        )

    async def present(self, viewer: Viewer, collection: Collection) -> CollectionPublic:
        post_ids = [i.post_id for i in collection.items if i.post_id]
        posts = await self.collections.post_facts(post_ids)
        names = await self.people.display_names({collection.curator_id})
        enrollment = await self.collections.enrollment(collection.id, viewer.user_id)
        return CollectionPublic(
            id=collection.id,
            title=collection.title,
            description=collection.description,
            tags=collection.tags,
            audience=str(collection.audience),
            curator=PersonSummary(
                user_id=collection.curator_id, display_name=names[collection.curator_id]
            ),
            is_mine=collection.curator_id == viewer.user_id,
            items=[self._item_public(i, viewer, posts) for i in collection.items],
            enrollment=EnrollmentPublic(
                interval_days=enrollment["interval_days"], enrolled_at=enrollment["enrolled_at"]
            )
            if enrollment
            else None,
            enrolled_count=collection.enrolled_count,
            version=collection.version,
            created_at=collection.created_at,
            updated_at=collection.updated_at,
        )

    async def _new_items(
        self, viewer: Viewer, data: list[ItemCreate], single: bool = False
    ) -> list[Item]:
        """A post goes into a collection only if its curator may see it."""
        for index, item in enumerate(data):
            if isinstance(item, PostItemCreate):
                post = await self.posts.get(item.post_id)
                if post is None or not viewer.can_see(post.audience, post.author_id):
                    where = ["item"] if single else ["items", index]
                    error = {"loc": [*where, "post_id"], "msg": "no such post"}
                    raise InvalidInput("no such post", [{**error, "type": "value_error"}])
        return [rules.new_item(uuid4().hex[:12], item) for item in data]

    async def create(self, request: CreateCollectionRequest) -> CollectionPublic:
        actor, data = request.actor, request.collection
        with refusals():
            rules.check_can_curate(actor.roles)
        await self.directory.ensure_profile(actor)
        viewer = await self.viewer(actor)
        with refusals():
            viewer.check_can_address(Audience.parse(data.audience))
        items = await self._new_items(viewer, data.items)
        collection = rules.new_collection(str(uuid4()), actor.user_id, data, items, self.clock())

        async def work(session: AsyncClientSession) -> None:
            await self.collections.add(collection, session)

        await self.uow.run(work)
        return await self.present(viewer, collection)

    async def _visible(self, viewer: Viewer, collection_id: str) -> Collection:
        collection = await self.collections.get(collection_id)
        if collection is None or not viewer.can_see(collection.audience, collection.curator_id):
            raise NotFound("no such collection")
        return collection

    async def get(self, request: CollectionRef) -> CollectionPublic:
        viewer = await self.viewer(request.actor)
        return await self.present(viewer, await self._visible(viewer, request.collection_id))

    async def browse(self, request: ListCollectionsRequest) -> CollectionPage:
        viewer = await self.viewer(request.actor)
        with refusals():
            found, next_cursor = await self.collections.page(viewer, request.query)
        names = await self.people.display_names({c.curator_id for c in found})
        items = [
            CollectionSummary(
                id=c.id,
                title=c.title,
                description=c.description,
                tags=c.tags,
                audience=str(c.audience),
                curator=PersonSummary(user_id=c.curator_id, display_name=names[c.curator_id]),
                item_count=len(c.items),
                enrolled_count=c.enrolled_count,
                created_at=c.created_at,
            )
            for c in found
        ]
        return CollectionPage(items=items, next_cursor=next_cursor)

    async def _change(
        self,
        actor: Actor,
        collection_id: str,
        change: Callable[[Collection, Viewer], Awaitable[Collection]],
    ) -> CollectionPublic:
        """Apply ``change`` to the caller's own collection, unless it changed meanwhile."""
        viewer = await self.viewer(actor)
        collection = await self._visible(viewer, collection_id)
        with refusals():
            rules.check_owner(collection, viewer.user_id)
            changed = await change(collection, viewer)

        async def work(session: AsyncClientSession) -> None:
            if not await self.collections.replace_if_version(changed, collection.version, session):
                raise PreconditionFailed("the collection changed meanwhile; read it and retry")

        await self.uow.run(work)
        return await self.get(CollectionRef(actor=actor, collection_id=collection_id))

    async def update(self, request: UpdateCollectionRequest) -> CollectionPublic:
        async def change(collection: Collection, _: Viewer) -> Collection:
            return rules.apply_update(collection, request.changes, self.clock())

        return await self._change(request.actor, request.collection_id, change)

    async def add_item(self, request: AddItemRequest) -> ItemAdded:
        added: list[Item] = []

        async def change(collection: Collection, viewer: Viewer) -> Collection:
            added[:] = await self._new_items(viewer, [request.add.item], single=True)
            return rules.add_item(collection, added[0], request.add.position, self.clock())

        changed = await self._change(request.actor, request.collection_id, change)
        return ItemAdded(**changed.model_dump(), added_item_id=added[0].id)

    async def reorder(self, request: ReorderItemsRequest) -> CollectionPublic:
        async def change(collection: Collection, _: Viewer) -> Collection:
            return rules.reorder(collection, request.order.item_ids, self.clock())

        return await self._change(request.actor, request.collection_id, change)

    async def remove_item(self, request: RemoveItemRequest) -> CollectionPublic:
        async def change(collection: Collection, _: Viewer) -> Collection:
            changed = rules.remove_item(collection, request.item_id, self.clock())
            if changed is None:
                raise NotFound("no such item in this collection")
            return changed

        return await self._change(request.actor, request.collection_id, change)

    async def enroll(self, request: EnrollRequest) -> CollectionPublic:
        """Enrolling again with another interval changes it; with the same one does nothing."""
        await self.directory.ensure_profile(request.actor)
        viewer = await self.viewer(request.actor)
        collection = await self._visible(viewer, request.collection_id)
        interval, now = request.enrollment.interval_days, self.clock()

        async def work(session: AsyncClientSession) -> None:
            current = await self.collections.enrollment(collection.id, viewer.user_id, session)
            if current is None:
                await self.collections.enroll(collection.id, viewer.user_id, interval, now, session)
            elif current["interval_days"] != interval:
                await self.collections.change_interval(
                    collection.id, viewer.user_id, interval, session
                )
            else:
                return
            event = rules.enrolled_event(collection, viewer.user_id, interval, now)
            await self.outbox.add(event, session)

        await self.uow.run(work)
        return await self.get(CollectionRef(actor=request.actor, collection_id=collection.id))

    async def unenroll(self, request: CollectionRef) -> None:
        viewer = await self.viewer(request.actor)
        collection = await self._visible(viewer, request.collection_id)
        now = self.clock()

        async def work(session: AsyncClientSession) -> None:
            if await self.collections.unenroll(collection.id, viewer.user_id, session):
                event = rules.unenrolled_event(collection.id, viewer.user_id, now)
                await self.outbox.add(event, session)

        await self.uow.run(work)
