"""Stale knowledge: ask a post's owner to re-verify it once its review date has come."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flowlearn_shared.outbox import Outbox
from flowlearn_shared.unit_of_work import UnitOfWork
from pymongo.asynchronous.client_session import AsyncClientSession

from flowlearn_sharing.adapters.review_repository import REVIEW_DUE_FIELD, ReviewRepository
from flowlearn_sharing.domain.reviews import review_due_event

Clock = Callable[[], datetime]


class ReviewService:
    def __init__(
        self, reviews: ReviewRepository, outbox: Outbox, uow: UnitOfWork, clock: Clock
    ) -> None:
        self.reviews = reviews
        self.outbox = outbox
        self.uow = uow
        self.clock = clock

    async def publish_due(self) -> int:
        """One ``post.review_due`` per post and review date, for dates up to today (UTC)."""
        now, published = self.clock(), 0
        for post in await self.reviews.due(now.date()):

            async def work(session: AsyncClientSession, post: dict[str, object] = post) -> bool:
                if not await self.reviews.claim(post, session):
                    return False
                event = review_due_event(
                    post_id=str(post["_id"]),
                    owner_id=str(post["author_id"]),
                    review_by=date.fromisoformat(str(post[REVIEW_DUE_FIELD])),
                    kind=str(post["kind"]),
                    title=str(post["title"]) if post.get("title") else None,
                    anonymous=bool(post.get("anonymous")),
                    now=now,
                )
                await self.outbox.add(event, session)
                return True

            published += await self.uow.run(work)
        return published
