"""The whole system as local processes, with the handles a fault scenario needs: kill -9 a
service, run several replicas of one (gateways each on a port of their own), stop NATS or
the database and start it again on the same port and data directory. Everything listens on
127.0.0.1 only, on free ports."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from flowlearn_cli import servers
from flowlearn_cli.stack import SERVICES, Stack, StackConfig

HOST = "127.0.0.1"
STARTED_LINE = '"service started"'
# Short enough that a test sees a timeout soon, long enough for a loaded two-core machine.
REQUEST_TIMEOUT_SECONDS = 3.0


class FaultStack(Stack):
    """A ``Stack`` whose parts can be broken and mended in place. Replicas beyond the first
    are keyed ``<service>-<n>`` in ``services``; NATS also serves its monitoring port."""

    def __init__(self, config: StackConfig, monitor_port: int) -> None:
        super().__init__(config)
        self.monitor_port = monitor_port
        # Gateway key -> its HTTP port, kept across a restart so clients find it again.
        self.gateway_ports: dict[str, int] = {"gateway": config.http_port}

    @property
    def gateway_urls(self) -> list[str]:
        return [f"http://{HOST}:{port}" for port in self.gateway_ports.values()]

    # --- servers -------------------------------------------------------------------------

    def _nats(self) -> servers.ManagedProcess:
        data = self.config.data_dir / "nats"
        data.mkdir(parents=True, exist_ok=True)
        args = [
            servers.find_binary("nats-server"),
            "-js",
            "-sd",
            str(data),
            "-a",
            HOST,
            "-p",
            str(self.config.nats_port),
            "-m",
            str(self.monitor_port),
        ]
        return servers.ManagedProcess(
            "nats-server", args, HOST, self.config.nats_port, data / "nats-server.log"
        )

    def _mongo(self) -> servers.ManagedProcess:
        return servers.mongo_server(self.config.data_dir / "mongo", self.config.mongo_port, HOST)

    def start_servers(self) -> None:
        self.nats = self._nats().start()
        self.mongo = self._mongo().start()

    def stop_nats(self) -> None:
        if self.nats is not None:
            self.nats.stop()

    def start_nats(self) -> None:
        """Again on the same port and JetStream store directory."""
        self.nats = self._nats().start()

    def stop_mongo(self) -> None:
        if self.mongo is not None:
            self.mongo.stop(timeout=30)

    def start_mongo(self) -> None:
        """Again on the same port and storage directory."""
        self.mongo = self._mongo().start()

    # --- services --------------------------------------------------------------------------

    def start_replica(self, name: str, replica: int) -> servers.ManagedProcess:
        """Another process of a service. A gateway gets an HTTP port of its own and is
        started once that port answers; the others are only spawned."""
        key = name if replica == 1 else f"{name}-{replica}"
        proc = self.service(name)
        proc.name = f"flowlearn-{key}"
        proc.log_path = self.config.data_dir / "logs" / f"{key}.log"
        if name == "gateway":
            port = self.gateway_ports.setdefault(key, servers.free_port(HOST))
            proc.port = port
            proc.env = {**proc.env, "FLOWLEARN_GATEWAY_HTTP_PORT": str(port)}
            proc.start(timeout=60)
        else:
            proc.spawn()
        self.services[key] = proc
        return proc

    def kill(self, key: str) -> None:
        """SIGKILL: no drain, no goodbye, exactly as a crash or an OOM kill."""
        self.services[key].kill()

    def restart(self, key: str, timeout: float = 60.0) -> None:
        """Start a stopped or killed service again and wait until it serves."""
        old = self.services[key]
        if old.running:
            raise RuntimeError(f"{key} is still running")
        name, _, replica = key.partition("-")
        before = started_count(old.log_path)
        proc = self.start_replica(name, int(replica or 1))
        if name != "gateway":  # a gateway's start returned once its port answered
            wait_started(proc, before, timeout)

    def pids(self) -> dict[str, int]:
        return {k: p.process.pid for k, p in self.services.items() if p.process is not None}

    def stop(self) -> None:
        # SIGTERM to every service at once, then wait: a sequential stop costs seconds each.
        order = sorted(self.services, key=lambda k: not k.startswith("gateway"))
        procs = [self.services[k] for k in order if self.services[k].running]
        for proc in procs:
            if proc.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    proc.process.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.stop(timeout=15)
        for server in (self.mongo, self.nats):
            if server is not None:
                server.stop(timeout=30)

    # --- observation -----------------------------------------------------------------------

    def connections(self) -> list[dict[str, Any]]:
        """NATS's own view of every client connection and its subscriptions (``/connz``)."""
        url = f"http://{HOST}:{self.monitor_port}/connz"
        response = httpx.get(url, params={"subs": "detail", "limit": 1024}, timeout=5)
        response.raise_for_status()
        return list(response.json().get("connections") or [])


def started_count(log_path: Path) -> int:
    try:
        return log_path.read_text(errors="replace").count(STARTED_LINE)
    except OSError:
        return 0


def wait_serving(url: str, timeout: float = 60.0) -> None:
    """Until a gateway's ``/readyz`` answers 200 (it reaches NATS and every service)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=3).status_code == 200:
                return
        if time.monotonic() >= deadline:
            raise servers.ServerStartError(f"{url} was not ready in {timeout:.0f}s")
        time.sleep(0.3)


def wait_started(proc: servers.ManagedProcess, before: int, timeout: float) -> None:
    """Until the process logs that it started (subscriptions in place), or fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.running:
            raise servers.ServerStartError(f"{proc.name} exited:\n{proc.log_tail()}")
        if started_count(proc.log_path) > before:
            return
        time.sleep(0.1)
    raise servers.ServerStartError(f"{proc.name} did not start in {timeout:.0f}s")


@contextlib.contextmanager
def fault_stack(
    workdir: Path,
    *,
    replicas: dict[str, int] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[FaultStack]:
    """A fresh system in ``workdir`` on free ports; stopped when the block ends, whatever
    happened inside it. ``replicas`` asks for more than one process of a service."""
    config = StackConfig(
        data_dir=workdir,
        host=HOST,
        nats_port=servers.free_port(HOST),
        mongo_port=servers.free_port(HOST),
        http_port=servers.free_port(HOST),
        env="test",
        extra_env={
            "FLOWLEARN_GATEWAY_REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT_SECONDS),
            # A fresh stream: every consumer sees everything published in the scenario.
            "FLOWLEARN_NEW_CONSUMERS_START_AT": "all",
            **(env or {}),
        },
    )
    stack = FaultStack(config, servers.free_port(HOST))
    try:
        stack.check_ports()
        stack.start_servers()
        for name in SERVICES:
            stack.start_service(name)
        for name, count in (replicas or {}).items():
            for replica in range(2, count + 1):
                stack.start_replica(name, replica)
        stack.wait_ready()
        for url in stack.gateway_urls[1:]:
            wait_serving(url)
        for key, proc in stack.services.items():
            if not key.startswith("gateway"):
                wait_started(proc, 0, 60)
        yield stack
    finally:
        stack.stop()
