"""Search: one list of posts, questions and collections the caller may see, newest first.
The search words are never logged."""

from __future__ import annotations

from typing import Any

from flowlearn_shared.contracts.questions import (
    SearchHit,
    SearchHitType,
    SearchRequest,
    SearchResults,
)
from flowlearn_shared.rpc import Actor

from flowlearn_sharing.adapters.people_repository import PeopleRepository
from flowlearn_sharing.adapters.search_repository import SearchRepository, words_of
from flowlearn_sharing.domain.audience import Viewer

Document = dict[str, Any]
SNIPPET_CHARS = 160
TITLE_CHARS = 80


def _flat(text: str) -> str:
    return " ".join(text.split())


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """A window of the text around the first word found, on one line."""
    text = _flat(text)
    lowered = text.lower()
    found = [i for i in (lowered.find(w) for w in words) if i >= 0]
    start = max(0, min(found) - width // 4) if found else 0
    part = text[start : start + width]
    return ("…" if start > 0 else "") + part + ("…" if start + width < len(text) else "")


def title_of(doc: Document, body_field: str) -> str:
    if doc.get("title"):
        return str(doc["title"])
    body = _flat(str(doc.get(body_field) or ""))
    return body if len(body) <= TITLE_CHARS else body[: TITLE_CHARS - 1] + "…"


class SearchService:
    def __init__(self, search: SearchRepository, people: PeopleRepository) -> None:
        self.search_repository = search
        self.people = people

    async def viewer(self, actor: Actor) -> Viewer:
        return await self.people.viewer(actor.user_id, actor.roles)

    async def search(self, request: SearchRequest) -> SearchResults:
        viewer = await self.viewer(request.actor)
        words = words_of(request.query.q)
        limit = request.query.limit
        repo = self.search_repository
        found: list[tuple[SearchHitType, str, Document]] = [
            *(
                (SearchHitType.POST, "body", d)
                for d in await repo.posts_matching(viewer, words, limit)
            ),
            *(
                (SearchHitType.QUESTION, "body", d)
                for d in await repo.questions_matching(viewer, words, limit)
            ),
            *(
                (SearchHitType.COLLECTION, "description", d)
                for d in await repo.collections_matching(viewer, words, limit)
            ),
        ]
        found.sort(key=lambda hit: (hit[2]["created_at"], str(hit[2]["_id"])), reverse=True)
        return SearchResults(
            items=[
                SearchHit(
                    type=kind,
                    id=str(doc["_id"]),
                    title=title_of(doc, body_field),
                    snippet=snippet(str(doc.get(body_field) or ""), words),
                    created_at=doc["created_at"],
                )
                for kind, body_field, doc in found[:limit]
            ]
        )
