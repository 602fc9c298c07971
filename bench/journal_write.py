"""Journal write: ``POST /v1/journal/entries`` through Flowlearn against a bare endpoint.

Flowlearn: gateway (FastAPI) -> NATS request/reply -> journal (nats-py subscription) -> one
insert of the entry holding its created event -> the event sent to JetStream with the reply;
the outbox relay collects its acknowledgement and clears it from the entry in small batches.
Baselines: one FastAPI process (``bench.bare_app``) writing the same entry with PyMongo
directly, as a plain ``insert_one`` and as a transaction with an outbox record; and "bare
hop", the floor of the architecture: the same app sending the entry over NATS
request/reply to a second raw nats-py process (``bench.hop_responder``) that does the
``insert_one``. All run on the same nats-server and SecantusDB builds, one after the other,
each on a pair of servers started for it (see ``run``), under the same client load (httpx,
fixed concurrency, a warm-up first). By default each target goes as fast as it can; with
``--rate`` every target gets the same writes per second, which compares CPU per write at
the same load (a process's CPU per request falls as its load rises: more requests share
each wake-up).

CPU is read from ``/proc/<pid>/stat`` of the serving processes only (not the database, not
NATS, not the load generator). Flowlearn's is taken over the load and the time the relay
needs to publish and clear what is left, so each write is charged with its event.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from flowlearn_cli import servers
from flowlearn_cli.stack import Stack
from flowlearn_cli.tokens import DEV_SECRET, make_token
from flowlearn_journal.adapters.repository import EntryRepository
from flowlearn_shared.outbox import Outbox
from pymongo import AsyncMongoClient

from bench.common import (
    HOST,
    REPO_ROOT,
    Check,
    Outcome,
    Run,
    Servers,
    fmt,
    local_servers,
    stack_config,
)
from bench.common import proc_cpu_seconds as cpu_of

JOURNAL_DB = "bench_journal"
# The write path as deployed: the gateway asks sharing once per user for a profile, so it
# runs too. Nudges does not: it only consumes the created events, which the event
# consumption benchmark measures, and here its writes would compete with the journal's.
STARTED = ("journal", "sharing", "gateway")
MEASURED = ("gateway", "journal")
KINDS = ("learned", "reflection", "mistake", "gem", "achievement")
BODY = (
    "Rolled the change out behind a flag and watched the error budget first. The canary "
    "caught a timeout that staging never showed, because staging has no cold caches. "
    "**Next time:** warm the caches before the canary and compare p99, not the mean. "
) * 2


def entry(i: int) -> dict[str, Any]:
    return {
        "kind": KINDS[i % len(KINDS)],
        "title": f"Canary lesson {i}",
        "body": BODY,
        "tags": ["deploys", "ops"],
        "skills": ["release management"],
        "minutes": 20,
    }


async def drive(
    client: httpx.AsyncClient,
    path: str,
    tokens: list[str],
    n: int,
    concurrency: int,
    run: Run,
    rate: float = 0.0,
) -> None:
    """``n`` POSTs from ``concurrency`` workers, each sending its next request as soon as
    the previous one is answered; with a ``rate``, request i is not sent before i/rate
    seconds from the start (a late one goes at once)."""
    counter = iter(range(n))
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
    began = time.perf_counter()

    async def worker() -> None:
        for i in counter:
            if rate and (wait := began + i / rate - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            started = time.perf_counter()
            response = await client.post(path, json=entry(i), headers=headers[i % len(headers)])
            took = time.perf_counter() - started
            if response.status_code == 201:
                run.latencies.append(took)
            else:
                run.errors += 1
                run.first_error = run.first_error or f"{response.status_code} {response.text}"

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started


async def measure(
    name: str,
    base_url: str,
    path: str,
    pids: dict[str, int],
    args: argparse.Namespace,
    settle: Callable[[], Awaitable[None]] | None = None,
) -> Run:
    tokens = [make_token(f"bench-user-{u}", secret=DEV_SECRET) for u in range(20)]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        warm = Run(f"{name} warm-up")
        await drive(client, path, tokens, args.warmup, args.concurrency, warm)
        if warm.errors:
            raise RuntimeError(f"{name}: warm-up failed: {warm.first_error}")
        if settle:
            await settle()
        await asyncio.sleep(1.0)  # let anything the warm-up set off finish
        before = {proc: cpu_of(pid) for proc, pid in pids.items()}
        run = Run(name)
        await drive(client, path, tokens, args.requests, args.concurrency, run, args.rate)
        if settle:
            started = time.perf_counter()
            await settle()
            run.drain = time.perf_counter() - started
        run.cpu = {proc: cpu_of(pid) - before[proc] for proc, pid in pids.items()}
    return run


async def outbox_empty(mongodb_uri: str, within: float = 60.0) -> None:
    """Wait until the journal's relay has published every event: the outbox collection's
    records, and those new entries hold until they are published and cleared."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    outbox = Outbox(client[JOURNAL_DB])
    EntryRepository(client[JOURNAL_DB], outbox)  # counts the entries' held events too
    try:
        deadline = time.monotonic() + within
        while await outbox.count_pending():
            if time.monotonic() > deadline:
                raise RuntimeError("the outbox relay did not publish everything in time")
            await asyncio.sleep(0.05)
    finally:
        await client.close()


async def services_ready(base_url: str, within: float = 60.0) -> None:
    """The gateway answers and every started service reaches its database (nudges is not
    started, so /readyz as a whole stays 503)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                ready = (await client.get("/readyz")).json().get("services", {})
                if all(ready.get(name, {}).get("mongodb") for name in STARTED[:-1]):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the services did not become ready")


def bare_processes(srv: Servers) -> tuple[servers.ManagedProcess, servers.ManagedProcess]:
    """The bare app and the hop responder it sends to, each on a free port."""
    app_port, hop_port = servers.free_port(HOST), servers.free_port(HOST)
    common = {"PYTHONPATH": str(REPO_ROOT)}
    app_env = {
        **common,
        "BENCH_BARE_PORT": str(app_port),
        "BENCH_BARE_MONGODB_URI": srv.mongodb_uri,
        "BENCH_BARE_JWT_SECRET": DEV_SECRET,
        "BENCH_BARE_NATS_URL": srv.nats_url,
    }
    hop_env = {
        **common,
        "BENCH_HOP_PORT": str(hop_port),
        "BENCH_HOP_MONGODB_URI": srv.mongodb_uri,
        "BENCH_HOP_NATS_URL": srv.nats_url,
    }
    app_cmd = [sys.executable, "-m", "bench.bare_app"]
    hop_cmd = [sys.executable, "-m", "bench.hop_responder"]
    return (
        servers.ManagedProcess(
            "bench-bare", app_cmd, HOST, app_port, srv.workdir / "bare.log", app_env
        ),
        servers.ManagedProcess(
            "bench-hop", hop_cmd, HOST, hop_port, srv.workdir / "hop.log", hop_env
        ),
    )


BARE_PATHS = {
    "bare": "/v1/journal/entries",
    "bare+txn": "/txn/v1/journal/entries",
    "bare hop": "/hop/v1/journal/entries",
}


def run_bare(srv: Servers, args: argparse.Namespace, name: str) -> Run:
    app, hop = bare_processes(srv)
    try:
        app.start(timeout=60)  # first: it creates the indexes the responder's inserts maintain
        hop.start(timeout=60)
        assert app.process is not None
        assert hop.process is not None
        pids = {"bare": app.process.pid, **srv.pids}
        if name == "bare hop":
            pids["hop"] = hop.process.pid
        url = f"http://{HOST}:{app.port}"
        return asyncio.run(measure(name, url, BARE_PATHS[name], pids, args))
    finally:
        hop.stop()
        app.stop()


def run_flowlearn(srv: Servers, args: argparse.Namespace) -> Run:
    config = stack_config(srv, FLOWLEARN_JOURNAL_DATABASE=JOURNAL_DB)
    stack = Stack(config)
    try:
        for name in STARTED:
            stack.start_service(name)
        asyncio.run(services_ready(config.gateway_url))
        pids = dict(srv.pids)
        for name in STARTED:
            process = stack.services[name].process
            assert process is not None
            pids[name] = process.pid

        async def settle() -> None:
            await outbox_empty(srv.mongodb_uri)

        path = "/v1/journal/entries"
        return asyncio.run(measure("flowlearn", config.gateway_url, path, pids, args, settle))
    finally:
        stack.stop()


def outcome(flow: Run, bare: Run, txn: Run, hop: Run, args: argparse.Namespace) -> Outcome:
    def row(run: Run, label: str, cpu: str, total: float) -> list[str]:
        return [
            label,
            f"{run.done} / {run.errors}",
            fmt(run.throughput),
            fmt(run.ms(50), 2),
            fmt(run.ms(99), 2),
            cpu,
            fmt(total, 2),
        ]

    flow_cpu = flow.cpu_per_1k(*MEASURED)
    bare_cpu, txn_cpu = bare.cpu_per_1k("bare"), txn.cpu_per_1k("bare")
    hop_cpu = hop.cpu_per_1k("bare", "hop")
    split = " + ".join(f"{p} {fmt(flow.cpu_per_1k(p), 2)}" for p in MEASURED)
    hop_split = f"bare {fmt(hop.cpu_per_1k('bare'), 2)} + hop {fmt(hop.cpu_per_1k('hop'), 2)}"
    rows = [
        row(flow, "Flowlearn gateway+journal", split, flow_cpu),
        row(bare, "bare insert_one", f"bare {fmt(bare_cpu, 2)}", bare_cpu),
        row(txn, "bare+txn (entry+outbox)", f"bare {fmt(txn_cpu, 2)}", txn_cpu),
        row(hop, "bare hop (HTTP -> NATS -> insert_one)", hop_split, hop_cpu),
    ]
    cpu_ratio = flow_cpu / bare_cpu
    p99_ratio = flow.ms(99) / bare.ms(99)
    checks = [
        Check("CPU per write, gateway+journal vs bare", cpu_ratio, "<= 2x", cpu_ratio <= 2),
        Check("p99 latency, Flowlearn vs bare", p99_ratio, "<= 3x", p99_ratio <= 3),
    ]
    notes = [
        f"Throughput: Flowlearn {flow.throughput / bare.throughput:.2f}x bare, "
        f"{flow.throughput / txn.throughput:.2f}x bare+txn. "
        f"p50 latency: Flowlearn {flow.ms(50) / bare.ms(50):.2f}x bare.",
        f"Against the same transaction without the hop (bare+txn): CPU "
        f"{flow_cpu / txn_cpu:.2f}x, p99 {flow.ms(99) / txn.ms(99):.2f}x.",
        "The architecture's floor (an HTTP process and a NATS hop to a second process that "
        f"does one insert, no outbox, no transaction): CPU {hop_cpu / bare_cpu:.2f}x bare; "
        f"Flowlearn is {flow_cpu / hop_cpu:.2f}x that floor (p99 "
        f"{hop.ms(99) / bare.ms(99):.2f}x bare; Flowlearn {flow.ms(99) / hop.ms(99):.2f}x it).",
        f"Flowlearn CPU includes {flow.drain:.2f} s after the last reply until the relay had "
        "published every outbox record to JetStream. The sharing service (running for "
        f"profiles, not counted) used {fmt(flow.cpu_per_1k('sharing'), 2)} CPU s per 1k writes.",
        "Servers, not counted, CPU s per 1k writes (Flowlearn / bare / bare+txn / bare hop): "
        + "; ".join(
            name + " " + " / ".join(fmt(r.cpu_per_1k(name), 2) for r in (flow, bare, txn, hop))
            for name in ("secantusdb", "nats-server")
        )
        + ".",
    ]
    for run in (flow, bare, txn, hop):
        if run.errors:
            notes.append(f"{run.name}: {run.errors} failed requests, first: {run.first_error}")
    params = f"{args.requests} requests after {args.warmup} warm-up, concurrency {args.concurrency}"
    if args.rate:
        params += f", paced at {fmt(args.rate)} writes/s for every target"
    header = [
        "target",
        "ok / failed",
        "writes/s",
        "p50 ms",
        "p99 ms",
        "CPU s/1k writes by process",
        "CPU s/1k writes",
    ]
    return Outcome("Journal write", params, header, rows, checks, notes)


def run(args: argparse.Namespace) -> Outcome:
    # Each target on servers of its own, started for it: SecantusDB's CPU per write grows
    # over its process's life (the same bare insert cost 2.8 ms on a new server and 4.6 ms
    # after one Flowlearn run), so whichever target came last paid for the ones before it.
    runs: dict[str, Run] = {}
    for name in (*BARE_PATHS, "flowlearn"):
        with local_servers(keep=args.keep) as srv:
            runs[name] = (
                run_flowlearn(srv, args) if name == "flowlearn" else run_bare(srv, args, name)
            )
    return outcome(runs["flowlearn"], runs["bare"], runs["bare+txn"], runs["bare hop"], args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("journal write")
    group.add_argument("--requests", type=int, default=1000, help="measured writes per target")
    group.add_argument("--warmup", type=int, default=100, help="writes before measuring")
    group.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    group.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="writes per second for every target (default 0: each as fast as it goes)",
    )
