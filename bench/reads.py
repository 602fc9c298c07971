"""Reads: the journal list (``GET /v1/journal/entries``) and the feed (``GET /v1/feed``)
with about a million entries and a million posts stored; a first page against a deep one.

Seeding (``bench.reads_seed``) writes both collections with ``insert_many`` in the
services' own document formats, then the services' own indexes. One reader owns a share of
the entries and sees most posts; the deep page starts at a given depth of what they see,
with a cursor made by the service's own cursor function from the item before it.

Flowlearn: gateway -> NATS request/reply -> journal or sharing -> SecantusDB, through httpx
with a valid token at a fixed concurrency. Baselines, same run, same servers:

- bare: the same finds (the repository's page read: the same filters, sorts and limits)
  sent with PyMongo from this process, no gateway, NATS or service;
- skip: the deep page written with skip/offset on the same index (owner, or the
  visibility rule, sorted, ``skip(depth)``), a few samples within a time budget.

CPU per process is read from ``/proc/<pid>/stat`` (``process_time`` for the bare reads).
``explain`` shows the plan of every find of a first and a deep page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from flowlearn_cli.stack import Stack
from flowlearn_cli.tokens import DEV_SECRET, make_token
from flowlearn_journal.adapters.repository import EntryRepository, from_document
from flowlearn_journal.adapters.repository import encode_cursor as entry_cursor
from flowlearn_shared.contracts.journal import EntryQuery
from flowlearn_shared.contracts.posts import FeedQuery
from flowlearn_sharing.adapters.post_repository import PostRepository, seen_through, visible_to
from flowlearn_sharing.adapters.post_repository import encode_cursor as post_cursor
from flowlearn_sharing.domain.audience import Viewer
from pymongo import AsyncMongoClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench import reads_explain
from bench.common import Outcome, Run, Servers, local_servers, stack_config
from bench.common import proc_cpu_seconds as cpu_of
from bench.journal_write import services_ready
from bench.reads_report import outcome
from bench.reads_seed import JOURNAL_DB, PAGE, READER, SHARING_DB, Seeded, seed

OWN_PROGRESS = True  # bars of its own; ``bench.__main__`` shows no spinner over them
STARTED = ("journal", "sharing", "gateway")

Document = dict[str, Any]


async def load(
    call: Callable[[], Awaitable[None]],
    n: int,
    concurrency: int,
    run: Run,
    tick: Callable[[], None],
) -> None:
    """``n`` calls from ``concurrency`` workers, each starting its next one when the last
    is answered; a failed call is counted, not timed."""
    counter = iter(range(n))

    async def worker() -> None:
        for _ in counter:
            started = time.perf_counter()
            try:
                await call()
            except Exception as exc:  # counted and reported with the results
                run.errors += 1
                run.first_error = run.first_error or repr(exc)[:300]
            else:
                run.latencies.append(time.perf_counter() - started)
            tick()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started


async def measured(
    name: str,
    call: Callable[[], Awaitable[None]],
    pids: dict[str, int],
    args: argparse.Namespace,
    progress: Progress,
) -> Run:
    """A warm-up, then the measured calls with the CPU of every process in ``pids``
    (``self``: this process's own ``process_time``) taken around them."""
    warm = Run(f"{name} warm-up")
    await load(call, args.reads_warmup, args.reads_concurrency, warm, lambda: None)
    if warm.errors:
        raise RuntimeError(f"{name}: warm-up failed: {warm.first_error}")
    task = progress.add_task(name, total=args.reads_requests)
    run = Run(name)
    before = {proc: cpu_of(pid) for proc, pid in pids.items()}
    own = time.process_time()
    await load(
        call, args.reads_requests, args.reads_concurrency, run, lambda: progress.advance(task)
    )
    run.cpu = {proc: cpu_of(pid) - before[proc] for proc, pid in pids.items()}
    run.cpu["self"] = time.process_time() - own
    return run


def expect(ids: list[str], want: list[str], what: str) -> None:
    if ids != want:
        raise RuntimeError(f"{what}: got {ids[:3]}... but expected {want[:3]}...")


@dataclass
class Pages:
    """The cursors of the deep pages and the ids each measured page must hold."""

    journal_cursor: str
    feed_cursor: str
    journal_first: list[str]
    journal_deep: list[str]
    feed_first: list[str]
    feed_deep: list[str]
    journal_depth: int
    feed_depth: int


async def pages(srv: Servers, seeded: Seeded, depth: float) -> Pages:
    """Cursors made by the services' own functions from the item just before the depth."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(srv.mongodb_uri, tz_aware=True)
    try:
        j = min(max(1, int(len(seeded.entry_keys) * depth)), len(seeded.entry_keys) - PAGE)
        f = min(max(1, int(len(seeded.post_keys) * depth)), len(seeded.post_keys) - PAGE)
        before = await client[JOURNAL_DB]["entries"].find_one({"_id": seeded.entry_keys[j - 1][2]})
        assert before is not None
        created_at, post_id = seeded.post_keys[f - 1]
        return Pages(
            journal_cursor=entry_cursor(from_document(before)),
            feed_cursor=post_cursor(created_at, post_id),
            journal_first=[k[2] for k in seeded.entry_keys[:PAGE]],
            journal_deep=[k[2] for k in seeded.entry_keys[j : j + PAGE]],
            feed_first=[k[1] for k in seeded.post_keys[:PAGE]],
            feed_deep=[k[1] for k in seeded.post_keys[f : f + PAGE]],
            journal_depth=j,
            feed_depth=f,
        )
    finally:
        await client.close()


def http_calls(client: httpx.AsyncClient, p: Pages) -> dict[str, Callable[[], Awaitable[None]]]:
    def get(path: str, params: dict[str, Any], want: list[str]) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            response = await client.get(path, params={"limit": PAGE, **params})
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code} {response.text[:200]}")
            expect([item["id"] for item in response.json()["items"]], want, path)

        return call

    return {
        "journal first": get("/v1/journal/entries", {}, p.journal_first),
        "journal deep": get("/v1/journal/entries", {"cursor": p.journal_cursor}, p.journal_deep),
        "feed first": get("/v1/feed", {}, p.feed_first),
        "feed deep": get("/v1/feed", {"cursor": p.feed_cursor}, p.feed_deep),
    }


def bare_calls(client: AsyncMongoClient[Document], p: Pages) -> dict[str, Any]:
    """The repositories' own page reads (their finds, nothing around them)."""
    entries, posts = EntryRepository(client[JOURNAL_DB]), PostRepository(client[SHARING_DB])
    ways = seen_through(Viewer(user_id=READER), {})

    def journal(cursor: str | None, want: list[str]) -> Callable[[], Awaitable[None]]:
        query = EntryQuery(limit=PAGE, cursor=cursor)

        async def call() -> None:
            docs = await entries._newest({"owner_id": READER}, None, query)
            expect([d["_id"] for d in docs[:PAGE]], want, "bare journal")

        return call

    def feed(cursor: str | None, want: list[str]) -> Callable[[], Awaitable[None]]:
        query = FeedQuery(limit=PAGE, cursor=cursor)

        async def call() -> None:
            docs = await posts._newest(ways, query)
            expect([d["_id"] for d in docs[:PAGE]], want, "bare feed")

        return call

    return {
        "journal first": journal(None, p.journal_first),
        "journal deep": journal(p.journal_cursor, p.journal_deep),
        "feed first": feed(None, p.feed_first),
        "feed deep": feed(p.feed_cursor, p.feed_deep),
    }


async def skip_pages(
    client: AsyncMongoClient[Document], p: Pages, samples: int, budget: float
) -> dict[str, Run]:
    """Deep pages by skip/offset: same index, same sort, ``skip(depth)``. Each sample reads
    and sorts everything before the page, so a few only, within ``budget`` seconds."""
    jobs = {
        "journal": (
            client[JOURNAL_DB]["entries"],
            {"owner_id": READER},
            [("occurred_on", -1), ("created_at", -1), ("_id", -1)],
            p.journal_depth,
            p.journal_deep,
        ),
        "feed": (
            client[SHARING_DB]["posts"],
            visible_to(Viewer(user_id=READER)),
            [("created_at", -1), ("_id", -1)],
            p.feed_depth,
            p.feed_deep,
        ),
    }
    runs: dict[str, Run] = {}
    deadline = time.monotonic() + budget
    for name, (coll, where, order, depth, want) in jobs.items():
        run = runs[name] = Run(f"{name} skip")
        share = (deadline - time.monotonic()) / (len(jobs) - len(runs) + 1)
        until = time.monotonic() + share
        started = time.perf_counter()
        for _ in range(samples):
            t0 = time.perf_counter()
            docs = await coll.find(where).sort(order).skip(depth).limit(PAGE + 1).to_list()
            run.latencies.append(time.perf_counter() - t0)
            expect([d["_id"] for d in docs[:PAGE]], want, f"{name} skip")
            if time.monotonic() > until:
                break
        run.elapsed = time.perf_counter() - started
    return runs


def progress_bars(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def seed_all(srv: Servers, args: argparse.Namespace, console: Console) -> Seeded:
    with progress_bars(console) as progress:
        tasks = {
            "entries": progress.add_task("seeding entries", total=args.reads_entries),
            "posts": progress.add_task("seeding posts", total=args.reads_posts),
        }
        return seed(
            srv.mongodb_uri,
            args.reads_entries,
            args.reads_posts,
            args.reads_share,
            lambda name, n: progress.advance(tasks[name], n),
            args.reads_indexes_first,
        )


async def run_bare(srv: Servers, p: Pages, args: argparse.Namespace, console: Console) -> Any:
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        srv.mongodb_uri, tz_aware=True, maxPoolSize=args.reads_concurrency * 4
    )
    try:
        runs: dict[str, Run] = {}
        with progress_bars(console) as progress:
            for name, call in bare_calls(client, p).items():
                runs[name] = await measured(f"bare {name}", call, srv.pids, args, progress)
        with console.status("deep pages by skip, a few samples"):
            before = cpu_of(srv.pids["secantusdb"])
            skips = await skip_pages(client, p, args.reads_skip_samples, args.reads_skip_budget)
            db_cpu = cpu_of(srv.pids["secantusdb"]) - before
        with console.status("explain"):
            plans = await reads_explain.plans(
                client[JOURNAL_DB],
                client[SHARING_DB],
                READER,
                {"journal": p.journal_cursor, "feed": p.feed_cursor},
            )
        return runs, skips, db_cpu, plans
    finally:
        await client.close()


async def answering(base_url: str, within: float) -> float:
    """Seconds until both pages answer. At start the services create the indexes they
    miss (sharing's ``review_due`` on posts, for one), and a build holds SecantusDB's
    storage lock, so their first reads may time out for minutes on a large collection."""
    started = time.monotonic()
    token = make_token(READER, secret=DEV_SECRET)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as client:
        pending = ["/v1/journal/entries", "/v1/feed"]
        while pending:
            try:
                response = await client.get(pending[0], params={"limit": PAGE})
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                pending.pop(0)
                continue
            if response is not None and response.status_code not in (503, 504):
                raise RuntimeError(f"{pending[0]}: {response.status_code} {response.text[:200]}")
            if time.monotonic() - started > within:
                raise RuntimeError(f"{pending[0]} did not answer within {within:.0f} s")
            await asyncio.sleep(2)
    return time.monotonic() - started


def run_flowlearn(
    srv: Servers, p: Pages, args: argparse.Namespace, console: Console
) -> tuple[dict[str, Run], float]:
    config = stack_config(
        srv, FLOWLEARN_JOURNAL_DATABASE=JOURNAL_DB, FLOWLEARN_SHARING_DATABASE=SHARING_DB
    )
    stack = Stack(config)
    try:
        with console.status("starting the services (their indexes exist already)"):
            for name in STARTED:
                stack.start_service(name)
            asyncio.run(services_ready(config.gateway_url, within=180))
        pids = dict(srv.pids)
        for name in STARTED:
            process = stack.services[name].process
            assert process is not None
            pids[name] = process.pid

        async def measure_all() -> tuple[dict[str, Run], float]:
            with console.status("waiting for the journal and the feed to answer"):
                waited = await answering(config.gateway_url, args.reads_start_timeout)
            console.print(f"the journal and the feed answered {waited:.0f} s after start")
            token = make_token(READER, secret=DEV_SECRET)
            limits = httpx.Limits(max_connections=args.reads_concurrency)
            async with httpx.AsyncClient(
                base_url=config.gateway_url,
                timeout=120,
                limits=limits,
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                runs: dict[str, Run] = {}
                with progress_bars(console) as progress:
                    for name, call in http_calls(client, p).items():
                        runs[name] = await measured(f"Flowlearn {name}", call, pids, args, progress)
                return runs, waited

        return asyncio.run(measure_all())
    finally:
        stack.stop()


def run(args: argparse.Namespace) -> Outcome:
    console = Console()
    with local_servers(keep=args.keep) as srv:
        seeded = seed_all(srv, args, console)
        p = asyncio.run(pages(srv, seeded, args.reads_depth))
        bare, skips, skip_db_cpu, plans = asyncio.run(run_bare(srv, p, args, console))
        flow, waited = run_flowlearn(srv, p, args, console)
    plans.insert(
        0, f"The services answered {waited:.0f} s after they started (the indexes they miss)."
    )
    return outcome(seeded, p, flow, bare, skips, skip_db_cpu, plans, args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reads (sizes also from BENCH_READS_ENTRIES/_POSTS)")
    add = group.add_argument
    env = os.environ.get
    add("--reads-entries", type=int, default=int(env("BENCH_READS_ENTRIES", "1000000")))
    add("--reads-posts", type=int, default=int(env("BENCH_READS_POSTS", "1000000")))
    add("--reads-share", type=float, default=0.25, help="share of the entries the reader owns")
    add("--reads-depth", type=float, default=0.5, help="where the deep page starts (0-1)")
    add("--reads-requests", type=int, default=300, help="measured pages per target and page")
    add("--reads-warmup", type=int, default=20, help="pages before measuring")
    add("--reads-concurrency", type=int, default=4, help="requests in flight")
    add("--reads-skip-samples", type=int, default=3, help="deep pages by skip, at most")
    add("--reads-skip-budget", type=float, default=150.0, help="seconds for the skip samples")
    add(
        "--reads-start-timeout",
        type=float,
        default=1200.0,
        help="seconds the services may take to answer after start (index builds)",
    )
    add(
        "--reads-indexes-first",
        action="store_true",
        help="create the indexes before inserting (default: after, faster here)",
    )
