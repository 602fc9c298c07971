"""``/v1/kudos``: "spotting strengths" notes from one colleague to another. Private kudos
are seen by the two of them only; team kudos also by the recipient's teams."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from flowlearn_shared.contracts.kudos import (
    GiveKudosRequest,
    KudosCreate,
    KudosPage,
    KudosPublic,
    KudosQuery,
    KudosRef,
    ListKudosRequest,
)
from flowlearn_shared.contracts.people import ID_PATTERN
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.adapters.rpc import RpcClient
from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import LOCATION_HEADER, PROBLEM_RESPONSES, problem

PREFIX = "/v1/kudos"
router = APIRouter(prefix=PREFIX, tags=["kudos"], responses=PROBLEM_RESPONSES)

KudosId = Annotated[str, Path(pattern=ID_PATTERN, description="The kudos' id")]
CursorParam = Annotated[str | None, Query(max_length=300)]
LimitParam = Annotated[
    int,
    Query(ge=1, description=f"Page size; above {PAGE_LIMIT_MAX} is read as {PAGE_LIMIT_MAX}."),
]


async def _list(rpc: RpcClient, user: Actor, query: KudosQuery) -> KudosPage:
    request = ListKudosRequest(actor=user, query=query)
    return await rpc.request(RpcSubject.SHARING_LIST_KUDOS, request, KudosPage)


@router.post(
    "",
    response_model=KudosPublic,
    status_code=201,
    summary="Give kudos",
    responses={201: {"headers": {"Location": LOCATION_HEADER}}},
)
async def give_kudos(
    kudos: KudosCreate, user: CurrentUser, rpc: Rpc, response: Response
) -> KudosPublic:
    """Name what a colleague did well. Not to yourself (422). The recipient's journal
    portfolio keeps it."""
    created = await rpc.request(
        RpcSubject.SHARING_GIVE_KUDOS, GiveKudosRequest(actor=user, kudos=kudos), KudosPublic
    )
    response.headers["Location"] = f"{PREFIX}/{quote(created.id, safe='')}"
    return created


@router.get("/received", response_model=KudosPage, summary="Kudos received, newest first")
async def received(
    user: CurrentUser,
    rpc: Rpc,
    of: Annotated[
        str | None,
        Query(
            alias="user",
            pattern=ID_PATTERN,
            description="Someone else's: only the team kudos you may see. Defaults to you.",
        ),
    ] = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
) -> KudosPage:
    query = KudosQuery(box="received", user=of, limit=min(limit, PAGE_LIMIT_MAX), cursor=cursor)
    return await _list(rpc, user, query)


@router.get("/given", response_model=KudosPage, summary="Kudos I gave, newest first")
async def given(
    user: CurrentUser, rpc: Rpc, limit: LimitParam = 20, cursor: CursorParam = None
) -> KudosPage:
    query = KudosQuery(box="given", limit=min(limit, PAGE_LIMIT_MAX), cursor=cursor)
    return await _list(rpc, user, query)


@router.get(
    "/{kudos_id}",
    response_model=KudosPublic,
    summary="Read one kudos",
    responses=problem(404, "No such kudos, or not one the caller may see"),
)
async def get_kudos(kudos_id: KudosId, user: CurrentUser, rpc: Rpc) -> KudosPublic:
    request = KudosRef(actor=user, kudos_id=kudos_id)
    return await rpc.request(RpcSubject.SHARING_GET_KUDOS, request, KudosPublic)
