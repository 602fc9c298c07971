"""What both benchmarks share: local servers, CPU time of a process, percentiles, machine
facts, and the shape of a result."""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import os
import platform
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flowlearn_cli import servers
from flowlearn_cli.stack import StackConfig

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[1]
VERSIONED = (
    "faststream",
    "nats-py",
    "pymongo",
    "secantusdb",
    "pydantic",
    "fastapi",
    "uvicorn",
    "httpx",
)
_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces; the fields after its closing bracket do not.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (``/proc/stat``)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / _TICKS


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have been waited for (the
    servers and services a benchmark starts and stops)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; ``values`` need not be sorted."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(max(1, math.ceil(pct / 100 * len(ordered))), len(ordered))
    return ordered[rank - 1]


@dataclass
class Run:
    """One measured series of requests: latencies, failures and each process's CPU."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0
    drain: float = 0.0  # after the last reply, until the work it set off was done
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    def ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000

    def cpu_per_1k(self, *names: str) -> float:
        """CPU seconds per 1,000 requests of the processes named (all when none is)."""
        spent = sum(self.cpu.get(name, 0.0) for name in names or self.cpu)
        return spent / self.done * 1000 if self.done else float("nan")


@dataclass
class Servers:
    nats_url: str
    mongodb_uri: str
    workdir: Path
    pids: dict[str, int]  # "nats-server", "secantusdb"


@contextlib.contextmanager
def local_servers(keep: bool = False) -> Iterator[Servers]:
    """nats-server and SecantusDB on free 127.0.0.1 ports, in a fresh directory; both are
    stopped when the block ends, whatever happened inside it."""
    workdir = Path(tempfile.mkdtemp(prefix="flowlearn-bench-"))
    nats_port, mongo_port = servers.free_port(HOST), servers.free_port(HOST)
    nats = servers.nats_server(workdir / "nats", nats_port, HOST)
    mongo = servers.mongo_server(workdir / "mongo", mongo_port, HOST)
    try:
        nats.start()
        mongo.start()
        assert nats.process is not None
        assert mongo.process is not None
        pids = {"nats-server": nats.process.pid, "secantusdb": mongo.process.pid}
        nats_url, mongodb_uri = (
            servers.nats_url(HOST, nats_port),
            servers.mongodb_uri(HOST, mongo_port),
        )
        yield Servers(nats_url, mongodb_uri, workdir, pids)
    finally:
        for proc in (mongo, nats):
            with contextlib.suppress(Exception):
                proc.stop()
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def nats_server_version() -> str:
    try:
        out = subprocess.run(
            [servers.find_binary("nats-server"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip().removeprefix("nats-server: ") or "unknown"
    except (OSError, servers.ServerStartError, subprocess.TimeoutExpired):
        return "unknown"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def code_version() -> str:
    """The commit measured, marked ``-dirty`` when the work tree has uncommitted changes."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def machine_info() -> dict[str, str]:
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    return {
        "nproc": str(os.cpu_count() or "?"),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        **versions,
        "nats-server": nats_server_version(),
        "flowlearn": code_version(),
    }


@dataclass
class Check:
    """One project target: the measured value (a ratio unless ``unit`` says otherwise)
    against its bound."""

    name: str
    value: float
    bound: str
    met: bool
    unit: str = "x"

    @property
    def shown(self) -> str:
        return (
            f"{self.value:.2f}{self.unit}" if self.unit == "x" else f"{self.value:,.2f} {self.unit}"
        )


@dataclass
class Outcome:
    title: str
    params: str
    header: list[str]
    rows: list[list[str]]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def stack_config(srv: Servers, **env: str) -> StackConfig:
    """Flowlearn's services on the benchmark's servers, with these extra settings."""
    return StackConfig(
        data_dir=srv.workdir / "stack",
        host=HOST,
        http_port=servers.free_port(HOST),
        env="test",
        nats_url=srv.nats_url,
        mongodb_uri=srv.mongodb_uri,
        extra_env=env,
    )
