"""How errors and headers appear in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from flowlearn_shared.rpc import Problem

from flowlearn_gateway.entrypoints.http.problems import PROBLEM_MEDIA_TYPE

_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}

_DESCRIPTIONS = {
    401: "Missing, expired or invalid bearer token",
    403: "The caller's role or membership does not allow this",
    404: "No such entry for this user",
    412: "If-Match does not match the entry's current version",
    413: "Request body too large",
    422: "Invalid request; `errors` lists each failing field",
    429: "Too many requests from this user or address; retry after `Retry-After` seconds",
    503: "Not ready, or a service did not answer; retry after `Retry-After` seconds",
}

_STRING = {"type": "string"}
ETAG_HEADER = {
    "description": 'The entry\'s version as an entity tag: `"<version>"`',
    "schema": _STRING,
}
LOCATION_HEADER = {"description": "Path of the new entry", "schema": _STRING}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these problem statuses."""
    return {
        status: {"description": _DESCRIPTIONS[status], "content": _PROBLEM_CONTENT}
        for status in statuses
    }


def problem(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """One problem status with a description of its own (``404: "No such post"``)."""
    return {status: {"description": description, "content": _PROBLEM_CONTENT}}


# Every authenticated route can answer these.
PROBLEM_RESPONSES = problems(401, 422, 503)


def install_problem_schema(app: FastAPI) -> None:
    """Register ``Problem`` once under components, where the responses above point."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema()
            _add_rate_limited(schema)
            _add_bad_request(schema)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _add_rate_limited(schema: dict[str, Any]) -> None:
    # Every API operation can be refused by the rate limiter (entrypoints/http/rate_limit).
    retry_after = {"description": "Seconds until the current window ends", "schema": _STRING}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                response = {**problems(429)[429], "headers": {"Retry-After": retry_after}}
                operation["responses"].setdefault("429", response)


def _add_bad_request(schema: dict[str, Any]) -> None:
    # A body that is not JSON (or not UTF-8) and a cursor this API did not hand out are
    # refused with 400 before any field is validated (entrypoints/http/problems, pagination).
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            causes = []
            if "requestBody" in operation:
                causes.append("the body is not well-formed JSON")
            if any(
                parameter.get("in") == "query" and parameter.get("name") == "cursor"
                for parameter in operation.get("parameters", [])
            ):
                causes.append("the cursor is not one this API returned")
            if causes:
                description = "Malformed request: " + ", or ".join(causes)
                operation["responses"].setdefault("400", problem(400, description)[400])
