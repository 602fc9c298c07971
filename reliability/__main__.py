"""``python -m reliability``: run the fault scenarios, print the report, write it to
docs/RELIABILITY.md.

python -m reliability                            # every scenario, 2,000 writes each
python -m reliability --writes 300 --nudges 300  # smaller, quicker
python -m reliability --only kill-nudges --only poison --no-record
python -m reliability --only scale               # replaces only the scale-out section
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from bench.common import machine_info
from reliability import report
from reliability.checks import Outcome
from reliability.scenarios import SCALE_SCENARIOS, SCENARIOS, Size


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reliability",
        description="Break parts of a local Flowlearn on purpose and count what was kept.",
    )
    parser.add_argument(
        "--only",
        choices=sorted(SCENARIOS),
        action="append",
        help="run only this scenario (repeatable); default: all",
    )
    parser.add_argument("--writes", type=int, default=Size.writes, help="writes per scenario")
    parser.add_argument(
        "--nudges", type=int, default=Size.nudges, help="due nudges for the scheduler"
    )
    parser.add_argument("--no-record", action="store_true", help="do not write the results")
    parser.add_argument(
        "--keep", action="store_true", help="keep each scenario's data and logs; print where"
    )
    return parser.parse_args(argv)


def run_one(name: str, size: Size, keep: bool, console: Console) -> Outcome:
    workdir = Path(tempfile.mkdtemp(prefix=f"flowlearn-{name}-"))
    try:
        return asyncio.run(SCENARIOS[name](workdir, size))
    except Exception as exc:  # report it as a failed row; the others still run
        console.print_exception(max_frames=8)
        outcome = Outcome(name)
        outcome.failures.append(f"the scenario itself failed: {exc!r}")
        return outcome
    finally:
        if keep:
            console.print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=180)  # a log file: keep each table row on one line
    size = Size(writes=args.writes, nudges=args.nudges)
    outcomes: list[Outcome] = []
    scaled: list[Outcome] = []
    for name in args.only or list(SCENARIOS):
        console.rule(f"[bold]{name}")
        with console.status(f"running {name}"):
            outcome = run_one(name, size, args.keep, console)
        colour = "green" if outcome.ok else "red"
        console.print(f"[{colour}]{report.verdict(outcome)}[/] in {outcome.seconds:.0f} s")
        (scaled if name in SCALE_SCENARIOS else outcomes).append(outcome)
    machine = machine_info()
    # A run of some scenarios (--only) shows and records only the sections it ran.
    everything = not args.only
    sections = [
        *([report.faults_section(outcomes)] if outcomes or everything else []),
        *([report.scale_section(scaled)] if scaled or everything else []),
        *(report.other_sections() if everything else []),
    ]
    console.rule("[bold]results")
    report.show(console, machine, sections)
    if not args.no_record:
        command = shlex.join(["python", "-m", "reliability", *(argv or sys.argv[1:])])
        written = report.write(machine, sections, command, partial=bool(args.only))
        console.print(f"written to {written}")
    return 0 if all(o.ok for o in outcomes + scaled) else 1


if __name__ == "__main__":
    sys.exit(main())
