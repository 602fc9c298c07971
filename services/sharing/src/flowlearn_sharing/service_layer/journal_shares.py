"""A journal entry shared by its author becomes a post: a ``reflection``, or a ``lesson``
when the entry was a mistake. Applied once per share, whatever the redeliveries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flowlearn_shared.contracts.posts import PostCreate, PostKind
from flowlearn_shared.events import Event, JournalEntryShared
from flowlearn_shared.rpc import Actor
from pydantic import ValidationError

from flowlearn_sharing.domain import posts as rules
from flowlearn_sharing.domain.audience import Audience, AudienceNotAllowed
from flowlearn_sharing.service_layer.posts import PostService

log = logging.getLogger("flowlearn.sharing.journal_shares")


class JournalShareHandler:
    def __init__(self, posts: PostService, clock: Callable[[], datetime]) -> None:
        self.posts = posts
        self.clock = clock

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, JournalEntryShared):
            return
        share = event.data
        author = Actor(user_id=share.owner_id)
        kind = PostKind.LESSON if share.entry_kind == "mistake" else PostKind.REFLECTION
        try:
            data = PostCreate(
                kind=kind,
                title=share.title,
                body=share.excerpt,
                tags=share.tags,
                audience=share.audience,
                anonymous=share.anonymous and kind == PostKind.LESSON,
            )
            viewer = await self.posts.viewer(author)
            viewer.check_can_address(Audience.parse(share.audience))
        except (ValidationError, AudienceNotAllowed) as exc:
            # The gateway checked the audience before accepting; membership may have
            # changed since. Nothing is shared with an audience the author cannot address.
            log.warning("share not published", extra={"share_id": share.share_id, "why": str(exc)})
            return
        await self.posts.directory.ensure_profile(author)
        # The share id is the post id, so a redelivered share finds its post already there.
        post = rules.new_post(share.share_id, share.owner_id, data, self.clock(), share.entry_id)
        await self.posts.publish(post)
