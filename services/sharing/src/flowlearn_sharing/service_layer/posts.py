"""Post use cases. Every read goes through the caller's visibility; a post the caller may
not see is reported as not found. An anonymous post never names its author to others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from flowlearn_shared.contracts.people import PersonSummary
from flowlearn_shared.contracts.posts import (
    CommentList,
    CommentPublic,
    CommentRequest,
    CreatePostRequest,
    FeedRequest,
    PostPage,
    PostPublic,
    PostRef,
    ReactionKind,
    ReactRequest,
    UpdatePostRequest,
)
from flowlearn_shared.idempotency import key_reused, key_target_gone
from flowlearn_shared.outbox import Outbox
from flowlearn_shared.rpc import (
    Actor,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServiceError,
)
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.adapters.post_repository import AlreadyStored, BadCursor, PostRepository
from flowlearn_sharing.domain import posts as rules
from flowlearn_sharing.domain.audience import Audience, AudienceNotAllowed, Viewer
from flowlearn_sharing.domain.posts import Post
from flowlearn_sharing.service_layer.people import PeopleService

Clock = Callable[[], datetime]


def comment_author(post: Post, author_id: str, names: dict[str, str]) -> PersonSummary | None:
    """The anonymous author of a lesson stays anonymous in its comment thread too."""
    if post.anonymous and author_id == post.author_id:
        return None
    return PersonSummary(user_id=author_id, display_name=names[author_id])


class PostService:
    def __init__(
        self,
        posts: PostRepository,
        people: PeopleRepository,
        directory: PeopleService,
        outbox: Outbox,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self.posts = posts
        self.people = people
        self.directory = directory
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def viewer(self, actor: Actor) -> Viewer:
        return await self.people.viewer(actor.user_id, actor.roles)

    async def present(self, viewer: Viewer, items: list[Post]) -> list[PostPublic]:
        authors = {p.author_id for p in items if not p.anonymous}
        names = await self.people.display_names(authors)
        mine = await self.posts.reactions_of(viewer.user_id, [p.id for p in items])
        return [
            PostPublic(
                id=p.id,
                kind=p.kind,
                title=p.title,
                body=p.body,
                tags=p.tags,
                url=p.url,
                audience=str(p.audience),
                anonymous=p.anonymous,
                author=None
                if p.anonymous
                else PersonSummary(user_id=p.author_id, display_name=names[p.author_id]),
                is_mine=p.author_id == viewer.user_id,
                review_by=p.review_by,
                reactions={k: v for k, v in p.reaction_counts.items() if v > 0},
                my_reactions=[ReactionKind(k) for k in sorted(mine.get(p.id, []))],
                comment_count=p.comment_count,
                version=p.version,
                created_at=p.created_at,
                updated_at=p.updated_at,
            )
            for p in items
        ]

    async def check_audience(self, actor: Actor, audience: str) -> Viewer:
        viewer = await self.viewer(actor)
        try:
            viewer.check_can_address(Audience.parse(audience))
        except AudienceNotAllowed as exc:
            raise Forbidden(str(exc)) from exc
        return viewer

    async def publish(self, post: Post) -> bool:
        """Store a post and its events; False when it existed already."""

        async def work(session: AsyncClientSession) -> bool:
            if not await self.posts.add(post, session):
                return False
            for event in post.events:
                await self.outbox.add(event, session)
            return True

        return await self.uow.run(work)

    async def create(self, request: CreatePostRequest) -> PostPublic:
        await self.directory.ensure_profile(request.actor)
        viewer = await self.check_audience(request.actor, request.post.audience)
        author, key = request.actor.user_id, request.idempotency_key
        post_id = rules.post_id_for_key(author, key) if key else str(uuid4())
        post = rules.new_post(post_id, author, request.post, self.clock())
        try:
            stored_now = await self.publish(post)
        except AlreadyStored:  # the same key sent twice at once: the other attempt won
            stored_now = False
        if not stored_now:  # a retry: the first attempt stored it
            stored = await self.posts.get(post_id)
            if stored is None or stored.author_id != author:
                raise key_target_gone("post")
            if not rules.same_request(stored, request.post):
                raise key_reused("post")
            post = stored
        [public] = await self.present(viewer, [post])
        return public

    async def _visible(self, viewer: Viewer, post_id: str) -> Post:
        post = await self.posts.get(post_id)
        if post is None or not viewer.can_see(post.audience, post.author_id):
            raise NotFound("no such post")
        return post

    async def _own(self, viewer: Viewer, post_id: str) -> Post:
        post = await self._visible(viewer, post_id)
        if post.author_id != viewer.user_id:
            raise Forbidden("only the author can change or delete a post")
        return post

    async def get(self, request: PostRef) -> PostPublic:
        viewer = await self.viewer(request.actor)
        [public] = await self.present(viewer, [await self._visible(viewer, request.post_id)])
        return public

    async def update(self, request: UpdatePostRequest) -> PostPublic:
        viewer = await self.viewer(request.actor)
        post = await self._own(viewer, request.post_id)
        if request.if_match_version is not None and request.if_match_version != post.version:
            raise PreconditionFailed(f"post is at version {post.version}")
        updated = rules.apply_update(post, request.changes, self.clock())

        async def work(session: AsyncClientSession) -> None:
            if not await self.posts.replace_if_version(updated, post.version, session):
                raise PreconditionFailed("the post changed while it was being updated")

        await self.uow.run(work)
        [public] = await self.present(viewer, [updated])
        return public

    async def delete(self, request: PostRef) -> None:
        viewer = await self.viewer(request.actor)
        post = await self._own(viewer, request.post_id)

        async def work(session: AsyncClientSession) -> None:
            await self.posts.delete(post.id, session)
            await self.outbox.add(rules.deletion_event(post, self.clock()), session)

        await self.uow.run(work)

    async def react(self, request: ReactRequest) -> PostPublic:
        viewer = await self.viewer(request.actor)
        post = await self._visible(viewer, request.post_id)

        async def work(session: AsyncClientSession) -> None:
            await self.posts.set_reaction(
                post.id, viewer.user_id, request.reaction.value, request.on, session
            )

        await self.uow.run(work)
        return await self.get(PostRef(actor=request.actor, post_id=post.id))

    async def comment(self, request: CommentRequest) -> CommentPublic:
        await self.directory.ensure_profile(request.actor)
        viewer = await self.viewer(request.actor)
        post = await self._visible(viewer, request.post_id)
        doc = {
            "_id": str(uuid4()),
            "post_id": post.id,
            "author_id": viewer.user_id,
            "body": request.comment.body,
            "created_at": self.clock(),
        }

        async def work(session: AsyncClientSession) -> None:
            await self.posts.add_comment(doc, session)

        await self.uow.run(work)
        names = await self.people.display_names({viewer.user_id})
        return CommentPublic(
            id=doc["_id"],
            post_id=post.id,
            author=comment_author(post, viewer.user_id, names),
            body=doc["body"],
            created_at=doc["created_at"],
        )

    async def comments(self, request: PostRef) -> CommentList:
        viewer = await self.viewer(request.actor)
        post = await self._visible(viewer, request.post_id)
        docs = await self.posts.comments_of(post.id)
        names = await self.people.display_names({d["author_id"] for d in docs})
        return CommentList(
            items=[
                CommentPublic(
                    id=d["_id"],
                    post_id=post.id,
                    author=comment_author(post, d["author_id"], names),
                    body=d["body"],
                    created_at=d["created_at"],
                )
                for d in docs
            ]
        )

    async def feed(self, request: FeedRequest) -> PostPage:
        viewer = await self.viewer(request.actor)
        try:
            items, next_cursor = await self.posts.feed(viewer, request.query)
        except BadCursor as exc:
            raise ServiceError(str(exc)) from exc
        return PostPage(items=await self.present(viewer, items), next_cursor=next_cursor)
