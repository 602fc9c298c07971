"""Printing results to the terminal and appending them to ``bench/RESULTS.md``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import Outcome

RESULTS = Path(__file__).with_name("RESULTS.md")
PREAMBLE = """# Benchmark results

Appended by `python -m bench` (`make bench`). Each run measures Flowlearn and a baseline
doing the same work in the same run, on the same local nats-server and SecantusDB.
SecantusDB is slow (about 570 single inserts/s) and bounds every absolute number here, so
read the ratios, and the CPU of Flowlearn's own processes, rather than the absolutes.
"""


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def machine_line(machine: dict[str, str]) -> str:
    return (
        f"{machine['nproc']} CPUs ({machine['cpu']}), Linux {machine['kernel']}, "
        f"Python {machine['python']}"
    )


def versions_line(machine: dict[str, str]) -> str:
    skip = {"nproc", "cpu", "kernel", "python"}
    return ", ".join(f"{k} {v}" for k, v in machine.items() if k not in skip)


def show(console: Console, machine: dict[str, str], outcomes: list[Outcome]) -> None:
    console.print(f"[bold]Machine:[/] {machine_line(machine)}")
    console.print(f"[bold]Versions:[/] {versions_line(machine)}")
    for outcome in outcomes:
        table = Table(title=f"{outcome.title} ({outcome.params})", title_justify="left")
        for name in outcome.header:
            table.add_column(name, justify="left" if name == outcome.header[0] else "right")
        for row in outcome.rows:
            table.add_row(*row)
        console.print(table)
        for check in outcome.checks:
            colour = "green" if check.met else "red"
            console.print(
                f"  {check.name}: {check.shown} (target {check.bound}) "
                f"[{colour}]{verdict(check.met)}[/]"
            )
        for note in outcome.notes:
            console.print(f"  - {note}")


def markdown(outcome: Outcome) -> str:
    lines = [f"### {outcome.title}", "", f"{outcome.params}.", ""]
    lines.append("| " + " | ".join(outcome.header) + " |")
    lines.append("|" + "|".join("---" for _ in outcome.header) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in outcome.rows]
    lines.append("")
    for check in outcome.checks:
        lines.append(
            f"- **{check.name}: {check.shown}** (target {check.bound}): **{verdict(check.met)}**"
        )
    lines += [f"- {note}" for note in outcome.notes]
    return "\n".join(lines) + "\n"


def append(machine: dict[str, str], outcomes: list[Outcome], command: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"## {stamp}",
        "",
        f"- Machine: {machine_line(machine)}",
        f"- Versions: {versions_line(machine)}",
        f"- Command: `{command}`",
        "",
    ]
    body = "\n".join(parts) + "\n" + "\n".join(markdown(o) for o in outcomes)
    existing = RESULTS.read_text() if RESULTS.exists() else PREAMBLE
    RESULTS.write_text(existing.rstrip("\n") + "\n\n" + body)
    return RESULTS
