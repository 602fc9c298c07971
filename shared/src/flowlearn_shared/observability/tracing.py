"""W3C trace context across HTTP and NATS.

The gateway starts (or continues, from the caller's ``traceparent``) a span per request and
puts its context into NATS headers; services continue it from the headers of each request
and event. The outbox stores the headers with the record, so an event published later by
the relay still belongs to the request that caused it.

Spans are exported only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``)
is set and an OTLP exporter package is installed; otherwise ids are still made and
carried (as not sampled, unless the caller sampled the trace), and logs show them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import Span, SpanKind

log = logging.getLogger("flowlearn.tracing")

TRACEPARENT = "traceparent"
TRACE_ID_HEADER = "X-Trace-Id"
# The headers trace context travels in; copied onto dead letters so a replay keeps them.
TRACE_HEADERS = ("traceparent", "tracestate")
_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

_tracer = trace.get_tracer("flowlearn")


def configure_tracing(service: str) -> None:
    """Install the SDK's tracer provider once per process, so spans get ids of their own."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    exporter = _otlp_exporter()
    # With nowhere to send spans, traces this process starts are not sampled: their ids are
    # still made, carried and logged, but no span is recorded (a cost on every message).
    # A caller's sampled trace is still followed.
    sampler = ParentBased(ALWAYS_ON if exporter is not None else ALWAYS_OFF)
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"flowlearn-{service}"}), sampler=sampler
    )
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def _otlp_exporter() -> SpanExporter | None:
    if not any(os.environ.get(name) for name in _ENDPOINT_VARS):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[no-redef]
                OTLPSpanExporter,
            )
        except ImportError:
            log.warning(
                "an OTLP endpoint is set but no exporter is installed; spans are not exported "
                "(install opentelemetry-exporter-otlp-proto-http)"
            )
            return None
    exporter: SpanExporter = OTLPSpanExporter()
    return exporter


def trace_headers() -> dict[str, str]:
    """The current trace context as headers; empty when no span is active."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def continue_trace(
    name: str,
    headers: Mapping[str, str] | None,
    kind: SpanKind = SpanKind.CONSUMER,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A span for work that arrived with ``headers``: a child of the sender's span, or the
    start of a new trace when the headers carry none."""
    parent = propagate.extract(dict(headers)) if headers else None
    with _tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=dict(attributes or {})
    ) as span:
        yield span


def new_trace(name: str, attributes: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The headers of a new trace for work that starts here rather than from a request (a
    scheduled delivery): one root span, ended at once, whose context travels with the work
    so every service it reaches logs the same trace id."""
    with _tracer.start_as_current_span(
        name, context=Context(), kind=SpanKind.PRODUCER, attributes=dict(attributes or {})
    ):
        return trace_headers()


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the active span, as hex, or None."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
