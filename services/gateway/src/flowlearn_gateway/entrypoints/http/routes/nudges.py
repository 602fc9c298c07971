"""``/v1/nudges``: the caller's nudge preferences, their in-app inbox and their responses.
Another person's nudge does not exist for the caller (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from flowlearn_shared.contracts.nudges import (
    INBOX_LIMIT_DEFAULT,
    INBOX_LIMIT_MAX,
    AckRequest,
    InboxQuery,
    InboxRequest,
    NudgeAck,
    NudgePage,
    NudgePreferences,
    NudgePublic,
    NudgeStatus,
    PreferencesRequest,
    UpdatePreferencesRequest,
)
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.entrypoints.http.deps import CurrentUser, Rpc
from flowlearn_gateway.entrypoints.http.openapi import PROBLEM_RESPONSES, problem

PREFIX = "/v1/nudges"
router = APIRouter(prefix=PREFIX, tags=["nudges"], responses=PROBLEM_RESPONSES)

NudgeId = Annotated[str, Path(min_length=1, max_length=200, description="The nudge's id")]


@router.get(
    "/preferences",
    response_model=NudgePreferences,
    status_code=200,
    summary="My nudge preferences",
)
async def get_preferences(user: CurrentUser, rpc: Rpc) -> NudgePreferences:
    request = PreferencesRequest(actor=user)
    return await rpc.request(RpcSubject.NUDGES_GET_PREFERENCES, request, NudgePreferences)


@router.put(
    "/preferences",
    response_model=NudgePreferences,
    status_code=200,
    summary="Replace my nudge preferences",
)
async def put_preferences(
    preferences: NudgePreferences, user: CurrentUser, rpc: Rpc
) -> NudgePreferences:
    """Types left out go back to their defaults. A type's `rrule` is read in the time zone
    of my profile; scheduled nudges are re-timed at once."""
    request = UpdatePreferencesRequest(actor=user, preferences=preferences)
    return await rpc.request(RpcSubject.NUDGES_UPDATE_PREFERENCES, request, NudgePreferences)


@router.get("/inbox", response_model=NudgePage, status_code=200, summary="My nudges")
async def inbox(
    user: CurrentUser,
    rpc: Rpc,
    status: NudgeStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[
        int,
        Query(
            ge=1, description=f"Page size; above {INBOX_LIMIT_MAX} is read as {INBOX_LIMIT_MAX}."
        ),
    ] = INBOX_LIMIT_DEFAULT,
) -> NudgePage:
    """Nudges that reached me, last delivered first."""
    query = InboxQuery(status=status, cursor=cursor, limit=min(limit, INBOX_LIMIT_MAX))
    request = InboxRequest(actor=user, query=query)
    return await rpc.request(RpcSubject.NUDGES_INBOX, request, NudgePage)


@router.post(
    "/{nudge_id}/ack",
    response_model=NudgePublic,
    status_code=200,
    summary="Respond to a nudge",
    responses={
        **problem(404, "No such nudge for this user"),
        **problem(409, "The nudge can no longer take this response"),
    },
)
async def ack(nudge_id: NudgeId, ack: NudgeAck, user: CurrentUser, rpc: Rpc) -> NudgePublic:
    """`opened`, `acted`, `dismissed`, or `snoozed` with `minutes` (5 to 1440): it comes back
    then, outside my quiet hours."""
    request = AckRequest(actor=user, nudge_id=nudge_id, ack=ack)
    return await rpc.request(RpcSubject.NUDGES_ACK, request, NudgePublic)
