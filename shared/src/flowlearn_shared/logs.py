"""JSON-line logs: one object per line, with any ``extra`` fields kept, and the trace and
span ids of the active span, so one request's lines can be found in every service."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from flowlearn_shared.observability.tracing import current_ids

# "color_message" is uvicorn's coloured copy of the message: noise in JSON.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (ids := current_ids()) is not None:
            line["trace_id"], line["span_id"] = ids
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
