"""``/v1/me/export``, ``DELETE /v1/me`` and ``/v1/me/erasure/{id}``: a person's data across
every service, exported as one JSON document, and erased everywhere.

These routes verify the token but do not create a profile on first sight (as the other
routes do): exporting or erasing must not bring back a person who was just erased. A later
request to any other route starts a new, empty profile from the token's claims.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from flowlearn_shared.contracts.personal_data import (
    ERASURE_ID_PATTERN,
    ContentChoice,
    EraseRequest,
    ErasureAccepted,
    ErasureRef,
    ErasureStatus,
    PersonalDataExport,
)
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject

from flowlearn_gateway.adapters.personal_data import ExportIncomplete, PersonalDataClient
from flowlearn_gateway.domain.errors import AuthenticationFailed
from flowlearn_gateway.entrypoints.http.deps import AppContainer, BearerCredentials, Rpc
from flowlearn_gateway.entrypoints.http.openapi import LOCATION_HEADER, PROBLEM_RESPONSES, problem
from flowlearn_gateway.entrypoints.http.problems import problem_response

PREFIX = "/v1/me"
router = APIRouter(prefix=PREFIX, tags=["people"], responses=PROBLEM_RESPONSES)

EXPORT_FILENAME = "flowlearn-export.json"
# Personal data: no shared cache may keep it.
PRIVATE = {"Cache-Control": "private, no-store"}
ErasureId = Annotated[str, Path(pattern=ERASURE_ID_PATTERN, description="The erasure's id")]


async def verified_actor(app: AppContainer, credentials: BearerCredentials) -> Actor:
    """The caller, from their token only: no profile is made for them here."""
    if credentials is None or not credentials.credentials:
        raise AuthenticationFailed("A bearer token is required", token_present=False)
    return await app.tokens.verify(credentials.credentials)


VerifiedUser = Annotated[Actor, Depends(verified_actor)]


@router.get(
    "/export",
    response_model=None,
    summary="Export everything I own",
    responses={
        200: {
            "model": PersonalDataExport,
            "description": "One JSON document, offered as the file `flowlearn-export.json`.",
            "headers": {
                "Content-Disposition": {
                    "description": f'`attachment; filename="{EXPORT_FILENAME}"`',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem(503, "A service did not answer; no partial export is given. Retry later"),
    },
)
async def export_me(user: VerifiedUser, app: AppContainer, rpc: Rpc) -> Response:
    """Everything the caller owns in every service: journal entries and portfolio records;
    profile, memberships, posts (anonymous ones too, marked), comments, reactions, questions,
    answers, votes, kudos given and received, curated collections, enrolments, gatherings
    hosted and RSVPs, experiments; nudges, nudge preferences (a webhook's secret is never
    included: `has_secret` says whether one is set) and activity. `services` names every
    service that answered. When one does not answer in time the whole export fails with
    503 and `Retry-After`, as a partial export would look complete."""
    try:
        export = await PersonalDataClient(rpc).export(user)
    except ExportIncomplete as exc:
        return problem_response(
            503,
            title="Service unavailable",
            detail=f"No export: the {exc.dependency} service did not answer, and a partial "
            "export would look complete. Try again shortly.",
            headers={"Retry-After": str(app.settings.retry_after_seconds)},
            extra={"missing": exc.missing},
        )
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"'}
    return JSONResponse(export.model_dump(mode="json"), headers=headers)


@router.delete(
    "",
    response_model=ErasureAccepted,
    status_code=202,
    summary="Erase me everywhere",
    responses={202: {"headers": {"Location": LOCATION_HEADER}}},
)
async def erase_me(
    user: VerifiedUser,
    rpc: Rpc,
    response: Response,
    posts: Annotated[
        ContentChoice,
        Query(
            description="What becomes of what I wrote for others (posts, questions, answers, "
            "kudos given, collections, gatherings, experiments): `anonymise` keeps it without "
            "any trace of me; `delete` removes it."
        ),
    ] = ContentChoice.ANONYMISE,
) -> ErasureAccepted:
    """Every service erases everything of the caller and confirms; follow the progress at
    `Location`. Journal entries, profile, memberships, comments, reactions, votes, RSVPs
    (the seat goes to the waitlist), enrolments, kudos received, nudges and preferences are
    deleted. Asking again while an erasure is in progress returns the same erasure."""
    request = EraseRequest(actor=user, posts=posts)
    accepted = await rpc.request(RpcSubject.SHARING_ERASE_PERSON, request, ErasureAccepted)
    response.headers["Location"] = f"{PREFIX}/erasure/{accepted.erasure_id}"
    return accepted


@router.get(
    "/erasure/{erasure_id}",
    response_model=ErasureStatus,
    summary="How far my erasure is",
    responses=problem(404, "No such erasure of the caller's"),
)
async def erasure_status(erasure_id: ErasureId, user: VerifiedUser, rpc: Rpc) -> ErasureStatus:
    """Per service, `pending` or `erased`; works after everything of the caller is gone
    (the erasure keeps only a hash of their id). Anyone else is told it does not exist."""
    request = ErasureRef(actor=user, erasure_id=erasure_id)
    return await rpc.request(RpcSubject.SHARING_ERASURE_STATUS, request, ErasureStatus)
