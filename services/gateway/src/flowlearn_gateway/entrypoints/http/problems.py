"""RFC 9457 problem responses for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from flowlearn_shared.rpc import Problem
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from flowlearn_gateway.domain.errors import (
    AuthenticationFailed,
    BadServiceReply,
    ServiceProblem,
    ServiceUnavailable,
)

log = logging.getLogger("flowlearn.gateway.http")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://flowlearn.dev/problems/"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_type(title: str) -> str:
    return PROBLEM_BASE + title.lower().replace(" ", "-")


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    type_: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ProblemResponse:
    title = title or _phrase(status)
    problem = Problem(
        type=type_ or problem_type(title),
        title=title,
        status=status,
        detail=detail,
        errors=errors,
    )
    body = problem.model_dump(exclude_none=True)
    if extra:
        body.update(extra)
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Location, message and type of each failing field; never the submitted value."""
    out: list[dict[str, Any]] = []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        out.append(
            {
                "loc": [part for part in error.get("loc", ()) if isinstance(part, str | int)],
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return out


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    routes = [r for r in request.app.router.routes if isinstance(r, BaseRoute)]
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


def unavailable(dependency: str, retry_after: int) -> ProblemResponse:
    return problem_response(
        503,
        title="Service unavailable",
        detail=f"The {dependency} service is not answering; try again shortly.",
        headers={"Retry-After": str(retry_after)},
    )


def install_problem_handlers(app: FastAPI, *, retry_after: int) -> None:
    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        if detail == _phrase(exc.status_code):
            detail = None
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route's methods; one path has several routes.
            headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
        return problem_response(exc.status_code, detail=detail, headers=headers)

    async def on_request_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc.errors())
        if any(e["type"] == "json_invalid" for e in errors):
            detail = "The request body is not valid JSON."
        else:
            detail = f"{len(errors)} field(s) of the request are invalid."
        return problem_response(422, title="Unprocessable content", detail=detail, errors=errors)

    async def on_model_invalid(request: Request, exc: Exception) -> Response:
        # A shared model refused a value the route let through (e.g. too many tags).
        assert isinstance(exc, ValidationError)
        errors = field_errors(exc.errors(include_input=False))
        return problem_response(
            422,
            title="Unprocessable content",
            detail=f"{len(errors)} field(s) of the request are invalid.",
            errors=errors,
        )

    async def on_unauthenticated(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthenticationFailed)
        challenge = 'Bearer error="invalid_token"' if exc.token_present else "Bearer"
        return problem_response(
            401,
            title="Unauthorized",
            detail=exc.detail,
            headers={"WWW-Authenticate": challenge},
        )

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceUnavailable)
        log.warning("dependency unavailable: %s (%s)", exc.dependency, exc.reason)
        return unavailable(exc.dependency, retry_after)

    async def on_bad_reply(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadServiceReply)
        return problem_response(
            502, title="Bad gateway", detail=f"The {exc.service} service sent an invalid reply."
        )

    async def on_service_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceProblem)
        problem = exc.problem
        if not 400 <= problem.status <= 599:
            log.error("service problem with status %s", problem.status)
            return problem_response(502, title="Bad gateway")
        return problem_response(
            problem.status,
            title=problem.title,
            detail=problem.detail,
            type_=problem.type,
            errors=field_errors(problem.errors) if problem.errors else None,
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Logged with its traceback by the server; the client learns nothing internal.
        return problem_response(
            500, title="Internal server error", detail="An unexpected error occurred."
        )

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_request_invalid)
    app.add_exception_handler(ValidationError, on_model_invalid)
    app.add_exception_handler(AuthenticationFailed, on_unauthenticated)
    app.add_exception_handler(ServiceUnavailable, on_unavailable)
    app.add_exception_handler(BadServiceReply, on_bad_reply)
    app.add_exception_handler(ServiceProblem, on_service_problem)
    app.add_exception_handler(Exception, on_unexpected)
