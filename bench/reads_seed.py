"""Seeding for the reads benchmark: journal entries and posts written straight into the
services' databases with ``insert_many``, in each service's own document format (the
repositories' ``to_document`` / ``post_document``), then the services' own indexes.

One measured user (``READER``) owns a large share of the entries and sees a large share of
the posts (the org-wide ones, plus those addressed to them), so a deep page is really
deep. The keys of what the reader sees are kept in sort order, so the benchmark can pick
the item at any position and make its cursor with the service's own function.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flowlearn_journal.adapters.repository import EntryRepository, to_document
from flowlearn_journal.domain.model import Entry
from flowlearn_shared.contracts.journal import EntryKind
from flowlearn_shared.contracts.posts import PostKind
from flowlearn_sharing.adapters.post_repository import PostRepository, post_document
from flowlearn_sharing.domain.audience import Audience
from flowlearn_sharing.domain.posts import Post
from pymongo import AsyncMongoClient, MongoClient

JOURNAL_DB = "bench_reads_journal"
SHARING_DB = "bench_reads_sharing"
READER = "bench-reader"
AUTHORS = 5000
BATCH = 10_000
PAGE = 20  # items per page, as the gateway serves by default
ENTRY_DAYS = 5 * 365  # the reader's entries span five years up to today
POST_DAYS = 3 * 365  # all posts span three years up to now
BODY = (
    "Rolled the change out behind a flag and watched the error budget first. The canary "
    "caught a timeout that staging never showed. **Next time:** warm the caches first."
)
ENTRY_KINDS = list(EntryKind)[:5]
POST_KINDS = list(PostKind)

Document = dict[str, Any]
Key = tuple[Any, ...]


@dataclass
class Seeded:
    """What was written, and the reader's sort keys newest first."""

    entries: int = 0
    posts: int = 0
    entry_keys: list[Key] = field(default_factory=list)  # (occurred_on, created_at, id)
    post_keys: list[Key] = field(default_factory=list)  # (created_at, id)
    seconds: dict[str, float] = field(default_factory=dict)


def _ms(moment: datetime) -> datetime:
    """Stored datetimes keep milliseconds; keep the keys exactly as they will be read."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def entry_docs(n: int, reader_share: float, seeded: Seeded) -> Iterator[list[Document]]:
    """``n`` entries; every ``1/reader_share``-th is the reader's, the rest spread over
    ``AUTHORS`` others. Dates run back from today, so the first page is recent."""
    today = date.today()
    now = _ms(datetime.now(UTC))
    every = max(1, round(1 / reader_share))
    batch: list[Document] = []
    for i in range(n):
        owner = READER if i % every == 0 else f"bench-author-{i % AUTHORS}"
        day = today - timedelta(days=(i * ENTRY_DAYS) // n)
        created = _ms(now - timedelta(seconds=i * (ENTRY_DAYS * 86400 / n)))
        entry = Entry(
            id=f"e{i:08d}",
            owner_id=owner,
            kind=ENTRY_KINDS[i % len(ENTRY_KINDS)],
            title=f"Canary lesson {i}",
            body=BODY,
            tags=["deploys", f"t{i % 50}"],
            skills=["release management"],
            occurred_on=day,
            minutes=20,
            nudge_id=None,
            evidence=None,
            version=1,
            created_at=created,
            updated_at=created,
        )
        if owner == READER:
            seeded.entry_keys.append((day.isoformat(), created, entry.id))
        batch.append(to_document(entry))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def audience_of(i: int) -> Audience:
    """60% org-wide, 20% a team, 10% a community, 10% named people (every 20th of those
    names the reader)."""
    slot = i % 10
    if slot < 6:
        return Audience("org")
    if slot < 8:
        return Audience("team", (f"team-{i % 97}",))
    if slot < 9:
        return Audience("community", (f"community-{i % 31}",))
    named = READER if (i // 10) % 20 == 0 else f"bench-author-{(i + 1) % AUTHORS}"
    return Audience("people", (named, f"bench-author-{i % AUTHORS}"))


def post_docs(n: int, seeded: Seeded) -> Iterator[list[Document]]:
    now = _ms(datetime.now(UTC))
    batch: list[Document] = []
    for i in range(n):
        created = _ms(now - timedelta(seconds=i * (POST_DAYS * 86400 / n)))
        audience = audience_of(i)
        author = READER if i % 1000 == 7 else f"bench-author-{i % AUTHORS}"
        post = Post(
            id=f"p{i:08d}",
            kind=POST_KINDS[i % len(POST_KINDS)],
            title=f"Tip {i}",
            body=BODY,
            tags=["deploys", f"t{i % 50}"],
            url=None,
            audience=audience,
            anonymous=False,
            author_id=author,
            review_by=None,
            reaction_counts={},
            comment_count=0,
            version=1,
            created_at=created,
            updated_at=created,
        )
        if author == READER or audience.kind == "org" or READER in audience.ids:
            seeded.post_keys.append((created, post.id))
        batch.append(post_document(post))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(
    uri: str, db: str, coll: str, batches: Iterator[list[Document]], tick: Callable[[int], None]
) -> int:
    client: MongoClient[Document] = MongoClient(uri, tz_aware=True)
    written = 0
    try:
        for batch in batches:
            client[db][coll].insert_many(batch, ordered=False)
            written += len(batch)
            tick(len(batch))
    finally:
        client.close()
    return written


async def ensure_indexes(uri: str) -> None:
    """The services' own index definitions (they create the same ones at start), both
    collections' at once."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(uri, tz_aware=True)
    try:
        await asyncio.gather(
            EntryRepository(client[JOURNAL_DB]).ensure_indexes(),
            PostRepository(client[SHARING_DB]).ensure_indexes(),
        )
    finally:
        await client.close()


def seed(
    uri: str,
    entries: int,
    posts: int,
    reader_share: float,
    tick: Callable[[str, int], None],
    indexes_first: bool,
) -> Seeded:
    """Both collections at once, each from its own thread (the server takes the two
    streams of batches in turn; client-side encoding overlaps with it)."""
    seeded = Seeded()
    started = time.perf_counter()
    if indexes_first:
        asyncio.run(ensure_indexes(uri))
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(name: str, coll: str, db: str, batches: Iterator[list[Document]]) -> None:
        try:
            results[name] = _insert(uri, db, coll, batches, lambda k: tick(name, k))
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [
        threading.Thread(
            target=work,
            args=("entries", "entries", JOURNAL_DB, entry_docs(entries, reader_share, seeded)),
        ),
        threading.Thread(
            target=work, args=("posts", "posts", SHARING_DB, post_docs(posts, seeded))
        ),
    ]
    for thread in threads:
        thread.daemon = True  # an interrupted run does not wait for them
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    seeded.seconds["insert"] = time.perf_counter() - started
    if not indexes_first:
        started = time.perf_counter()
        asyncio.run(ensure_indexes(uri))
        seeded.seconds["indexes"] = time.perf_counter() - started
    seeded.entries, seeded.posts = results["entries"], results["posts"]
    seeded.entry_keys.sort(reverse=True)
    seeded.post_keys.sort(reverse=True)
    return seeded
