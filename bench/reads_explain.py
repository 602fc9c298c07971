"""Query plans for the reads benchmark: the finds the services' repositories actually send
for a page, captured by wrapping the collection, then ``explain``-ed on the same server."""

from __future__ import annotations

import time
from typing import Any

from flowlearn_journal.adapters.repository import NEWEST_FIRST as ENTRIES_NEWEST
from flowlearn_journal.adapters.repository import EntryRepository, decode_cursor
from flowlearn_shared.contracts.journal import EntryQuery
from flowlearn_shared.contracts.posts import FeedQuery
from flowlearn_sharing.adapters.post_repository import NEWEST_FIRST as POSTS_NEWEST
from flowlearn_sharing.adapters.post_repository import PostRepository, after_cursor, visible_to
from flowlearn_sharing.domain.audience import Viewer
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
SORTS = {"journal": dict(ENTRIES_NEWEST), "feed": dict(POSTS_NEWEST)}


class _Recorded:
    """Stands in for the cursor ``find`` returns; notes the sort and limit."""

    def __init__(self, cursor: Any, call: Document) -> None:
        self.cursor, self.call = cursor, call

    def sort(self, spec: Any) -> _Recorded:
        self.call["sort"] = dict(spec)
        self.cursor = self.cursor.sort(spec)
        return self

    def limit(self, n: int) -> _Recorded:
        self.call["limit"] = n
        self.cursor = self.cursor.limit(n)
        return self

    async def to_list(self) -> list[Document]:
        docs: list[Document] = await self.cursor.to_list()
        self.call["returned"] = len(docs)
        return docs


class Recorder:
    """A collection whose ``find`` calls are noted (filter, sort, limit, documents)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self.calls: list[Document] = []

    def find(self, filter: Document) -> _Recorded:
        call: Document = {"filter": filter}
        self.calls.append(call)
        return _Recorded(self.collection.find(filter), call)


async def journal_finds(db: AsyncDatabase[Document], owner: str, cursor: str | None) -> list[Any]:
    repo = EntryRepository(db)
    recorder = Recorder(repo.entries)
    repo.entries = recorder  # type: ignore[assignment]
    await repo.list(owner, EntryQuery(limit=20, cursor=cursor))
    return recorder.calls


async def feed_finds(db: AsyncDatabase[Document], viewer: Viewer, cursor: str | None) -> list[Any]:
    repo = PostRepository(db)
    recorder = Recorder(repo.posts)
    repo.posts = recorder  # type: ignore[assignment]
    await repo.feed(viewer, FeedQuery(limit=20, cursor=cursor))
    return recorder.calls


def _stages(node: Document) -> list[str]:
    """The winning plan's stages, outermost first, an index scan with its index."""
    names: list[str] = []
    while node:
        stage = str(node.get("stage", "?"))
        if stage == "IXSCAN":
            stage = f"IXSCAN {node.get('indexName')} {node.get('direction', '')}".strip()
        names.append(stage)
        node = node.get("inputStage") or {}
    return names


async def explain(db: AsyncDatabase[Document], coll: str, call: Document, run: bool) -> Document:
    """``explain`` of one find; with ``run``, at ``executionStats`` (it executes)."""
    command: Document = {"find": coll, "filter": call["filter"]}
    if "sort" in call:
        command["sort"] = call["sort"]
    if "limit" in call:
        command["limit"] = call["limit"]
    verbosity = "executionStats" if run else "queryPlanner"
    started = time.perf_counter()
    reply = await db.command({"explain": command, "verbosity": verbosity})
    took = time.perf_counter() - started
    plan = reply.get("queryPlanner", {}).get("winningPlan", {})
    stats = reply.get("executionStats", {})
    return {
        "plan": " > ".join(_stages(plan)),
        "keys": stats.get("totalKeysExamined"),
        "docs": stats.get("totalDocsExamined"),
        "returned": stats.get("nReturned"),
        "ms": stats.get("executionTimeMillis", round(took * 1000) if run else None),
    }


def describe(call: Document, result: Document) -> str:
    shown = {k: v for k, v in call["filter"].items() if k not in ("owner_id", "author_id")}
    where = ", ".join(f"{k}" for k in shown) or "-"
    counts = ""
    if result["keys"] is not None:
        counts = (
            f"; keys {result['keys']:,}, docs {result['docs']:,}, returned "
            f"{result['returned']:,}, {result['ms']} ms"
        )
    return f"({where}) {result['plan']}{counts}"


async def plans(
    db_journal: AsyncDatabase[Document],
    db_sharing: AsyncDatabase[Document],
    owner: str,
    cursors: dict[str, str],
) -> list[str]:
    """One line per find of each measured page, and the plan of the one-query form."""
    lines: list[str] = []
    viewer = Viewer(user_id=owner)
    for name, db, coll in (("journal", db_journal, "entries"), ("feed", db_sharing, "posts")):
        for page in ("first", "deep"):
            cursor = None if page == "first" else cursors[name]
            if name == "journal":
                calls = await journal_finds(db, owner, cursor)
            else:
                calls = await feed_finds(db, viewer, cursor)
            results = [await explain(db, coll, c, run=True) for c in calls]
            keys = sum(r["keys"] or 0 for r in results)
            docs = sum(r["docs"] or 0 for r in results)
            lines.append(
                f"explain, {name} {page} page: {len(calls)} finds, {keys:,} keys and {docs:,} "
                "documents examined in all: "
                + " | ".join(describe(c, r) for c, r in zip(calls, results, strict=True))
            )
    # The single query a keyset page is usually written as (and the services sent before
    # their reads went by window): the owner or the visibility rule and the cursor in one
    # ``$and``. Planned only: executing it reads the whole collection here.
    day, created_at, entry_id = decode_cursor(cursors["journal"])
    one_query = {
        "journal": {
            "$and": [
                {"owner_id": owner},
                {
                    "$or": [
                        {"occurred_on": {"$lt": day}},
                        {"occurred_on": day, "created_at": {"$lt": created_at}},
                        {"occurred_on": day, "created_at": created_at, "_id": {"$lt": entry_id}},
                    ]
                },
            ]
        },
        "feed": {"$and": [visible_to(viewer), after_cursor(cursors["feed"])]},
    }
    for name, db, coll in (("journal", db_journal, "entries"), ("feed", db_sharing, "posts")):
        call = {"filter": one_query[name], "sort": SORTS[name], "limit": 21}
        result = await explain(db, coll, call, run=False)
        lines.append(f"explain, {name} as one `$and` query: {result['plan']}")
    return lines
