"""The table and notes of the reads benchmark."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bench.common import Check, Outcome, fmt
from bench.reads_seed import PAGE, Seeded

if TYPE_CHECKING:
    from bench.common import Run
    from bench.reads import Pages


def outcome(
    seeded: Seeded,
    p: Pages,
    flow: dict[str, Run],
    bare: dict[str, Run],
    skips: dict[str, Run],
    skip_db_cpu: float,
    plans: list[str],
    args: argparse.Namespace,
) -> Outcome:
    services = ("gateway", "journal", "sharing")

    def row(run: Run, label: str, split: str, total: float) -> list[str]:
        return [
            label,
            f"{run.done} / {run.errors}",
            fmt(run.throughput),
            fmt(run.ms(50), 1),
            fmt(run.ms(99), 1),
            split,
            fmt(total, 2),
            fmt(run.cpu_per_1k("secantusdb"), 2),
        ]

    rows: list[list[str]] = []
    for name in ("journal first", "journal deep", "feed first", "feed deep"):
        f, b = flow[name], bare[name]
        split = " + ".join(f"{s} {fmt(f.cpu_per_1k(s), 2)}" for s in services)
        rows.append(row(f, f"Flowlearn {name} page", split, f.cpu_per_1k(*services)))
        rows.append(
            row(
                b,
                f"bare {name} page",
                f"bench {fmt(b.cpu_per_1k('self'), 2)}",
                b.cpu_per_1k("self"),
            )
        )
    for name, run in skips.items():
        rows.append(
            [
                f"skip {name} deep page",
                f"{run.done} / 0",
                fmt(run.throughput, 2),
                fmt(run.ms(50), 1),
                fmt(max(run.latencies) * 1000 if run.latencies else float("nan"), 1) + " (max)",
                "-",
                "-",
                "-",
            ]
        )
    checks: list[Check] = []
    notes = [
        f"Seeded {seeded.entries:,} entries ({len(seeded.entry_keys):,} the reader's) and "
        f"{seeded.posts:,} posts ({len(seeded.post_keys):,} the reader sees) in "
        f"{seeded.seconds['insert']:.0f} s of insert_many (batches of 10,000, both collections "
        "at once)"
        + (
            f", then {seeded.seconds['indexes']:.0f} s building the services' indexes."
            if "indexes" in seeded.seconds
            else ", into the services' indexes created first."
        ),
        f"Deep pages start at item {p.journal_depth:,} of the reader's journal and item "
        f"{p.feed_depth:,} of their feed; every answer was checked against the expected ids.",
    ]
    for what in ("journal", "feed"):
        first, deep = flow[f"{what} first"], flow[f"{what} deep"]
        ratio = deep.ms(99) / first.ms(99)
        checks.append(
            Check(f"{what}: deep vs first page, p99 (Flowlearn)", ratio, "<= 1.5x", ratio <= 1.5)
        )
        bfirst, bdeep = bare[f"{what} first"], bare[f"{what} deep"]
        cpu = deep.cpu_per_1k(*services) / first.cpu_per_1k(*services)
        db = deep.cpu_per_1k("secantusdb") / first.cpu_per_1k("secantusdb")
        notes.append(
            f"{what.capitalize()}, deep / first page: Flowlearn p50 "
            f"{deep.ms(50) / first.ms(50):.2f}x, CPU {cpu:.2f}x, DB CPU {db:.2f}x; bare p50 "
            f"{bdeep.ms(50) / bfirst.ms(50):.2f}x, p99 {bdeep.ms(99) / bfirst.ms(99):.2f}x."
        )
        against = []
        for page in ("first", "deep"):
            f, b = flow[f"{what} {page}"], bare[f"{what} {page}"]
            against.append(
                f"{page} page p50 {f.ms(50) / b.ms(50):.2f}x, p99 {f.ms(99) / b.ms(99):.2f}x, "
                f"throughput {f.throughput / b.throughput:.2f}x, CPU (all services / bench) "
                f"{f.cpu_per_1k(*services) / b.cpu_per_1k('self'):.2f}x"
            )
        notes.append(f"{what.capitalize()}, Flowlearn / bare: " + "; ".join(against) + ".")
        if skips.get(what) and skips[what].done:
            notes.append(
                f"{what.capitalize()}, deep page by skip/offset ({skips[what].done} samples): p50 "
                f"{skips[what].ms(50) / 1000:.1f} s, {skips[what].ms(50) / deep.ms(50):.0f}x the "
                "keyset deep page through Flowlearn."
            )
    notes.append(f"SecantusDB CPU over all skip samples: {skip_db_cpu:.1f} s.")
    notes += plans
    for run in [*flow.values(), *bare.values()]:
        if run.errors:
            notes.append(f"{run.name}: {run.errors} failed, first: {run.first_error}")
    params = (
        f"{seeded.entries:,} entries and {seeded.posts:,} posts stored; {args.reads_requests} "
        f"requests of {PAGE} items per page after {args.reads_warmup} warm-up, concurrency "
        f"{args.reads_concurrency}; skip baseline up to {args.reads_skip_samples} samples in "
        f"{args.reads_skip_budget:.0f} s"
    )
    header = [
        "target",
        "ok / failed",
        "pages/s",
        "p50 ms",
        "p99 ms",
        "CPU s/1k pages by process",
        "CPU s/1k pages",
        "DB CPU s/1k",
    ]
    return Outcome("Reads: journal list and feed", params, header, rows, checks, notes)
