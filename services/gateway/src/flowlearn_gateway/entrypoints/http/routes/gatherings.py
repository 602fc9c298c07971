"""``/v1/gatherings``: lunch & learns and book clubs. RSVP gets a seat while there is one,
else a place on the waitlist; a cancelled seat goes to the first person waiting."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Response
from flowlearn_shared.contracts.gatherings import (
    Attendees,
    CreateGatheringRequest,
    GatheringCreate,
    GatheringKind,
    GatheringPage,
    GatheringPublic,
    GatheringQuery,
    GatheringRef,
    ListGatheringsRequest,
    MyRsvp,
)
from flowlearn_shared.contracts.people import ID_PATTERN
from flowlearn_shared.contracts.posts import PAGE_LIMIT_MAX
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import LOCATION_HEADER, PROBLEM_RESPONSES, problem

PREFIX = "/v1/gatherings"
router = APIRouter(prefix=PREFIX, tags=["gatherings"], responses=PROBLEM_RESPONSES)

GatheringId = Annotated[str, Path(pattern=ID_PATTERN, description="The gathering's id")]
NO_SUCH_GATHERING = problem(404, "No such gathering, or not one the caller may see")


@router.post(
    "",
    response_model=GatheringPublic,
    status_code=201,
    summary="Host a lunch & learn or a book club",
    responses={
        201: {"headers": {"Location": LOCATION_HEADER}},
        **problem(403, "The caller cannot invite that audience"),
    },
)
async def create_gathering(
    gathering: GatheringCreate, user: CurrentUser, rpc: Rpc, response: Response
) -> GatheringPublic:
    """`starts_at` carries its UTC offset (`2026-03-05T12:30:00+01:00`) and lies in the
    future; a time without an offset is refused (422)."""
    request = CreateGatheringRequest(actor=user, gathering=gathering)
    created = await rpc.request(RpcSubject.SHARING_CREATE_GATHERING, request, GatheringPublic)
    response.headers["Location"] = f"{PREFIX}/{quote(created.id, safe='')}"
    return created


@router.get("", response_model=GatheringPage, summary="Gatherings I may join")
async def list_gatherings(
    user: CurrentUser,
    rpc: Rpc,
    when: Literal["upcoming", "past"] = "upcoming",
    kind: GatheringKind | None = None,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Page size; above {PAGE_LIMIT_MAX} is read as {PAGE_LIMIT_MAX}."),
    ] = 20,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> GatheringPage:
    """Upcoming ones soonest first (including one under way); past ones latest first."""
    query = GatheringQuery(when=when, kind=kind, limit=min(limit, PAGE_LIMIT_MAX), cursor=cursor)
    request = ListGatheringsRequest(actor=user, query=query)
    return await rpc.request(RpcSubject.SHARING_LIST_GATHERINGS, request, GatheringPage)


@router.get(
    "/{gathering_id}",
    response_model=GatheringPublic,
    summary="Read a gathering",
    responses=NO_SUCH_GATHERING,
)
async def get_gathering(gathering_id: GatheringId, user: CurrentUser, rpc: Rpc) -> GatheringPublic:
    request = GatheringRef(actor=user, gathering_id=gathering_id)
    return await rpc.request(RpcSubject.SHARING_GET_GATHERING, request, GatheringPublic)


@router.get(
    "/{gathering_id}/attendees",
    response_model=Attendees,
    summary="Who is going, and who is waiting",
    responses=NO_SUCH_GATHERING,
)
async def attendees(gathering_id: GatheringId, user: CurrentUser, rpc: Rpc) -> Attendees:
    request = GatheringRef(actor=user, gathering_id=gathering_id)
    return await rpc.request(RpcSubject.SHARING_GATHERING_ATTENDEES, request, Attendees)


@router.post(
    "/{gathering_id}/rsvp",
    response_model=MyRsvp,
    summary="RSVP: a seat, or the waitlist when full",
    responses={**NO_SUCH_GATHERING, **problem(409, "The gathering has started")},
)
async def rsvp(gathering_id: GatheringId, user: CurrentUser, rpc: Rpc) -> MyRsvp:
    """Asking again returns the place you have."""
    request = GatheringRef(actor=user, gathering_id=gathering_id)
    return await rpc.request(RpcSubject.SHARING_RSVP, request, MyRsvp)


@router.delete(
    "/{gathering_id}/rsvp",
    status_code=204,
    response_class=Response,
    summary="Cancel my RSVP",
    responses={
        **problem(404, "No such gathering, or no RSVP of the caller"),
        **problem(409, "The gathering has ended"),
    },
)
async def cancel_rsvp(gathering_id: GatheringId, user: CurrentUser, rpc: Rpc) -> Response:
    """A seat you free goes to the first person on the waitlist."""
    request = GatheringRef(actor=user, gathering_id=gathering_id)
    await rpc.command(RpcSubject.SHARING_CANCEL_RSVP, request)
    return Response(status_code=204)
