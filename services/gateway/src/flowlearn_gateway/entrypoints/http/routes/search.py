"""``/v1/search``: posts, questions and collections the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from flowlearn_shared.contracts.questions import (
    SEARCH_LIMIT_DEFAULT,
    SEARCH_LIMIT_MAX,
    SEARCH_MAX,
    SEARCH_MIN,
    SearchQuery,
    SearchRequest,
    SearchResults,
)
from flowlearn_shared.subjects import RpcSubject
from pydantic import StringConstraints

from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["search"], responses=PROBLEM_RESPONSES)

SearchWords = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=SEARCH_MIN, max_length=SEARCH_MAX)
]


@router.get("/search", response_model=SearchResults, status_code=200, summary="Search")
async def search(
    user: CurrentUser,
    rpc: Rpc,
    q: Annotated[
        SearchWords,
        Query(description=f"{SEARCH_MIN} to {SEARCH_MAX} characters; every word must match"),
    ],
    limit: Annotated[
        int,
        Query(ge=1, description=f"Most results; above {SEARCH_LIMIT_MAX} is read as that."),
    ] = SEARCH_LIMIT_DEFAULT,
) -> SearchResults:
    """Words match anywhere in a title, text or tag, in any case, newest first. Only what
    the caller may see is searched."""
    query = SearchQuery(q=q, limit=min(limit, SEARCH_LIMIT_MAX))
    return await rpc.request(
        RpcSubject.SHARING_SEARCH, SearchRequest(actor=user, query=query), SearchResults
    )
