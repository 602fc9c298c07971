"""The review-due event, published by the periodic sweep (documented for AsyncAPI)."""

from __future__ import annotations

from faststream.nats import NatsBroker
from flowlearn_shared.events import PostReviewDue
from flowlearn_shared.subjects import EventSubject


def register(broker: NatsBroker) -> None:
    broker.publisher(
        EventSubject.POST_REVIEW_DUE,
        schema=PostReviewDue,
        title=f"sharing:{EventSubject.POST_REVIEW_DUE}",
        description="Published once per post and review date, when the date has come.",
    )
