"""Stale knowledge: a post whose review date has come asks its owner to re-verify it."""

from __future__ import annotations

from datetime import date, datetime

from flowlearn_shared.events import PostReviewDue, PostReviewDueData

SOURCE = "flowlearn/sharing"


def review_due_event(
    post_id: str,
    owner_id: str,
    review_by: date,
    kind: str,
    title: str | None,
    anonymous: bool,
    now: datetime,
) -> PostReviewDue:
    # As with the post's other events, an anonymous post's event is about the post.
    return PostReviewDue(
        source=SOURCE,
        subject=post_id if anonymous else owner_id,
        time=now,
        data=PostReviewDueData(
            post_id=post_id, owner_id=owner_id, review_by=review_by, kind=kind, title=title
        ),
    )
