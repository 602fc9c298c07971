"""The portfolio's rules: what counts as evidence, how an experiment's steps add up, how a
portfolio is cut to fit one export, and its Markdown form. Pure Python: no driver, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowlearn_shared.contracts.journal import EntryKind
from flowlearn_shared.contracts.portfolio import (
    AcceptedAnswer,
    EvidenceItem,
    ExperimentRecord,
    ExperimentStep,
    KudosReceived,
    PortfolioPublic,
)

from flowlearn_journal.domain.model import Entry

# Where a stage sits in pitch -> prototype -> pilot -> done | stopped; breaks ties between
# two steps recorded at the same instant.
STAGE_ORDER = {"pitch": 0, "prototype": 1, "pilot": 2, "done": 3, "stopped": 3}


def is_evidence(entry: Entry) -> bool:
    """Entries marked as evidence, and every achievement."""
    return entry.evidence is not None or entry.kind == EntryKind.ACHIEVEMENT


def evidence_item(entry: Entry) -> EvidenceItem:
    return EvidenceItem(
        entry_id=entry.id,
        kind=entry.kind,
        title=entry.title,
        body=entry.body,
        tags=entry.tags,
        skills=entry.skills,
        occurred_on=entry.occurred_on,
        minutes=entry.minutes,
        evidence=entry.evidence,  # type: ignore[arg-type]
        version=entry.version,
        created_at=entry.created_at,
    )


def question_path(question_id: str) -> str:
    return f"/v1/questions/{question_id}"


@dataclass(frozen=True)
class RecordedStep:
    """One stage change of an experiment, as its event told it."""

    experiment_id: str
    team_id: str
    title: str
    step: ExperimentStep


def _step_key(recorded: RecordedStep) -> tuple[datetime, int, str]:
    step = recorded.step
    return step.at, STAGE_ORDER.get(step.to_stage, 0), step.step_id


def experiment_records(steps: Iterable[RecordedStep]) -> list[ExperimentRecord]:
    """Group steps by experiment, oldest step first; the latest step gives the stage and the
    title. Events may arrive in any order, so nothing depends on the order of ``steps``."""
    grouped: dict[str, list[RecordedStep]] = {}
    for recorded in steps:
        grouped.setdefault(recorded.experiment_id, []).append(recorded)
    records = []
    for experiment_id, group in grouped.items():
        group.sort(key=_step_key)
        latest = group[-1]
        records.append(
            ExperimentRecord(
                experiment_id=experiment_id,
                team_id=latest.team_id,
                title=latest.title,
                stage=latest.step.to_stage,
                steps=[r.step for r in group],
                started_at=group[0].step.at,
                updated_at=latest.step.at,
            )
        )
    records.sort(key=lambda r: (r.updated_at, r.experiment_id), reverse=True)
    return records


def newest(portfolio: PortfolioPublic, per_section: int) -> PortfolioPublic:
    """The portfolio with at most ``per_section`` items in each section (they are newest
    first already), marked truncated when anything was left out."""
    sections: dict[str, list[Any]] = {
        "evidence": portfolio.evidence,
        "kudos": portfolio.kudos,
        "answers": portfolio.answers,
        "experiments": portfolio.experiments,
    }
    cut = any(len(items) > per_section for items in sections.values())
    if not cut:
        return portfolio
    kept = {name: items[:per_section] for name, items in sections.items()}
    return portfolio.model_copy(update={**kept, "truncated": True})


def fit(portfolio: PortfolioPublic, fits: Callable[[PortfolioPublic], bool]) -> PortfolioPublic:
    """The largest ``newest(portfolio, n)`` that ``fits``: a binary search, so a big
    portfolio is rendered a handful of times, not once per item."""
    if fits(portfolio):
        return portfolio
    largest = max(
        len(portfolio.evidence),
        len(portfolio.kudos),
        len(portfolio.answers),
        len(portfolio.experiments),
    )
    low, high = 0, largest - 1  # ``largest`` itself does not fit
    while low < high:
        middle = (low + high + 1) // 2
        if fits(newest(portfolio, middle)):
            low = middle
        else:
            high = middle - 1
    return newest(portfolio, low).model_copy(update={"truncated": True})


# Markdown ------------------------------------------------------------------------------

_INLINE_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


def inline(text: str) -> str:
    """User text on one line (a heading, a list item) with Markdown's markup escaped."""
    return " ".join(text.split()).translate(_INLINE_SPECIAL)


def quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _evidence_md(item: EvidenceItem) -> list[str]:
    heading = inline(item.title) if item.title else item.kind.value.capitalize()
    facts = [item.kind.value, item.occurred_on.isoformat()]
    if item.minutes:
        facts.append(f"{item.minutes} min")
    meta = ["*" + " · ".join(facts) + "*"]
    if item.tags:
        meta.append(f"Tags: {inline(', '.join(item.tags))}")
    if item.skills:
        meta.append(f"Skills: {inline(', '.join(item.skills))}")
    lines = [f"### {heading}", "", "  \n".join(meta), "", item.body.strip(), ""]
    if item.evidence and (item.evidence.url or item.evidence.note):
        parts = [f"<{item.evidence.url}>"] if item.evidence.url else []
        if item.evidence.note:
            parts.append(inline(item.evidence.note))
        lines += ["Evidence: " + " — ".join(parts), ""]
    return lines


def _kudos_md(kudos: KudosReceived) -> list[str]:
    sender = inline(kudos.from_name or kudos.from_id)
    lines = [f"### From {sender}, {_day(kudos.given_at)}", ""]
    if kudos.strengths:
        lines += [f"Strengths: {inline(', '.join(kudos.strengths))}", ""]
    return [*lines, quoted(kudos.message), ""]


def _answer_md(answer: AcceptedAnswer) -> list[str]:
    tags = f" (tags: {inline(', '.join(answer.tags))})" if answer.tags else ""
    return [
        f"- {_day(answer.accepted_at)}: answer accepted on question "
        f"[{inline(answer.question_id)}]({answer.question_path}){tags}"
    ]


def _experiment_md(record: ExperimentRecord) -> list[str]:
    lines = [
        f"### {inline(record.title)}",
        "",
        f"*Stage: {record.stage} · started {_day(record.started_at)}"
        f" · last change {_day(record.updated_at)}*",
        "",
    ]
    for step in record.steps:
        move = f"{step.from_stage} → {step.to_stage}" if step.from_stage else step.to_stage
        learned = f": {inline(step.learned)}" if step.learned else ""
        lines.append(f"- {_day(step.at)}, {move}{learned}")
    return [*lines, ""]


def _section(title: str, blocks: list[list[str]], empty: str) -> list[str]:
    lines = [f"## {title}", ""]
    if not blocks:
        return [*lines, f"_{empty}_", ""]
    for block in blocks:
        lines += block
    return lines if lines[-1] == "" else [*lines, ""]


def to_markdown(portfolio: PortfolioPublic) -> str:
    who = inline(portfolio.name or portfolio.user_id)
    stamp = portfolio.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Portfolio of {who}", "", f"Exported from Flowlearn on {stamp}.", ""]
    if portfolio.truncated:
        lines += ["_The oldest items were left out so the export fits in one file._", ""]
    lines += _section(
        "Evidence", [_evidence_md(i) for i in portfolio.evidence], "No evidence entries yet."
    )
    lines += _section(
        "Kudos received", [_kudos_md(k) for k in portfolio.kudos], "No kudos received yet."
    )
    answers = [_answer_md(a) for a in portfolio.answers]
    lines += _section("Accepted answers", answers, "No accepted answers yet.")
    lines += _section(
        "Experiments", [_experiment_md(e) for e in portfolio.experiments], "No experiments yet."
    )
    return "\n".join(lines).rstrip() + "\n"
