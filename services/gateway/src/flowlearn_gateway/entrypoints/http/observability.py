"""Trace context and metrics for every HTTP request, and ``GET /metrics``.

Each request gets a server span: a child of the caller's W3C ``traceparent`` when it sends
one, else the root of a new trace. The span is current while the app runs, so the access
log line and every request to a service carry its trace id; the response returns it in
``traceparent`` and ``X-Trace-Id`` for people reporting a problem.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from flowlearn_shared.observability.metrics import (
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    HTTP_REQUESTS_IN_PROGRESS,
)
from flowlearn_shared.observability.tracing import (
    TRACE_ID_HEADER,
    TRACEPARENT,
    continue_trace,
    current_ids,
    trace_headers,
)
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Requests no route matched: one label value, so probing random paths adds no series.
UNMATCHED = "unmatched"
_INCOMING = {b"traceparent": "traceparent", b"tracestate": "tracestate"}
# Any other method a client makes up is counted as "OTHER", again to bound the series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's template (``/v1/journal/entries/{entry_id}``), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = {
            _INCOMING[name]: value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _INCOMING
        }
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        status = 500
        start = time.perf_counter()
        HTTP_REQUESTS_IN_PROGRESS.inc()
        with continue_trace(f"HTTP {method}", incoming, SpanKind.SERVER) as span:
            ids = current_ids()
            outgoing: list[tuple[bytes, bytes]] = []
            if ids is not None and (traceparent := trace_headers().get(TRACEPARENT)):
                outgoing = [
                    (TRACEPARENT.encode(), traceparent.encode()),
                    (TRACE_ID_HEADER.lower().encode(), ids[0].encode()),
                ]

            async def send_with_trace(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    if outgoing:
                        headers = [*message.get("headers", []), *outgoing]
                        message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, receive, send_with_trace)
            finally:
                HTTP_REQUESTS_IN_PROGRESS.dec()
                route = route_template(scope)
                span.update_name(f"HTTP {method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_REQUEST_DURATION.labels(method, route).observe(time.perf_counter() - start)


def install_metrics_route(app: FastAPI) -> None:
    """Prometheus text of this gateway process; an operator's route, not in the API contract."""

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
