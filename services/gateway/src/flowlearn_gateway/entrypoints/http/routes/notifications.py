"""``/v1/notifications``: the caller's new nudges, live, as Server-Sent Events.

Each replica hears every delivered nudge over NATS and writes it to the streams its own
clients hold, so any number of gateway replicas can serve streams. A reconnecting client
sends ``Last-Event-ID`` and first gets what reached its inbox after that nudge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from flowlearn_shared.contracts.notifications import NudgeNotification, StreamTicket
from flowlearn_shared.contracts.nudges import InboxQuery, InboxRequest, NudgePage
from flowlearn_shared.rpc import Actor
from flowlearn_shared.subjects import RpcSubject
from starlette.responses import Response

from flowlearn_gateway.adapters.notifications import ClientStream, StreamLimitReached
from flowlearn_gateway.domain.errors import AuthenticationFailed, GatewayError
from flowlearn_gateway.entrypoints.http.deps import AppContainer, BearerCredentials, CurrentUser
from flowlearn_gateway.entrypoints.http.openapi import PROBLEM_RESPONSES, problem, problems
from flowlearn_gateway.entrypoints.http.problems import problem_response

log = logging.getLogger("flowlearn.gateway.notifications")

PREFIX = "/v1/notifications"
router = APIRouter(prefix=PREFIX, tags=["notifications"], responses=PROBLEM_RESPONSES)

EVENT_STREAM = "text/event-stream"
RECONNECT_MILLIS = 5000


async def stream_actor(
    app: AppContainer,
    credentials: BearerCredentials,
    ticket: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="A ticket from `POST /v1/notifications/tickets`, for clients that "
            "cannot send an Authorization header (a browser's EventSource)",
        ),
    ] = None,
) -> Actor:
    if credentials is not None and credentials.credentials:
        return await app.tokens.verify(credentials.credentials)
    if ticket:
        return app.tickets.verify(ticket)
    raise AuthenticationFailed("A bearer token or a stream ticket is required", token_present=False)


StreamUser = Annotated[Actor, Depends(stream_actor)]


def sse(notification: NudgeNotification) -> str:
    return f"id: {notification.id}\nevent: nudge\ndata: {notification.model_dump_json()}\n\n"


def _notification(item: object) -> NudgeNotification:
    return NudgeNotification.model_validate(item, from_attributes=True)


async def missed_since(app: AppContainer, actor: Actor, last_id: str) -> list[NudgeNotification]:
    """Nudges that reached the inbox after ``last_id``, oldest first. The inbox lists the
    last delivered first; when ``last_id`` is not on its first page, all of it is newer."""
    limit = app.settings.notifications_replay_limit
    if limit == 0:
        return []
    request = InboxRequest(actor=actor, query=InboxQuery(limit=limit))
    try:
        page = await app.rpc.request(RpcSubject.NUDGES_INBOX, request, NudgePage)
    except GatewayError as exc:
        log.warning("could not replay missed nudges: %s", exc)
        return []
    ids = [item.id for item in page.items]
    newer = page.items[: ids.index(last_id)] if last_id in ids else page.items
    return [_notification(item) for item in reversed(newer)]


async def _events(app: AppContainer, actor: Actor, last_event_id: str | None) -> AsyncIterator[str]:
    hub = app.notifications
    try:
        stream: ClientStream = hub.open(actor.user_id)
    except StreamLimitReached:
        return  # another stream opened meanwhile took the last place
    heartbeat = app.settings.notifications_heartbeat_seconds
    try:
        yield f"retry: {RECONNECT_MILLIS}\n: connected\n\n"
        replayed: set[str] = set()
        if last_event_id:
            # The stream is open already, so nothing delivered meanwhile is missed.
            for notification in await missed_since(app, actor, last_event_id):
                replayed.add(notification.id)
                yield sse(notification)
        while True:
            try:
                item = await asyncio.wait_for(stream.queue.get(), timeout=heartbeat)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:
                return
            if item.id in replayed and not item.redelivery:
                continue
            yield sse(item)
    finally:
        hub.close(stream)


@router.get(
    "/stream",
    status_code=200,
    summary="My new nudges, live (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An event stream: `event: nudge`, `id:` the nudge's id, `data:` a "
            "`NudgeNotification`; a comment line every 15 s keeps it open",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        },
        **problem(429, "Too many streams open for this person"),
        **problems(503),
    },
)
async def stream(
    app: AppContainer,
    actor: StreamUser,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=200, include_in_schema=False)
    ] = None,
    last_event_id_query: Annotated[
        str | None,
        Query(
            alias="last_event_id",
            max_length=200,
            description="As the `Last-Event-ID` header, for a client opening a new stream",
        ),
    ] = None,
) -> Response:
    """Authenticate with `Authorization: Bearer`, or with `?ticket=` where headers cannot be
    set. Reconnecting with `Last-Event-ID` first sends what reached the inbox since."""
    if not app.notifications.listening:
        return problem_response(
            503,
            title="Service unavailable",
            detail="Live notifications are not available yet; try again shortly.",
            headers={"Retry-After": str(app.settings.retry_after_seconds)},
        )
    try:
        app.notifications.check_room(actor.user_id)
    except StreamLimitReached as exc:
        detail = (
            f"At most {app.settings.notifications_max_per_user} streams per person"
            if exc.per_person
            else "The server has as many streams open as it can hold"
        )
        status = 429 if exc.per_person else 503
        return problem_response(
            status, detail=detail, headers={"Retry-After": str(app.settings.retry_after_seconds)}
        )
    return StreamingResponse(
        _events(app, actor, last_event_id or last_event_id_query),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/tickets",
    response_model=StreamTicket,
    status_code=201,
    summary="A short-lived ticket to open my notification stream",
)
async def ticket(user: CurrentUser, app: AppContainer) -> StreamTicket:
    """For a browser's `EventSource`, which cannot send an Authorization header: pass the
    ticket as `?ticket=`. It opens streams only and expires within a minute, so a URL that
    ends up in a log or history is of little use; a bearer token there would be."""
    lifetime = app.settings.notifications_ticket_seconds
    return StreamTicket(ticket=app.tickets.issue(user), expires_in=lifetime)
