"""A portfolio as xAPI 1.0.3 statements: shape, verbs, stable ids. No servers."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flowlearn_journal.domain import model, xapi
from flowlearn_journal.domain import portfolio as rules
from flowlearn_shared.contracts.journal import EntryCreate, EntryUpdate
from flowlearn_shared.contracts.portfolio import (
    AcceptedAnswer,
    ExperimentStep,
    KudosReceived,
    PortfolioPublic,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
HOME = "https://learn.example.org"
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def entry(kind: str, **fields: object) -> model.Entry:
    data = EntryCreate.model_validate({"kind": kind, "body": f"About {kind}", **fields})
    return model.new_entry("alice", data, "UTC", NOW)


ENTRIES = [
    entry("learned", title="Canaries", evidence={"url": "https://ci.example/1"}, minutes=25),
    entry("achievement", title="Passed the AWS exam"),
    entry("interaction", evidence={"note": "pairing with Bo", "url": "notes/bo"}),
]


def portfolio() -> PortfolioPublic:
    steps = [
        ("pitch", None, "Worth a try", 3),
        ("prototype", "pitch", "People like it", 2),
        ("stopped", "prototype", "Too costly", 1),
    ]
    return PortfolioPublic(
        user_id="alice",
        name="Alice",
        generated_at=NOW,
        evidence=[rules.evidence_item(e) for e in ENTRIES],
        kudos=[
            KudosReceived(
                kudos_id="k1",
                from_id="bob",
                from_name="Bob",
                message="Great review",
                strengths=["mentoring"],
                visibility="team",
                given_at=NOW - timedelta(days=4),
            )
        ],
        answers=[
            AcceptedAnswer(
                answer_id="a1",
                question_id="q/1",
                question_path="/v1/questions/q/1",
                asker_id="carol",
                tags=["python"],
                accepted_at=NOW - timedelta(days=5),
            )
        ],
        experiments=rules.experiment_records(
            rules.RecordedStep(
                "x1",
                "team-1",
                "Pairing Fridays",
                ExperimentStep(
                    step_id=f"s-{to}",
                    from_stage=frm,
                    to_stage=to,
                    learned=learned,
                    at=NOW - timedelta(days=ago),
                ),
            )
            for to, frm, learned, ago in steps
        ),
    )


def exported(email: str | None = None) -> list[dict[str, Any]]:
    statements = xapi.to_statements(portfolio(), HOME, email)
    return [s.model_dump(mode="json", exclude_none=True) for s in statements]


def no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(v is not None and no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(no_nulls(v) for v in value)
    return True


def assert_agent(agent: dict[str, Any]) -> None:
    assert agent["objectType"] == "Agent"
    identifiers = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in agent]
    assert len(identifiers) == 1, agent


def test_every_statement_has_the_required_shape() -> None:
    statements = exported()
    assert len(statements) == 3 + 1 + 1 + 3
    for statement in statements:
        assert uuid.UUID(statement["id"]).version == 5
        assert_agent(statement["actor"])
        assert statement["verb"]["id"].startswith(("http://", "https://"))
        assert statement["verb"]["display"]["en-US"]
        obj = statement["object"]
        assert obj["objectType"] == "Activity"
        assert obj["id"].startswith("https://flowlearn.dev/xapi/activities/")
        assert obj["definition"]["name"]["en-US"]
        assert ISO_8601.match(statement["timestamp"]), statement["timestamp"]
        assert statement["context"]["platform"] == "Flowlearn"
        assert no_nulls(statement)
    timestamps = [datetime.fromisoformat(s["timestamp"]) for s in statements]
    assert timestamps == sorted(timestamps)


def test_the_owner_is_the_actor_by_account() -> None:
    statements = exported()
    owners = [s["actor"] for s in statements if s["verb"]["id"] != xapi.PRAISED.id]
    assert owners
    for actor in owners:
        assert actor == {"objectType": "Agent", "account": {"homePage": HOME, "name": "alice"}}


def test_with_an_email_the_owner_is_named_by_mbox_alone() -> None:
    for statement in exported(email="alice@example.org"):
        if statement["verb"]["id"] != xapi.PRAISED.id:
            assert statement["actor"] == {"objectType": "Agent", "mbox": "mailto:alice@example.org"}


def test_verbs_come_from_adl_or_flowlearn() -> None:
    by_object = {
        (s["object"]["id"], s["context"]["extensions"].get(xapi.extension("to-stage"))): s
        for s in exported()
    }
    verbs = {key: s["verb"]["id"] for key, s in by_object.items()}
    adl = "http://adlnet.gov/expapi/verbs/"
    ours = "https://flowlearn.dev/xapi/verbs/"
    entry_verbs = sorted(v for (iri, _), v in verbs.items() if "/activities/entry/" in iri)
    assert entry_verbs == [adl + "completed", adl + "interacted", ours + "reflected"]
    assert verbs[("https://flowlearn.dev/xapi/activities/question/q%2F1", None)] == (
        adl + "answered"
    )
    assert verbs[("https://flowlearn.dev/xapi/activities/kudos/k1", None)] == ours + "praised"
    experiment = "https://flowlearn.dev/xapi/activities/experiment/x1"
    assert verbs[(experiment, "pitch")] == adl + "attempted"
    assert verbs[(experiment, "prototype")] == adl + "progressed"
    assert verbs[(experiment, "stopped")] == ours + "stopped"
    displays = {s["verb"]["id"]: s["verb"]["display"] for s in by_object.values()}
    assert displays[ours + "reflected"] == {"en-US": "reflected"}
    assert displays[ours + "praised"] == {"en-US": "praised"}


def test_kudos_are_the_senders_praise_of_the_owner() -> None:
    [praise] = [s for s in exported() if s["verb"]["id"] == xapi.PRAISED.id]
    assert praise["actor"] == {"objectType": "Agent", "account": {"homePage": HOME, "name": "bob"}}
    assert praise["object"]["definition"]["description"] == {"en-US": "Great review"}
    assert praise["object"]["definition"]["name"] == {"en-US": "Kudos: mentoring"}
    recipient = praise["context"]["extensions"][xapi.extension("recipient")]
    assert recipient["account"] == {"homePage": HOME, "name": "alice"}


def test_entry_statements_carry_body_duration_and_evidence_link() -> None:
    [learned] = [
        s for s in exported() if s["object"]["definition"]["name"] == {"en-US": "Canaries"}
    ]
    definition = learned["object"]["definition"]
    assert definition["description"] == {"en-US": "About learned"}
    assert definition["moreInfo"] == "https://ci.example/1"
    assert learned["result"] == {"duration": "PT25M"}
    [interaction] = [s for s in exported() if s["verb"]["id"] == xapi.INTERACTED.id]
    assert "moreInfo" not in interaction["object"]["definition"]  # not an IRI
    extensions = interaction["context"]["extensions"]
    assert extensions[xapi.extension("evidence")] == {"note": "pairing with Bo", "url": "notes/bo"}


def test_experiment_steps_carry_what_was_learned() -> None:
    steps = [s for s in exported() if "/activities/experiment/" in s["object"]["id"]]
    assert [s["result"].get("response") for s in steps] == [
        "Worth a try",
        "People like it",
        "Too costly",
    ]
    assert steps[-1]["result"]["completion"] is False
    assert all(s["object"]["definition"]["name"] == {"en-US": "Pairing Fridays"} for s in steps)


def test_ids_are_stable_across_exports_and_change_with_an_edit() -> None:
    first = [s["id"] for s in exported()]
    assert first == [s["id"] for s in exported()]
    assert len(set(first)) == len(first)

    original = entry("learned", title="v1")
    edited = model.apply_update(original, EntryUpdate(title="v2"), NOW)
    before = xapi.to_statements(
        portfolio().model_copy(update={"evidence": [rules.evidence_item(original)]}), HOME
    )
    after = xapi.to_statements(
        portfolio().model_copy(update={"evidence": [rules.evidence_item(edited)]}), HOME
    )
    ids_before, ids_after = {s.id for s in before}, {s.id for s in after}
    assert len(ids_before - ids_after) == 1  # only the edited entry's statement is new
    assert len(ids_after - ids_before) == 1
