"""The reliability report: one table per area, printed and written to docs/RELIABILITY.md.

Areas other than faults (bad input, access control) are listed with rows that say "not run
here" until a runner for them is added: give a ``Section`` its rows, and it is printed and
recorded like the faults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.report import machine_line, versions_line
from reliability.checks import Outcome
from reliability.scale import REQUIRED, SHARE_OF_WORK

RECORD = Path(__file__).resolve().parents[1] / "docs" / "RELIABILITY.md"
NOT_RUN = "not run here"


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    intro: list[str] = field(default_factory=list)  # paragraphs before the table


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
    "a failure; a retry without an Idempotency-Key would store a second entry. The rows "
    "count these as not accepted; the notes say how many were stored anyway. A journal "
    "write retried with the same Idempotency-Key returns the stored entry instead "
    "(tests/e2e/test_idempotent_creates.py); the fault load sends none, to count the gap.",
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


SCALE_TITLE = "Scale-out"
SCALE_INTRO = [
    "Two processes of every service (two gateways, each on its own port) share one NATS "
    "server and one database. The load cycles through journal entries, posts, journal "
    "shares (an event the sharing service turns into a post) and reads of journal entries "
    "and of the feed, alternately through each gateway. Work per process is counted where "
    "it is handed out, not assumed: HTTP requests by the gateway port that answered; "
    "requests to journal and sharing by what NATS delivered to each process's queue "
    "subscriptions (its `/connz` monitoring endpoint); events by what JetStream handed to "
    "each process's pull subscriptions, seen by one more subscription on each of their "
    "inboxes and checked against each durable consumer's own delivered count (a run fails "
    "when they differ, so none is missed). Every consumer must end with "
    "nothing pending or unacknowledged.",
    f"A row passes when each of the two processes did at least {SHARE_OF_WORK:.0%} of that "
    "work. Rows not required (a service's rare events) are listed for information.",
]


def scale_section(outcomes: list[Outcome]) -> Section:
    section = Section(
        SCALE_TITLE,
        ["work", "replica 1", "replica 2", "least share", "result"],
        intro=list(SCALE_INTRO),
    )
    for o in outcomes:
        for kind, counts in o.work.items():
            total = sum(counts)
            least = min(counts) / total if total and len(counts) > 1 else 0.0
            shown = [f"{n:,}" for n in counts] + ["-"] * (2 - len(counts))
            if kind not in REQUIRED:
                result = "information"
            else:
                result = "ok" if least >= SHARE_OF_WORK and len(counts) == 2 else "FAILED"
            section.rows.append([kind, *shown[:2], f"{least:.0%}", result])
        section.notes.append(
            f"{o.fault}: {o.attempted:,} writes attempted, {o.accepted:,} accepted, "
            f"{o.stored:,} stored, {o.duplicated:,} duplicated, {o.lost:,} lost; "
            f"{verdict(o)} in {o.seconds:.0f} s"
        )
        section.notes += [note for note in o.notes if not note.startswith("work per process")]
        section.notes += [f"**FAILED** {failure}" for failure in o.failures]
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
        for paragraph in section.intro:
            console.print(paragraph)
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
    lines = head(machine, command, when)
    for section in sections:
        lines += section_lines(section)
    return "\n".join(lines)


def head(machine: dict[str, str], command: str, when: str) -> list[str]:
    return [
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


def section_lines(section: Section, ran: str = "") -> list[str]:
    lines = [f"## {section.title}", ""]
    if ran:
        lines += [ran, ""]
    for paragraph in section.intro:
        lines += [paragraph, ""]
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
    return lines


# Where a section goes in the record; one not listed goes last.
ORDER = ["Faults", SCALE_TITLE, "Bad input", "Access control"]


def splice(record: str, sections: list[Section], command: str) -> str:
    """The record with only ``sections`` replaced (or added): a run of some scenarios keeps
    the results of the others. Each replaced section says which run it comes from."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    top, *parts = re.split(r"(?m)^(?=## )", record)
    blocks = {
        part.split("\n", 1)[0].removeprefix("## ").strip(): part.rstrip("\n") + "\n\n"
        for part in parts
    }
    ran = f"*This section: {when}, `{command}` (the rest of the page is from the run above).*"
    for section in sections:
        blocks[section.title] = "\n".join(section_lines(section, ran)).rstrip("\n") + "\n\n"
    titles = sorted(blocks, key=lambda t: ORDER.index(t) if t in ORDER else len(ORDER))
    return (top + "".join(blocks[title] for title in titles)).rstrip("\n") + "\n"


def write(
    machine: dict[str, str], sections: list[Section], command: str, partial: bool = False
) -> Path:
    """The whole record; with ``partial``, only these sections of the existing one."""
    if partial and RECORD.exists():
        RECORD.write_text(splice(RECORD.read_text(), sections, command))
    else:
        RECORD.write_text(markdown(machine, sections, command))
    return RECORD
