"""One target of the scheduler wave benchmark: seed its database, start its process, let the
normal hour and then the wave fall due, and read back when each nudge reached the inbox.

Lateness is ``delivered_at - due_at`` per nudge, both from the database (``delivered_at``
is the delivering process's clock, the same machine's); the wave's drain time is its last
nudge's lateness. CPU and RSS are the process's own, from ``/proc`` (psutil for RSS,
sampled every quarter second).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import psutil
from flowlearn_cli import servers
from flowlearn_nudges.adapters.nudge_repository import NEVER
from flowlearn_nudges.settings import NudgesSettings
from flowlearn_shared.outbox import Outbox
from pymongo import AsyncMongoClient
from rich.progress import Progress

from bench.common import HOST, REPO_ROOT, Servers, percentile, proc_cpu_seconds
from bench.event_consumption import consumer_exists
from bench.wave_seed import (
    NORMAL,
    WAVE,
    Population,
    due_times,
    id_range,
    seed_backlog,
    seed_due,
    utc_ms,
)

FLOWLEARN, BASELINE = "flowlearn", "baseline"
POLL_SECONDS = NudgesSettings.model_fields["scheduler_poll_seconds"].default
DELIVERED = "delivered"


@dataclass
class Run:
    name: str
    database: str
    wave_at: datetime | None = None
    normal_late: list[float] = field(default_factory=list)  # seconds, per delivered nudge
    normal_points: list[tuple[float, float]] = field(default_factory=list)  # (due s, late s)
    wave_late: list[float] = field(default_factory=list)
    undelivered: dict[str, int] = field(default_factory=dict)  # status -> count, both groups
    timed_out: bool = False
    observed_drain: float = float("nan")  # poll-based, from the wave instant
    cpu_normal: float = 0.0
    cpu_wave: float = 0.0
    db_cpu_wave: float = 0.0
    rss: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, bytes)
    written_late: float = 0.0  # seconds the due nudges were still being written past due
    events: int = -1  # outbox records (Flowlearn only)
    notes: list[str] = field(default_factory=list)

    @property
    def drain(self) -> float:
        return max(self.wave_late) if self.wave_late else float("nan")

    @property
    def rss_max_mb(self) -> float:
        return max((b for _, b in self.rss), default=0) / 2**20

    def late(self, group: str, pct: float) -> float:
        return percentile(self.normal_late if group == NORMAL else self.wave_late, pct)

    def per_1k(self, seconds: float, n: int) -> float:
        return seconds / n * 1000 if n else float("nan")


def process_for(target: str, srv: Servers, database: str, args: Any) -> servers.ManagedProcess:
    if target == FLOWLEARN:
        env = {
            "FLOWLEARN_ENV": "test",
            "FLOWLEARN_NATS_URL": srv.nats_url,
            "FLOWLEARN_MONGODB_URI": srv.mongodb_uri,
            "FLOWLEARN_NUDGES_DATABASE": database,
            "FLOWLEARN_NUDGES_JOURNAL_CONSUMER": f"{database}-journal",
            "PYTHONUNBUFFERED": "1",
        }
        for name, value in (
            ("BATCH_SIZE", args.wave_scheduler_batch),
            ("CONCURRENCY", args.wave_scheduler_concurrency),
        ):
            if value:
                env[f"FLOWLEARN_NUDGES_SCHEDULER_{name}"] = str(value)
        cmd = [sys.executable, "-m", "flowlearn_nudges"]
    else:
        env = {
            "BENCH_WAVE_URI": srv.mongodb_uri,
            "BENCH_WAVE_DB": database,
            "BENCH_WAVE_BATCH": str(args.wave_baseline_batch),
            "BENCH_WAVE_POLL": str(POLL_SECONDS),  # as often as the service looks
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        cmd = [sys.executable, "-m", "bench.wave_baseline"]
    return servers.ManagedProcess(target, cmd, HOST, 0, srv.workdir / f"{target}.log", env)


async def ready(target: str, srv: Servers, proc: servers.ManagedProcess, database: str) -> None:
    if target == FLOWLEARN:  # its consumers exist once indexes are made and the loops start
        nc = await nats.connect(srv.nats_url)
        try:
            await consumer_exists(nc.jetstream(), f"{database}-journal", proc, within=90)
        finally:
            await nc.close()
        return
    deadline = time.monotonic() + 30
    while "ready" not in proc.log_tail():
        if not proc.running or time.monotonic() > deadline:
            raise RuntimeError(f"the baseline did not start:\n{proc.log_tail()}")
        await asyncio.sleep(0.05)


async def sample_rss(pid: int, run: Run) -> None:
    process = psutil.Process(pid)
    while True:
        try:
            run.rss.append((time.monotonic(), process.memory_info().rss))
        except psutil.Error:
            return
        await asyncio.sleep(0.25)


async def sleep_until(at: datetime) -> None:
    await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))


async def measure(target: str, srv: Servers, pop: Population, args: Any, progress: Progress) -> Run:
    run = Run(target, f"bench_wave_{target}")
    now = utc_ms(datetime.now(UTC))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(srv.mongodb_uri, tz_aware=True)
    nudges = client[run.database]["nudges"]
    # The baseline reads no person: only Flowlearn's database gets the profiles.
    people = pop if target == FLOWLEARN else None
    total = (pop.people if people else 0) + pop.later
    task = progress.add_task(f"{target}: seeding the backlog", total=total)
    await seed_backlog(
        srv.mongodb_uri,
        run.database,
        pop,
        now,
        people is not None,
        lambda n: progress.advance(task, n),
    )
    proc = process_for(target, srv, run.database, args)
    sampler: asyncio.Task[None] | None = None
    try:
        proc.spawn()
        assert proc.process is not None
        pid = proc.process.pid
        await ready(target, srv, proc, run.database)
        sampler = asyncio.create_task(sample_rss(pid, run))
        # Room to write the due nudges before the first falls due (3,000/s on an idle
        # machine; far fewer on a busy one).
        lead = 10 + (pop.wave + pop.normal) / 500
        start = utc_ms(datetime.now(UTC)) + timedelta(seconds=lead)
        normal_due, run.wave_at = due_times(pop, start, args.wave_normal_seconds, gap=5.0)
        task = progress.add_task(f"{target}: writing the due nudges", total=pop.wave + pop.normal)
        await seed_due(
            srv.mongodb_uri,
            run.database,
            pop,
            normal_due,
            run.wave_at,
            now,
            lambda n: progress.advance(task, n),
        )
        run.written_late = max(0.0, (datetime.now(UTC) - start).total_seconds())
        await sleep_until(start)
        cpu0 = proc_cpu_seconds(pid)
        task = progress.add_task(f"{target}: normal hour", total=args.wave_normal_seconds + 5)
        while (left := (run.wave_at - datetime.now(UTC)).total_seconds()) > 0:
            progress.update(task, completed=args.wave_normal_seconds + 5 - left)
            await asyncio.sleep(min(left, 0.5))
        progress.update(task, completed=args.wave_normal_seconds + 5)
        cpu1, db1 = proc_cpu_seconds(pid), proc_cpu_seconds(srv.pids["secantusdb"])
        run.cpu_normal = cpu1 - cpu0
        task = progress.add_task(f"{target}: the wave", total=pop.wave)
        # SecantusDB reads the whole index range for a count: poll rarely enough that
        # counting stays a small part of the database's work.
        due = {"due_at": {"$gt": NEVER, "$lte": run.wave_at}}
        while True:
            counted = time.monotonic()
            pending = await nudges.count_documents(due)
            pause = max(0.5, 4 * (time.monotonic() - counted))
            elapsed = (datetime.now(UTC) - run.wave_at).total_seconds()
            progress.update(task, completed=pop.wave - min(pending, pop.wave))
            if pending == 0:
                run.observed_drain = elapsed
                break
            if elapsed > args.wave_timeout or not proc.running:
                run.timed_out = True
                if not proc.running:
                    run.notes.append(f"{target} exited during the wave:\n{proc.log_tail()}")
                break
            await asyncio.sleep(pause)
        run.cpu_wave = proc_cpu_seconds(pid) - cpu1
        run.db_cpu_wave = proc_cpu_seconds(srv.pids["secantusdb"]) - db1
        await asyncio.sleep(0.5)  # let the last transactions end before reading
        await collect(client, run, normal_due, start, target)
    finally:
        if sampler is not None:
            sampler.cancel()
        await asyncio.to_thread(proc.stop)
        await client.drop_database(run.database)
        await client.close()
    return run


async def collect(
    client: AsyncMongoClient[dict[str, Any]],
    run: Run,
    normal_due: list[datetime],
    start: datetime,
    target: str,
) -> None:
    db = client[run.database]
    fields = {"delivered_at": 1, "status": 1}
    assert run.wave_at is not None
    for prefix in (NORMAL, WAVE):
        async for doc in db["nudges"].find(id_range(prefix), fields):
            if doc["status"] != DELIVERED or doc.get("delivered_at") is None:
                key = f"{prefix[:-1]} {doc['status']}"
                run.undelivered[key] = run.undelivered.get(key, 0) + 1
                continue
            if prefix == WAVE:
                run.wave_late.append((doc["delivered_at"] - run.wave_at).total_seconds())
            else:
                due = normal_due[int(doc["_id"][len(NORMAL) :])]
                late = (doc["delivered_at"] - due).total_seconds()
                run.normal_late.append(late)
                run.normal_points.append(((due - start).total_seconds(), late))
    if target == FLOWLEARN:
        run.events = len(await Outbox(db).recorded())
