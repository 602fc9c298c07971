"""``/v1/hooks``: events from outside tools (CI, incident trackers...), so nudges can follow
work as it happens. No bearer token: each source signs its requests with its own secret."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from flowlearn_shared.contracts.hooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CloudEventIn,
    WorkEventAccepted,
)
from starlette.responses import Response

from flowlearn_gateway.domain.hooks import (
    SignatureRejected,
    check_signature,
    check_timestamp,
    dedup_key,
    work_event,
)
from flowlearn_gateway.entrypoints.http.deps import AppContainer
from flowlearn_gateway.entrypoints.http.openapi import problems
from flowlearn_gateway.entrypoints.http.problems import problem_response

log = logging.getLogger("flowlearn.gateway.hooks")

PREFIX = "/v1/hooks"
router = APIRouter(prefix=PREFIX, tags=["hooks"])

_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": CloudEventIn.model_json_schema()}
            for media in ("application/cloudevents+json", "application/json")
        },
    }
}


def _rejected(detail: str) -> Response:
    return problem_response(
        401,
        title="Unauthorized",
        detail=detail,
        headers={"WWW-Authenticate": f'HMAC-SHA256 header="{SIGNATURE_HEADER}"'},
    )


def _claimed_source(body: bytes) -> str | None:
    """The CloudEvent's ``source``, read before the signature is checked only to pick
    the secret to check it with."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    source = parsed.get("source") if isinstance(parsed, dict) else None
    return source if isinstance(source, str) else None


@router.post(
    "/work-events",
    response_model=WorkEventAccepted,
    status_code=202,
    summary="Receive a signed work event (CloudEvents, structured JSON)",
    openapi_extra=_REQUEST_BODY,
    responses=problems(401, 413, 422, 503),
)
async def receive_work_event(
    request: Request,
    app: AppContainer,
    timestamp: Annotated[
        str | None,
        Header(alias=TIMESTAMP_HEADER, max_length=20, description="Unix seconds of signing"),
    ] = None,
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            max_length=100,
            description="`sha256=<hex>`: HMAC-SHA256 over `<timestamp>.<raw body>` with the "
            "source's secret",
        ),
    ] = None,
) -> WorkEventAccepted | Response:
    """Published as `flow.work.<source>.<type>.v1` for rules to act on (e.g. an incident
    closed: ask its `data.participants` to reflect). The signed request must be at most
    five minutes old. The same source and `id` sent again is accepted and has no second
    effect."""
    body = await request.body()
    now = datetime.now(UTC)
    try:
        check_timestamp(timestamp, now, app.settings.hook_tolerance_seconds)
        source = _claimed_source(body)
        secret = app.settings.hook_secrets.get(source) if source else None
        if source is None or secret is None:
            raise SignatureRejected("the source is not known")
        assert timestamp is not None
        check_signature(secret.get_secret_value(), timestamp, body, signature)
    except SignatureRejected as exc:
        log.warning("work event refused: %s", exc.detail)
        return _rejected(exc.detail)
    # Signed by a known source: now its shape is checked (a 422 lists the fields).
    incoming = CloudEventIn.model_validate_json(body)
    try:
        event = work_event(incoming, now)
    except ValueError:
        error = {"loc": ["body", "type"], "msg": "no usable letters", "type": "value_error"}
        return problem_response(
            422,
            title="Unprocessable content",
            detail="The source and type must contain letters or digits.",
            errors=[error],
        )
    duplicate = await app.work_events.publish(event, dedup_key(incoming.source, incoming.id))
    log.info("work event accepted", extra={"event_type": event.type, "duplicate": duplicate})
    return WorkEventAccepted(id=str(event.id), subject=event.type, duplicate=duplicate)
