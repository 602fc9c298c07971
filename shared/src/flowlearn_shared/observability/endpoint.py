"""``GET /metrics`` for services that have no HTTP server of their own.

A few lines of asyncio instead of a web framework: one route, Prometheus' text format.
Gauges that need a query (consumer lag, outbox backlog) are sampled when scraped, with a
time limit, so a slow database cannot hold the scrape up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

log = logging.getLogger("flowlearn.metrics")

Sampler = Callable[[], Awaitable[None]]
SAMPLE_TIMEOUT_SECONDS = 2.0
_READ_TIMEOUT_SECONDS = 5.0
_MAX_HEADER_LINES = 100


async def sample_all(samplers: Sequence[Sampler]) -> None:
    """Run every sampler; one that fails or is late leaves its gauges at the last value."""

    async def one(sampler: Sampler) -> None:
        try:
            await asyncio.wait_for(sampler(), SAMPLE_TIMEOUT_SECONDS)
        except Exception as exc:
            log.debug("metrics sampler failed: %r", exc)

    await asyncio.gather(*(one(s) for s in samplers))


class MetricsServer:
    """Serves the registry on ``host:port``; port 0 means no listener at all."""

    def __init__(
        self,
        host: str,
        port: int,
        samplers: Sequence[Sampler] = (),
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.host = host
        self.port = port
        self.samplers = list(samplers)
        self.registry = registry
        self._server: asyncio.Server | None = None

    @property
    def enabled(self) -> bool:
        return self.port != 0

    async def start(self) -> None:
        if not self.enabled or self._server is not None:
            return
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        log.info("metrics at http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, content_type, body = await asyncio.wait_for(
                self._respond(reader), _READ_TIMEOUT_SECONDS + SAMPLE_TIMEOUT_SECONDS
            )
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond(self, reader: asyncio.StreamReader) -> tuple[str, str, bytes]:
        request_line = (await reader.readline()).decode("latin-1").split()
        for _ in range(_MAX_HEADER_LINES):  # the headers are not needed, only read
            if (await reader.readline()) in (b"\r\n", b"\n", b""):
                break
        if len(request_line) < 2 or request_line[0] not in ("GET", "HEAD"):
            return "405 Method Not Allowed", "text/plain", b"method not allowed\n"
        if request_line[1].split("?", 1)[0] != "/metrics":
            return "404 Not Found", "text/plain", b"not found; try /metrics\n"
        await sample_all(self.samplers)
        body = generate_latest(self.registry)
        return "200 OK", CONTENT_TYPE_LATEST, b"" if request_line[0] == "HEAD" else body
