"""Scheduler wave: the nudges service's delivery loop against a bare delivery loop.

100,000 people with schedules across IANA time zones, one nudge each, in the service's own
document format (``bench.wave_seed``). While the process runs, a "normal hour" of nudges
falls due spread over a stretch of time (compressed: a few thousand over two minutes),
then the "09:00 wave": 20,000 nudges due at the same instant. Measured per nudge, from the
database: lateness (``delivered_at - due_at``); for the wave, the time until the last is
in its inbox. Targets: the wave drained in <= 30 s, normal-hour lateness p99 <= 2 s, the
nudges process at most 300 MB RSS.

Flowlearn: ``python -m flowlearn_nudges`` as deployed (scheduler, consumers, outbox relay,
campaign and channel loops), its scheduler settings unless given. Baseline
(``bench.wave_baseline``): a process finding due nudges and marking each batch delivered
with one ``update_many``, nothing else. Each gets its own nats-server and SecantusDB (the
same builds), one after the other. CPU is the process's own over each phase (``/proc``),
RSS its peak.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.common import Check, Outcome, fmt, local_servers
from bench.wave_measure import BASELINE, FLOWLEARN, POLL_SECONDS, Run, measure
from bench.wave_seed import NORMAL, WAVE, population

OWN_PROGRESS = True  # shows its own progress bars: no spinner around it
PLOT = Path(__file__).with_name("wave_latency.png")
DRAIN_TARGET, LATE_TARGET, RSS_TARGET = 30.0, 2.0, 300.0


def progress_bars() -> Progress:
    console = Console() if Console().is_terminal else Console(width=160)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def measure_all(args: argparse.Namespace) -> tuple[Run, Run, str]:
    now = datetime.now(UTC)
    pop = population(args.wave_people, args.wave_size, args.wave_normal, now)
    spread = (
        f"{len(pop.zones)} IANA zones; the wave's people in "
        f"{min(len(pop.zones), pop.wave)} zones, {pop.offsets(pop.wave_members(), now)} "
        "UTC offsets"
    )
    # Each target on servers started for it: SecantusDB's CPU per write grows over its
    # process's life, so the second would pay for the first's 100,000 people and its wave.
    with progress_bars() as progress:
        with local_servers(keep=args.keep) as srv:
            base = await measure(BASELINE, srv, pop, args, progress)
        with local_servers(keep=args.keep) as srv:
            flow = await measure(FLOWLEARN, srv, pop, args, progress)
    return flow, base, spread


def plot(flow: Run, base: Run, path: Path = PLOT) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (wave_ax, normal_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    for run, colour in ((flow, "tab:blue"), (base, "tab:orange")):
        late = sorted(run.wave_late)
        wave_ax.plot(late, range(1, len(late) + 1), color=colour, label=run.name)
        if run.normal_points:
            xs, ys = zip(*run.normal_points, strict=True)
            normal_ax.scatter(xs, ys, s=4, color=colour, label=run.name, alpha=0.6)
    wave_ax.axvline(DRAIN_TARGET, color="grey", linestyle="--", label="target 30 s")
    wave_ax.set(
        title="The wave: nudges in inboxes after they fell due",
        xlabel="seconds since the wave fell due",
        ylabel="delivered",
    )
    normal_ax.axhline(LATE_TARGET, color="grey", linestyle="--", label="target p99 2 s")
    normal_ax.set(
        title="Normal hour: lateness of each nudge",
        xlabel="due at (seconds into the phase)",
        ylabel="lateness (s)",
    )
    for ax in (wave_ax, normal_ax):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def outcome(flow: Run, base: Run, spread: str, args: argparse.Namespace) -> Outcome:
    wave, normal = args.wave_size, args.wave_normal

    def row(run: Run) -> list[str]:
        drain = f"{fmt(run.drain, 2)}" + (" (timed out)" if run.timed_out else "")
        return [
            run.name,
            f"{len(run.wave_late):,} / {wave:,}",
            drain,
            fmt(len(run.wave_late) / run.drain if run.drain else float("nan")),
            f"{fmt(run.late(WAVE, 50), 2)} / {fmt(run.late(WAVE, 99), 2)}",
            f"{len(run.normal_late):,} / {normal:,}",
            f"{fmt(run.late(NORMAL, 50), 2)} / {fmt(run.late(NORMAL, 99), 2)}",
            fmt(run.per_1k(run.cpu_wave, len(run.wave_late)), 2),
            fmt(run.per_1k(run.cpu_normal, len(run.normal_late)), 2),
            fmt(run.per_1k(run.db_cpu_wave, len(run.wave_late)), 2),
            fmt(run.rss_max_mb, 0),
        ]

    checks = [
        Check(
            "wave drained (Flowlearn)",
            flow.drain,
            f"<= {DRAIN_TARGET:g} s",
            flow.drain <= DRAIN_TARGET and not flow.timed_out,
            "s",
        ),
        Check(
            "normal-hour lateness p99 (Flowlearn)",
            flow.late(NORMAL, 99),
            f"<= {LATE_TARGET:g} s",
            flow.late(NORMAL, 99) <= LATE_TARGET,
            "s",
        ),
        Check(
            "nudges process RSS max",
            flow.rss_max_mb,
            f"<= {RSS_TARGET:g} MB",
            flow.rss_max_mb <= RSS_TARGET,
            "MB",
        ),
    ]
    cpu_ratio = flow.per_1k(flow.cpu_wave, len(flow.wave_late)) / base.per_1k(
        base.cpu_wave, len(base.wave_late)
    )
    notes = [
        f"Ratios Flowlearn / baseline: wave drain {flow.drain / base.drain:.2f}x, CPU per "
        f"wave nudge {cpu_ratio:.2f}x, normal-hour lateness p50 "
        f"{flow.late(NORMAL, 50) / base.late(NORMAL, 50):.2f}x and p99 "
        f"{flow.late(NORMAL, 99) / base.late(NORMAL, 99):.2f}x.",
        f"People in {spread}. Both look for due nudges every {POLL_SECONDS:g} s when idle "
        "(the service's default); lateness includes that wait.",
        f"Flowlearn wrote {flow.events:,} delivered events to its outbox for "
        f"{len(flow.wave_late) + len(flow.normal_late):,} deliveries. CPU of the normal hour "
        "includes the idle polling between its nudges. Plot: "
        f"[{PLOT.name}]({PLOT.name}) (delivered over time in the wave; lateness per nudge "
        "in the normal hour).",
    ]
    for run in (flow, base):
        if run.undelivered:
            notes.append(f"{run.name}: not delivered at the end: {run.undelivered}")
        if run.written_late > 0:
            notes.append(
                f"{run.name}: the due nudges were still being written {run.written_late:.1f} s "
                "after the first fell due"
            )
        notes += run.notes
    params = (
        f"{args.wave_people:,} people, a wave of {wave:,} nudges due at one instant, a normal "
        f"hour of {normal:,} nudges over {args.wave_normal_seconds:g} s; scheduler batch "
        f"{args.wave_scheduler_batch or 'default'}, concurrency "
        f"{args.wave_scheduler_concurrency or 'default'}; baseline batch "
        f"{args.wave_baseline_batch}"
    )
    header = [
        "target",
        "wave delivered",
        "wave drain s",
        "wave nudges/s",
        "wave late p50/p99 s",
        "normal delivered",
        "normal late p50/p99 s",
        "CPU s/1k wave",
        "CPU s/1k normal",
        "DB CPU s/1k wave",
        "RSS max MB",
    ]
    return Outcome("Scheduler wave", params, header, [row(flow), row(base)], checks, notes)


def run(args: argparse.Namespace) -> Outcome:
    flow, base, spread = asyncio.run(measure_all(args))
    plot(flow, base)
    return outcome(flow, base, spread, args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scheduler wave")
    add = group.add_argument
    add("--wave-people", type=int, default=100_000, help="people, one nudge each")
    add("--wave-size", type=int, default=20_000, help="nudges due at the wave's instant")
    add("--wave-normal", type=int, default=2_400, help="nudges of the normal hour")
    add("--wave-normal-seconds", type=float, default=120.0, help="the normal hour's span")
    add("--wave-timeout", type=float, default=240.0, help="seconds the wave may take")
    add("--wave-baseline-batch", type=int, default=500, help="nudges per baseline update")
    add(
        "--wave-scheduler-batch",
        type=int,
        default=0,
        help="FLOWLEARN_NUDGES_SCHEDULER_BATCH_SIZE (default: the service's)",
    )
    add(
        "--wave-scheduler-concurrency",
        type=int,
        default=0,
        help="FLOWLEARN_NUDGES_SCHEDULER_CONCURRENCY (default: the service's)",
    )
