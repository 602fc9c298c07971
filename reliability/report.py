"""The reliability report: one table per area, printed and written to docs/RELIABILITY.md.

Areas other than faults (bad input, access control) are listed with rows that say "not run
here" until a runner for them is added: give a ``Section`` its rows, and it is printed and
recorded like the faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.report import machine_line, versions_line
from reliability.checks import Outcome

RECORD = Path(__file__).resolve().parents[1] / "docs" / "RELIABILITY.md"
NOT_RUN = "not run here"


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# What the scenarios showed about the design, beyond the numbers; true for every run.
FINDINGS = [
    "A service killed with -9 leaves the events it had fetched unacknowledged; JetStream "
    "delivers them again when the consumer's ack wait (30 s) ends, and the processed-event "
    "records keep them from having a second effect. Its consumers' work therefore resumes "
    "up to 30 s after the restart.",
    "A transaction open in the killed process stays open on the database server until the "
    "server ends it (`transactionLifetimeLimitSeconds`, 60 s by default on MongoDB; "
    "SecantusDB the same). Writes to the documents it touched wait for that, so an event "
    "whose effect touches them is applied up to about 60 s later, still once. Our "
    "transactions are short: a lower limit on the production server shortens this.",
    "A write whose reply never reached the client (the gateway killed mid-request; the "
    "database slower than the request timeout) may still have been stored. The client saw "
    "a failure; retrying it would store a second entry. The rows count these as not "
    "accepted; the notes say how many were stored anyway. An idempotency key on creating "
    "requests would close this gap (not implemented).",
    "Fixed after these tests: with NATS down, the gateway waited the whole request timeout "
    "(the NATS client buffers requests while it reconnects, and sent them after the client "
    "had its 503). It now refuses at once with 503 and Retry-After, and sends nothing.",
    "Fixed after these tests: a nudges replica killed mid-delivery left its open "
    "transaction holding a nudge, and the surviving replica's lease claim (a plain update) "
    "waited on it: every delivery stopped, for 60 s on MongoDB and for good on SecantusDB, "
    "which ends such transactions only when another one starts. Claims now run in a "
    "transaction, which fails at once on a held nudge; that nudge is skipped until the "
    "server ends the dead transaction, and the rest go out.",
]


def verdict(outcome: Outcome) -> str:
    return "ok" if outcome.ok else "FAILED"


def faults_section(outcomes: list[Outcome]) -> Section:
    section = Section(
        "Faults",
        [
            "fault injected",
            "writes attempted",
            "accepted (2xx)",
            "stored",
            "duplicated",
            "lost",
            "result",
            "seconds",
        ],
    )
    for o in outcomes:
        section.rows.append(
            [
                o.fault,
                f"{o.attempted:,}",
                f"{o.accepted:,}",
                f"{o.stored:,}",
                f"{o.duplicated:,}",
                f"{o.lost:,}",
                verdict(o),
                f"{o.seconds:.0f}",
            ]
        )
        section.notes += [f"{o.fault}: {note}" for note in o.notes]
        section.notes += [f"{o.fault}: **FAILED** {failure}" for failure in o.failures]
    return section


def other_sections() -> list[Section]:
    """Parts of the reliability evidence that this runner does not measure (yet)."""
    return [
        Section(
            "Bad input",
            ["input", "tried", "5xx seen", "result"],
            [
                ["schemathesis against docs/openapi.json", "-", "-", NOT_RUN],
                ["oversized, deep, invalid UTF-8, unknown fields", "-", "-", NOT_RUN],
                ["malformed NATS messages on every subject", "-", "-", NOT_RUN],
            ],
        ),
        Section(
            "Access control",
            ["checks", "run", "failed", "result"],
            [
                ["endpoint x role x ownership", "-", "-", NOT_RUN],
                ["rate limits (429 + Retry-After)", "-", "-", NOT_RUN],
            ],
        ),
    ]


def show(console: Console, machine: dict[str, str], sections: list[Section]) -> None:
    console.print(f"[bold]Machine:[/] {machine_line(machine)}")
    console.print(f"[bold]Versions:[/] {versions_line(machine)}")
    for section in sections:
        table = Table(title=section.title, title_justify="left")
        for n, name in enumerate(section.columns):
            table.add_column(name, justify="left" if n == 0 else "right")
        for row in section.rows:
            table.add_row(*row)
        console.print(table)
        for note in section.notes:
            console.print(f"  - {note}")


def markdown(machine: dict[str, str], sections: list[Section], command: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability",
        "",
        "Written by `python -m reliability` (`make reliability`): the last run's results.",
        "Each fault scenario starts its own nats-server, SecantusDB and the four services on",
        "127.0.0.1, breaks one part while clients write through the gateway, and counts what",
        "was kept straight from the database and the stream. The same scenarios, with fewer",
        "writes, are the tests under `tests/faults/` (`make test-faults`).",
        "",
        f"- Date: {when}",
        f"- Machine: {machine_line(machine)}",
        f"- Versions: {versions_line(machine)}",
        f"- Command: `{command}`",
        "",
        "*Stored* counts the accepted (2xx) writes found in the database; *duplicated* the",
        "writes found more than once; *lost* the accepted writes not found. For the",
        "scheduler, the due nudges stand for writes and a `delivered` event for a store.",
        "",
    ]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.title == "Faults":
            lines += ["What every run shows:", ""]
            lines += [f"- {finding}" for finding in FINDINGS]
            lines += ["", "This run:", ""]
        lines.append("| " + " | ".join(section.columns) + " |")
        lines.append("|" + "---|" * len(section.columns))
        lines += ["| " + " | ".join(row) + " |" for row in section.rows]
        lines.append("")
        lines += [f"- {note}" for note in section.notes]
        if section.notes:
            lines.append("")
    return "\n".join(lines)


def write(machine: dict[str, str], sections: list[Section], command: str) -> Path:
    RECORD.write_text(markdown(machine, sections, command))
    return RECORD
