"""JSON log lines name the trace and span they were written in."""

from __future__ import annotations

import json
import logging
import secrets

import pytest
from flowlearn_shared.logs import JsonFormatter
from flowlearn_shared.observability.tracing import configure_tracing, continue_trace

pytestmark = pytest.mark.unit


def line(message: str) -> dict[str, object]:
    record = logging.LogRecord("flowlearn.test", logging.INFO, __file__, 1, message, (), None)
    record.consumer = "c1"
    parsed: dict[str, object] = json.loads(JsonFormatter("tests").format(record))
    return parsed


def test_log_line_has_the_active_trace_and_span() -> None:
    configure_tracing("tests")
    trace_id, parent_span = secrets.token_hex(16), secrets.token_hex(8)
    with continue_trace("work", {"traceparent": f"00-{trace_id}-{parent_span}-01"}):
        inside = line("handled")
    assert inside["trace_id"] == trace_id
    assert isinstance(inside["span_id"], str)
    assert len(inside["span_id"]) == 16
    assert inside["span_id"] != parent_span  # the handler's own span, a child of the caller's
    assert inside["consumer"] == "c1"


def test_log_line_without_a_span_has_no_trace_fields() -> None:
    outside = line("idle")
    assert "trace_id" not in outside
    assert "span_id" not in outside
