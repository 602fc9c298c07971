"""Paging the journal list and the feed window by window: walking every page returns each
visible item once, in order, whatever the windows the items fall in (including older than
the widest window), with ties on the sort key and with filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flowlearn_journal.adapters.repository import EntryRepository, to_document
from flowlearn_journal.domain.model import Entry
from flowlearn_shared.contracts.journal import EntryKind, EntryQuery
from flowlearn_shared.contracts.posts import FeedQuery, PostKind
from flowlearn_sharing.adapters.post_repository import PostRepository, post_document
from flowlearn_sharing.domain.audience import Audience, Viewer
from flowlearn_sharing.domain.posts import Post
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration

Client = AsyncMongoClient[dict[str, Any]]
# Spread over about 20 years: past every window, so the open-ended query is needed too.
DAY_STEPS = [0, 0, 0, 1, 2, 9, 40, 300, 301, 2000, 2001, 4500, 7300]


def _entry(i: int, owner: str, day: date, at: datetime, kind: EntryKind) -> Entry:
    return Entry(
        id=f"e{i:04d}",
        owner_id=owner,
        kind=kind,
        title=None,
        body=f"entry {i}",
        tags=["a"],
        skills=[],
        occurred_on=day,
        minutes=None,
        nudge_id=None,
        evidence=None,
        version=1,
        created_at=at,
        updated_at=at,
    )


async def _walk_entries(repo: EntryRepository, owner: str, **query: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        items, cursor = await repo.list(owner, EntryQuery(limit=4, cursor=cursor, **query))
        ids += [e.id for e in items]
        if cursor is None:
            return ids
    raise AssertionError("the pages did not end")


async def test_journal_pages_cover_every_window(mongo_client: Client, unique: str) -> None:
    repo = EntryRepository(mongo_client[f"journal_pages_{unique}"])
    await repo.ensure_indexes()
    today = date.today()
    noon = datetime.now(UTC).replace(microsecond=0)
    entries = []
    for i, step in enumerate(DAY_STEPS * 2):
        owner = "me" if i % 5 else "someone-else"
        kind = EntryKind.MISTAKE if i % 3 == 0 else EntryKind.LEARNED
        # Pairs written in the same millisecond: the id breaks the tie.
        at = noon - timedelta(minutes=i // 2)
        entries.append(_entry(i, owner, today - timedelta(days=step), at, kind))
    entries.append(_entry(99, "me", today + timedelta(days=3), noon, EntryKind.GEM))  # ahead
    await repo.entries.insert_many([to_document(e) for e in entries])

    def expected(keep: Any) -> list[str]:
        mine = [e for e in entries if e.owner_id == "me" and keep(e)]
        mine.sort(key=lambda e: (e.occurred_on, e.created_at, e.id), reverse=True)
        return [e.id for e in mine]

    assert await _walk_entries(repo, "me") == expected(lambda e: True)
    assert await _walk_entries(repo, "me", kind="mistake") == expected(
        lambda e: e.kind is EntryKind.MISTAKE
    )
    first, last = today - timedelta(days=2001), today - timedelta(days=1)
    assert await _walk_entries(repo, "me", from_date=first, to_date=last) == expected(
        lambda e: first <= e.occurred_on <= last
    )


def _post(i: int, author: str, audience: Audience, at: datetime) -> Post:
    return Post(
        id=f"p{i:04d}",
        kind=PostKind.TIP,
        title=None,
        body=f"post {i}",
        tags=["a"],
        url=None,
        audience=audience,
        anonymous=False,
        author_id=author,
        review_by=None,
        reaction_counts={},
        comment_count=0,
        version=1,
        created_at=at,
        updated_at=at,
    )


async def _walk_feed(repo: PostRepository, viewer: Viewer, **query: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        items, cursor = await repo.feed(viewer, FeedQuery(limit=3, cursor=cursor, **query))
        ids += [p.id for p in items]
        if cursor is None:
            return ids
    raise AssertionError("the pages did not end")


async def test_feed_pages_cover_every_window_once(mongo_client: Client, unique: str) -> None:
    repo = PostRepository(mongo_client[f"sharing_pages_{unique}"])
    await repo.ensure_indexes()
    viewer = Viewer(user_id="me", team_ids=frozenset({"t1"}), community_ids=frozenset({"c1"}))
    audiences = [
        Audience("org"),
        Audience("team", ("t1",)),
        Audience("team", ("t2",)),
        Audience("community", ("c1", "c2")),
        Audience("community", ("c2",)),
        Audience("people", ("me", "x")),
        Audience("people", ("x",)),
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    posts = []
    for i, step in enumerate(DAY_STEPS * 3):
        author = "me" if i % 4 == 0 else f"author-{i % 3}"
        # Three posts share each instant: the id breaks the tie.
        at = now - timedelta(days=step, minutes=i // 3)
        posts.append(_post(i, author, audiences[i % len(audiences)], at))
    await repo.posts.insert_many([post_document(p) for p in posts])

    def expected(keep: Any) -> list[str]:
        seen = [p for p in posts if viewer.can_see(p.audience, p.author_id) and keep(p)]
        seen.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        return [p.id for p in seen]

    assert await _walk_feed(repo, viewer) == expected(lambda p: True)
    # Posts to c1 and c2: the viewer sees them through c1, the filter asks for c2.
    assert await _walk_feed(repo, viewer, community="c2") == expected(
        lambda p: p.audience.kind == "community" and "c2" in p.audience.ids
    )
