"""``python -m bench``: run the benchmarks, print a table, append to ``bench/RESULTS.md``.

python -m bench                           # all, default sizes
python -m bench --only journal --requests 2000
python -m bench --only events --events 50000 --no-record
python -m bench --only wave --wave-people 10000 --wave-size 2000 --wave-normal 300
python -m bench --only reads --reads-entries 50000 --reads-posts 50000 --no-record
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

from rich.console import Console

from bench import event_consumption, journal_write, reads, report, scheduler_wave
from bench.common import Outcome, machine_busy_seconds, machine_info, own_cpu_seconds

BENCHMARKS = {
    "journal": journal_write,
    "events": event_consumption,
    "wave": scheduler_wave,
    "reads": reads,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Flowlearn against baselines doing the same work on the same servers.",
    )
    parser.add_argument(
        "--only",
        choices=sorted(BENCHMARKS),
        action="append",
        help="run only this benchmark (repeatable); default: all",
    )
    parser.add_argument(
        "--no-record", action="store_true", help="do not append the results to bench/RESULTS.md"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep each run's directory (server data, service logs) and print where it is",
    )
    for module in BENCHMARKS.values():
        module.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # a log file: keep the tables on one line each
    machine = machine_info()
    chosen = args.only or list(BENCHMARKS)
    outcomes: list[Outcome] = []
    failed = False
    for name in chosen:
        console.rule(f"[bold]{name}")
        try:
            started, busy, own = time.monotonic(), machine_busy_seconds(), own_cpu_seconds()
            module = BENCHMARKS[name]
            if getattr(module, "OWN_PROGRESS", False):  # its bars, not a spinner over them
                outcome = module.run(args)
            else:
                with console.status(f"running the {name} benchmark"):
                    outcome = module.run(args)
            wall = time.monotonic() - started
            others = (machine_busy_seconds() - busy) - (own_cpu_seconds() - own)
            cpus = os.cpu_count() or 1
            outcome.notes.append(
                f"Wall time {wall:.0f} s. Meanwhile other processes on the machine used "
                f"{max(others, 0):.0f} CPU s ({max(others, 0) / (wall * cpus):.0%} of its {cpus} "
                "CPUs); the more, the noisier every number above."
            )
            outcomes.append(outcome)
        except Exception as exc:  # report it, still record what the others measured
            console.print(f"[red]{name} benchmark failed:[/] {exc!r}")
            console.print_exception(max_frames=8)
            failed = True
    console.rule("[bold]results")
    report.show(console, machine, outcomes)
    if outcomes and not args.no_record:
        command = shlex.join(["python", "-m", "bench", *(argv or sys.argv[1:])])
        console.print(f"appended to {report.append(machine, outcomes, command)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
