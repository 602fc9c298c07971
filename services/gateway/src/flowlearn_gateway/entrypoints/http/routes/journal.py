"""``/v1/journal``: the caller's own private work journal."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from flowlearn_shared.contracts.journal import (
    MAX_TAGS,
    PAGE_LIMIT_DEFAULT,
    PAGE_LIMIT_MAX,
    EntryCreate,
    EntryKind,
    EntryPage,
    EntryPublic,
    EntryQuery,
    EntryShare,
    EntryUpdate,
    JournalStats,
    PromptList,
    ShareAccepted,
    ShareEntryRequest,
)
from flowlearn_shared.contracts.posts import AudienceCheck, CheckAudienceRequest
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject
from pydantic import AfterValidator, StringConstraints

from flowlearn_gateway.domain.identity import is_valid_timezone
from flowlearn_gateway.entrypoints.http.deps import CurrentUser, IdempotencyKey, Journal, Rpc
from flowlearn_gateway.entrypoints.http.etags import (
    format_etag,
    parse_if_match,
    precondition_failed,
)
from flowlearn_gateway.entrypoints.http.openapi import (
    ETAG_HEADER,
    LOCATION_HEADER,
    PROBLEM_RESPONSES,
    problem,
    problems,
)

PREFIX = "/v1/journal"
router = APIRouter(prefix=PREFIX, tags=["journal"], responses=PROBLEM_RESPONSES)


def _check_timezone(name: str) -> str:
    if not is_valid_timezone(name):
        raise ValueError("unknown time zone; use an IANA name such as 'Europe/Berlin'")
    return name


TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
TagParam = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
EntryId = Annotated[str, Path(min_length=1, max_length=100, description="The entry's id")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The entry\'s ETag (`"<version>"`) as last read, or `*`.',
    ),
]


def _entry_location(entry_id: str) -> str:
    return f"{PREFIX}/entries/{quote(entry_id, safe='')}"


async def _expected_version(
    journal: Journal, user: Actor, entry_id: str, if_match: str | None
) -> int | None:
    versions = parse_if_match(if_match)
    if versions is None or len(versions) == 1:
        return None if versions is None else next(iter(versions))
    # Several tags: pick the current one if listed; the journal re-checks it atomically.
    current: int = (await journal.get(user, entry_id)).version
    if current not in versions:
        raise precondition_failed("The entry does not match the If-Match header.")
    return current


@router.post(
    "/entries",
    response_model=EntryPublic,
    status_code=201,
    summary="Write a journal entry",
    responses={
        201: {"headers": {"Location": LOCATION_HEADER, "ETag": ETAG_HEADER}},
        **problems(413),
    },
)
async def create_entry(
    entry: EntryCreate,
    user: CurrentUser,
    journal: Journal,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EntryPublic:
    created = await journal.create(user, entry, idempotency_key)
    response.headers["Location"] = _entry_location(created.id)
    response.headers["ETag"] = format_etag(created.version)
    return created


@router.get("/entries", response_model=EntryPage, status_code=200, summary="List my entries")
async def list_entries(
    user: CurrentUser,
    journal: Journal,
    kind: EntryKind | None = None,
    tag: Annotated[
        list[TagParam],
        Query(max_length=MAX_TAGS, description="Repeat to require several tags (all of them)."),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
    q: Annotated[str | None, Query(max_length=200, description="Words to search for")] = None,
    from_date: Annotated[
        date | None, Query(alias="from", description="First day, inclusive")
    ] = None,
    to_date: Annotated[date | None, Query(alias="to", description="Last day, inclusive")] = None,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Page size; above {PAGE_LIMIT_MAX} is read as {PAGE_LIMIT_MAX}."),
    ] = PAGE_LIMIT_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> EntryPage:
    if from_date and to_date and from_date > to_date:
        raise RequestValidationError(
            [{"loc": ("query", "from"), "msg": "must not be after 'to'", "type": "value_error"}]
        )
    query = EntryQuery(
        kind=kind,
        tags=tag,
        q=q,
        from_date=from_date,
        to_date=to_date,
        # Asking for more than a page holds is not an error; the client gets a full page.
        limit=min(limit, PAGE_LIMIT_MAX),
        cursor=cursor,
    )
    return await journal.list(user, query)


@router.get(
    "/entries/{entry_id}",
    response_model=EntryPublic,
    status_code=200,
    summary="Read one entry",
    responses={200: {"headers": {"ETag": ETAG_HEADER}}, **problems(404)},
)
async def get_entry(
    entry_id: EntryId, user: CurrentUser, journal: Journal, response: Response
) -> EntryPublic:
    entry = await journal.get(user, entry_id)
    response.headers["ETag"] = format_etag(entry.version)
    return entry


@router.patch(
    "/entries/{entry_id}",
    response_model=EntryPublic,
    status_code=200,
    summary="Change an entry",
    responses={200: {"headers": {"ETag": ETAG_HEADER}}, **problems(404, 412, 413)},
)
async def update_entry(
    entry_id: EntryId,
    changes: EntryUpdate,
    user: CurrentUser,
    journal: Journal,
    response: Response,
    if_match: IfMatch = None,
) -> EntryPublic:
    """Fields left out stay as they are; `null` clears an optional field."""
    expected = await _expected_version(journal, user, entry_id, if_match)
    entry = await journal.update(user, entry_id, changes, expected)
    response.headers["ETag"] = format_etag(entry.version)
    return entry


@router.delete(
    "/entries/{entry_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an entry",
    responses=problems(404, 412),
)
async def delete_entry(
    entry_id: EntryId, user: CurrentUser, journal: Journal, if_match: IfMatch = None
) -> Response:
    expected = await _expected_version(journal, user, entry_id, if_match)
    await journal.delete(user, entry_id, expected)
    return Response(status_code=204)


@router.get("/prompts", response_model=PromptList, status_code=200, summary="Reflection prompts")
async def prompts(user: CurrentUser, journal: Journal) -> PromptList:
    return await journal.prompts(user)


@router.get("/stats", response_model=JournalStats, status_code=200, summary="My journal habit")
async def stats(
    user: CurrentUser,
    journal: Journal,
    tz: Annotated[
        TimeZoneName | None,
        Query(
            max_length=64,
            description="IANA zone for streaks; defaults to the zone in your profile.",
        ),
    ] = None,
) -> JournalStats:
    return await journal.stats(user, tz)


@router.post(
    "/entries/{entry_id}/share",
    response_model=ShareAccepted,
    status_code=202,
    summary="Share an excerpt of an entry",
    responses={**problem(403, "The caller cannot share with that audience"), **problems(404)},
)
async def share_entry(
    entry_id: EntryId, share: EntryShare, user: CurrentUser, rpc: Rpc
) -> ShareAccepted:
    """Only the excerpt (by default the whole body) and, unless `include_title` is false, the
    title leave the journal. The post appears in the audience's feed shortly after: a
    `reflection`, or a `lesson` for a mistake, which may be `anonymous`."""
    # Refuse at once an audience the sharing service would not publish to.
    check = CheckAudienceRequest(actor=user, audience=share.audience)
    await rpc.request(RpcSubject.SHARING_CHECK_AUDIENCE, check, AudienceCheck)
    request = ShareEntryRequest(actor=user, entry_id=entry_id, share=share)
    return await rpc.request(RpcSubject.JOURNAL_SHARE_ENTRY, request, ShareAccepted)
