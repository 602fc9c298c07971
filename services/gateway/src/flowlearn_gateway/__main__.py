"""``python -m flowlearn_gateway``: serve the API with uvicorn."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import uvicorn
from flowlearn_shared.logs import configure_logging
from pydantic import ValidationError

from flowlearn_gateway.entrypoints.http import create_app
from flowlearn_gateway.settings import GatewaySettings

log = logging.getLogger("flowlearn.gateway")


def _stopped(signum: int, frame: FrameType | None) -> None:
    # uvicorn finishes its graceful shutdown (requests in flight, the NATS drain) and then
    # raises the signal it caught again; by then stopping on request is a clean exit.
    raise SystemExit(0)


def main() -> None:
    configure_logging("gateway")
    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        # Without the input values: they may include the secret.
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}"
            for e in exc.errors(include_input=False)
        )
        log.critical("invalid settings: %s", problems)
        sys.exit(2)
    configure_logging("gateway", settings.log_level)
    logging.captureWarnings(True)  # library warnings as JSON lines too
    # uvicorn's own loggers go through the JSON root handler; its access log is ours.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
    )


if __name__ == "__main__":
    main()
