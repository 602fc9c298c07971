"""Start the local servers Flowlearn needs (nats-server, SecantusDB) as child processes.

Used by ``flowlearn dev`` and by the test fixtures. Each start waits until the port
answers and fails with one clear error (and the server's last log lines) otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_SECONDS = 30.0


class ServerStartError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def find_binary(name: str) -> str:
    """Prefer the binary installed beside this interpreter (the project's venv)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise ServerStartError(
            f"{name} is not installed; run `make install` (it comes from the dev dependencies)"
        )
    return found


@dataclass
class ManagedProcess:
    name: str
    args: list[str]
    host: str
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> ManagedProcess:
        if port_in_use(self.host, self.port):
            raise ServerStartError(f"{self.name}: port {self.host}:{self.port} is already taken")
        self.spawn()
        self.wait_ready(timeout)
        return self

    def spawn(self) -> None:
        """Start the process without waiting for it to answer."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        log.close()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            if port_in_use(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise ServerStartError(
            f"{self.name} did not answer on {self.host}:{self.port} within {timeout:.0f}s:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running or self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def kill(self) -> None:
        if self.running and self.process is not None:
            self.process.kill()
            self.process.wait(5)


def nats_server(data_dir: Path, port: int, host: str = "127.0.0.1") -> ManagedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [find_binary("nats-server"), "-js", "-sd", str(data_dir), "-a", host, "-p", str(port)]
    return ManagedProcess("nats-server", args, host, port, data_dir / "nats-server.log")


def mongo_server(data_dir: Path | None, port: int, host: str = "127.0.0.1") -> ManagedProcess:
    """SecantusDB: MongoDB wire protocol for local use and tests (a real MongoDB in production)."""
    storage = ":memory:" if data_dir is None else str(data_dir / "db")
    log_dir = data_dir or Path(os.environ.get("TMPDIR", "/tmp")) / f"secantus-{port}"
    args = [
        find_binary("secantusd-py"),
        "--host",
        host,
        "--port",
        str(port),
        "--storage-path",
        storage,
        "--log-level",
        "WARNING",
    ]
    return ManagedProcess("secantusdb", args, host, port, log_dir / "secantusdb.log")


def nats_url(host: str, port: int) -> str:
    return f"nats://{host}:{port}"


def mongodb_uri(host: str, port: int) -> str:
    return f"mongodb://{host}:{port}/?directConnection=true"
