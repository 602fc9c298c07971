"""Portfolio rules and its Markdown form, no servers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flowlearn_journal.domain import model
from flowlearn_journal.domain import portfolio as rules
from flowlearn_shared.contracts.journal import EntryCreate
from flowlearn_shared.contracts.portfolio import (
    AcceptedAnswer,
    ExperimentStep,
    KudosReceived,
    PortfolioPublic,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)


def entry(**fields: object) -> model.Entry:
    data = EntryCreate.model_validate({"kind": "learned", "body": "b", **fields})
    return model.new_entry("alice", data, "UTC", NOW)


def step(experiment: str, to: str, at: datetime, *, frm: str | None = None, title: str = "T"):  # type: ignore[no-untyped-def]
    return rules.RecordedStep(
        experiment_id=experiment,
        team_id="team-1",
        title=title,
        step=ExperimentStep(
            step_id=f"{experiment}-{to}", from_stage=frm, to_stage=to, learned=f"on {to}", at=at
        ),
    )


def kudos(n: int, **fields: object) -> KudosReceived:
    values: dict[str, object] = {
        "kudos_id": f"k{n}",
        "from_id": "bob",
        "from_name": "Bob Builder",
        "message": "Thanks for the clear incident write-up.\nIt helped the whole team.",
        "strengths": ["clear writing"],
        "visibility": "private",
        "given_at": NOW - timedelta(days=n),
        **fields,
    }
    return KudosReceived.model_validate(values)


def portfolio(**fields: object) -> PortfolioPublic:
    evidence = entry(
        title="Shipped the *new* pipeline",
        body="Cut deploy time from 40 to 6 minutes.",
        tags=["ci"],
        skills=["automation"],
        minutes=90,
        evidence={"url": "https://git.example/pr/42", "note": "The PR"},
    )
    values: dict[str, object] = {
        "user_id": "alice",
        "name": "Alice Liddell",
        "generated_at": NOW,
        "evidence": [rules.evidence_item(evidence)],
        "kudos": [kudos(1)],
        "answers": [
            AcceptedAnswer(
                answer_id="a1",
                question_id="q1",
                question_path=rules.question_path("q1"),
                asker_id="carol",
                tags=["python"],
                accepted_at=NOW - timedelta(hours=3),
            )
        ],
        "experiments": rules.experiment_records(
            [
                step("x1", "pitch", NOW - timedelta(days=3), title="Pairing Fridays"),
                step(
                    "x1", "prototype", NOW - timedelta(days=1), frm="pitch", title="Pairing Fridays"
                ),
            ]
        ),
        **fields,
    }
    return PortfolioPublic.model_validate(values)


def test_evidence_is_marked_entries_and_every_achievement() -> None:
    assert rules.is_evidence(entry(evidence={"note": "see the PR"}))
    assert rules.is_evidence(entry(evidence={}))
    assert rules.is_evidence(entry(kind="achievement"))
    assert not rules.is_evidence(entry(kind="reflection"))


def test_experiment_steps_in_any_order_give_the_latest_stage() -> None:
    t0 = NOW - timedelta(days=10)
    steps = [
        step("x1", "pilot", t0 + timedelta(days=2), frm="prototype", title="Renamed"),
        step("x1", "pitch", t0, title="Original"),
        step("x2", "pitch", t0 + timedelta(days=5)),
        step("x1", "prototype", t0 + timedelta(days=1), frm="pitch", title="Original"),
    ]
    [x2, x1] = rules.experiment_records(steps)
    assert x2.experiment_id == "x2"  # changed most recently
    assert x1.stage == "pilot"
    assert x1.title == "Renamed"
    assert [s.to_stage for s in x1.steps] == ["pitch", "prototype", "pilot"]
    assert x1.started_at == t0
    assert x1.updated_at == t0 + timedelta(days=2)


def test_steps_at_the_same_instant_follow_the_stage_order() -> None:
    [record] = rules.experiment_records(
        [step("x", "done", NOW, frm="pilot"), step("x", "pilot", NOW, frm="prototype")]
    )
    assert record.stage == "done"


def test_newest_cuts_each_section_and_marks_it() -> None:
    full = portfolio(kudos=[kudos(n) for n in range(5)])
    assert rules.newest(full, 5) == full
    cut = rules.newest(full, 2)
    assert [k.kudos_id for k in cut.kudos] == ["k0", "k1"]
    assert cut.truncated is True
    assert len(cut.evidence) == 1


def test_fit_keeps_as_many_newest_items_as_fit() -> None:
    full = portfolio(kudos=[kudos(n) for n in range(40)])
    assert rules.fit(full, lambda p: True) is full
    kept = rules.fit(full, lambda p: len(p.kudos) <= 13)
    assert [k.kudos_id for k in kept.kudos] == [f"k{n}" for n in range(13)]
    assert kept.truncated is True
    nothing = rules.fit(full, lambda p: not p.kudos)
    assert nothing.kudos == []
    assert nothing.truncated is True


def test_markdown_has_a_section_for_each_part() -> None:
    text = rules.to_markdown(portfolio())
    assert text.startswith("# Portfolio of Alice Liddell\n")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Evidence",
        "## Kudos received",
        "## Accepted answers",
        "## Experiments",
    ]
    evidence = text.split("## Evidence")[1].split("## Kudos received")[0]
    assert "### Shipped the \\*new\\* pipeline" in evidence
    assert "*learned · 2026-03-29 · 90 min*  \nTags: ci  \nSkills: automation\n" in evidence
    assert "Cut deploy time from 40 to 6 minutes." in evidence
    assert "Evidence: <https://git.example/pr/42> — The PR" in evidence
    assert "Skills: automation" in evidence

    received = text.split("## Kudos received")[1].split("## Accepted answers")[0]
    assert "### From Bob Builder, 2026-03-28" in received
    assert "> Thanks for the clear incident write-up.\n> It helped the whole team." in received
    assert "Strengths: clear writing" in received

    answers = text.split("## Accepted answers")[1].split("## Experiments")[0]
    assert "answer accepted on question [q1](/v1/questions/q1) (tags: python)" in answers

    experiments = text.split("## Experiments")[1]
    assert "### Pairing Fridays" in experiments
    assert "*Stage: prototype · started 2026-03-26 · last change 2026-03-28*" in experiments
    assert "- 2026-03-26, pitch: on pitch" in experiments
    assert "- 2026-03-28, pitch → prototype: on prototype" in experiments
    assert "oldest items were left out" not in text
    assert "\n\n\n" not in text


def test_markdown_of_an_empty_portfolio_says_so_and_names_the_user_id() -> None:
    empty = PortfolioPublic(
        user_id="dana",
        name=None,
        generated_at=NOW,
        evidence=[],
        kudos=[],
        answers=[],
        experiments=[],
        truncated=True,
    )
    text = rules.to_markdown(empty)
    assert text.startswith("# Portfolio of dana\n")
    for none_yet in (
        "No evidence entries yet.",
        "No kudos received yet.",
        "No accepted answers yet.",
        "No experiments yet.",
    ):
        assert f"_{none_yet}_" in text
    assert "oldest items were left out" in text


def test_markdown_keeps_user_text_on_its_line() -> None:
    sneaky = portfolio(name="Eve\n# Not a heading")
    first_line = rules.to_markdown(sneaky).splitlines()[0]
    assert first_line == "# Portfolio of Eve \\# Not a heading"
    assert rules.inline("a  b\n c [x](y)") == "a b c \\[x\\](y)"
    assert date(2026, 3, 29).isoformat() in rules.to_markdown(portfolio())
