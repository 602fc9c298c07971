"""The whole system as separate local processes: nats-server, SecantusDB and the four
services. ``flowlearn dev`` runs it in the foreground; the end-to-end tests run it too."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from flowlearn_cli import servers

SERVICES = ("journal", "nudges", "sharing", "gateway")


@dataclass
class StackConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    nats_port: int = 4222
    mongo_port: int = 27017
    http_port: int = 8000
    env: str = "dev"
    jwt_secret: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Each service's /metrics port ("journal", "nudges", "sharing"); the gateway serves
    # /metrics on its HTTP port. A service left out has no metrics listener.
    metrics_ports: dict[str, int] = field(default_factory=dict)
    # External servers, when the caller already runs them.
    nats_url: str | None = None
    mongodb_uri: str | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def metrics_url(self, service: str) -> str:
        if service == "gateway":
            return f"{self.gateway_url}/metrics"
        return f"http://{self.host}:{self.metrics_ports[service]}/metrics"


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.nats: servers.ManagedProcess | None = None
        self.mongo: servers.ManagedProcess | None = None
        self.services: dict[str, servers.ManagedProcess] = {}

    @property
    def nats_url(self) -> str:
        return self.config.nats_url or servers.nats_url(self.config.host, self.config.nats_port)

    @property
    def mongodb_uri(self) -> str:
        return self.config.mongodb_uri or servers.mongodb_uri(
            self.config.host, self.config.mongo_port
        )

    def check_ports(self) -> None:
        """Fail before starting anything when a port we need is taken."""
        wanted = [("gateway HTTP", self.config.http_port)]
        wanted += [(f"{name} metrics", port) for name, port in self.config.metrics_ports.items()]
        if not self.config.nats_url:
            wanted.append(("NATS", self.config.nats_port))
        if not self.config.mongodb_uri:
            wanted.append(("MongoDB", self.config.mongo_port))
        for name, port in wanted:
            if servers.port_in_use(self.config.host, port):
                raise servers.ServerStartError(
                    f"port {port} for {name} is already taken on {self.config.host}; "
                    "stop whatever uses it or choose another port"
                )

    def start_servers(self) -> None:
        data = self.config.data_dir
        if not self.config.nats_url:
            self.nats = servers.nats_server(data / "nats", self.config.nats_port).start()
        if not self.config.mongodb_uri:
            self.mongo = servers.mongo_server(data / "mongo", self.config.mongo_port).start()

    def service_env(self) -> dict[str, str]:
        env = {
            "FLOWLEARN_ENV": self.config.env,
            "FLOWLEARN_NATS_URL": self.nats_url,
            "FLOWLEARN_MONGODB_URI": self.mongodb_uri,
            "FLOWLEARN_HTTP_PORT": str(self.config.http_port),
            "FLOWLEARN_GATEWAY_HTTP_HOST": self.config.host,
            "PYTHONUNBUFFERED": "1",
            **self.config.extra_env,
        }
        if self.config.jwt_secret:
            env["FLOWLEARN_JWT_SECRET"] = self.config.jwt_secret
        return env

    def service(self, name: str, metrics_port: int | None = None) -> servers.ManagedProcess:
        # Readiness is checked by the gateway's /readyz, so the "port" here is the
        # gateway's. ``metrics_port`` overrides the configured one (a second replica).
        env = self.service_env()
        port = self.config.metrics_ports.get(name) if metrics_port is None else metrics_port
        if port is not None and name != "gateway":
            env[f"FLOWLEARN_{name.upper()}_METRICS_PORT"] = str(port)
            env[f"FLOWLEARN_{name.upper()}_METRICS_HOST"] = self.config.host
        return servers.ManagedProcess(
            f"flowlearn-{name}",
            [sys.executable, "-m", f"flowlearn_{name}"],
            self.config.host,
            self.config.http_port,
            self.config.data_dir / "logs" / f"{name}.log",
            env=env,
        )

    def start_service(self, name: str) -> servers.ManagedProcess:
        proc = self.service(name)
        if name == "gateway":
            proc.start(timeout=60)
        else:
            proc.spawn()
        self.services[name] = proc
        return proc

    def start(self) -> None:
        self.check_ports()
        self.start_servers()
        for name in SERVICES:
            self.start_service(name)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name, proc in self.services.items():
                if not proc.running:
                    raise servers.ServerStartError(
                        f"flowlearn-{name} exited during start-up:\n{proc.log_tail()}"
                    )
            try:
                response = httpx.get(f"{self.config.gateway_url}/readyz", timeout=3)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise servers.ServerStartError(f"the system did not become ready in time: {last}")

    def stop_service(self, name: str) -> None:
        proc = self.services.get(name)
        if proc is not None:
            proc.stop()

    def first_exited(self) -> str | None:
        for name, proc in self.services.items():
            if not proc.running:
                return name
        return None

    def stop(self) -> None:
        for name in reversed(SERVICES):
            self.stop_service(name)
        for server in (self.mongo, self.nats):
            if server is not None:
                server.stop()
