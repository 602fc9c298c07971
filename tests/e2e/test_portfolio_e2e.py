"""The portfolio through the whole system: kudos, an accepted answer and an experiment made in
the sharing service reach the journal as events, and its owner exports them with an evidence
entry as Markdown, JSON and xAPI. Every test makes its own users."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from flowlearn_cli.tokens import make_token

pytestmark = pytest.mark.e2e

URL = "/v1/journal/portfolio"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def auth(user: str, role: str = "member", name: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, role, name=name)}"}


def eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.2)
    return result


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def portfolio(api: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = api.get(URL, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_kudos_and_an_evidence_entry_in_the_markdown_export(api: httpx.Client) -> None:
    alice_id, bob_id = new_id("alice"), new_id("bob")
    bob_name = f"Bob {uuid.uuid4().hex[:6]}"
    alice, bob = auth(alice_id, name="Alice"), auth(bob_id, name=bob_name)
    praise = "Your rollback plan saved the release tonight"
    entry = created(
        api.post(
            "/v1/journal/entries",
            headers=alice,
            json={
                "kind": "learned",
                "title": "Canary deploys",
                "body": "Canary deploys catch what staging misses",
                "evidence": {"url": "https://git.example/pr/42", "note": "The rollout PR"},
            },
        )
    )
    api.post(
        "/v1/journal/entries", headers=alice, json={"kind": "reflection", "body": "Not evidence"}
    )
    kudos = created(
        api.post(
            "/v1/kudos",
            headers=bob,
            json={"to": alice_id, "message": praise, "strengths": ["calm under pressure"]},
        )
    )

    def kudos_arrived() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = portfolio(api, alice)["kudos"]
        return found if found and found[0]["from_name"] else []

    [received] = eventually(kudos_arrived, "the kudos with its sender's name in the portfolio")
    assert received["kudos_id"] == kudos["id"]
    assert received["from_id"] == bob_id
    assert received["from_name"] == bob_name

    response = api.get(URL, params={"format": "md"}, headers=alice)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="portfolio.md"'
    text = response.text
    assert text.startswith("# Portfolio of Alice\n")
    evidence = text.split("## Evidence")[1].split("## Kudos received")[0]
    assert "### Canary deploys" in evidence
    assert "Canary deploys catch what staging misses" in evidence
    assert "<https://git.example/pr/42>" in evidence
    assert "Not evidence" not in text
    received_md = text.split("## Kudos received")[1].split("## Accepted answers")[0]
    assert f"### From {bob_name}" in received_md
    assert f"> {praise}" in received_md
    assert "Strengths: calm under pressure" in received_md

    # Bob's portfolio holds none of it, whatever his role.
    for role in ("member", "admin"):
        theirs = portfolio(api, auth(bob_id, role))
        assert theirs["user_id"] == bob_id
        assert theirs["evidence"] == theirs["kudos"] == []
    bob_md = api.get(URL, params={"format": "md"}, headers=bob).text
    assert praise not in bob_md
    assert entry["body"] not in bob_md


def test_accepted_answer_and_experiment_in_the_json_and_xapi_exports(api: httpx.Client) -> None:
    alice_id, asker_id, lead_id = new_id("alice"), new_id("asker"), new_id("lead")
    alice, asker, lead = auth(alice_id), auth(asker_id), auth(lead_id, "manager")
    portfolio(api, alice)  # her profile exists before the team adds her

    team = created(api.post("/v1/teams", json={"name": new_id("team")}, headers=lead))
    added = api.post(f"/v1/teams/{team['id']}/members", json={"user_id": alice_id}, headers=lead)
    assert added.status_code == 200, added.text
    experiment = created(
        api.post(
            "/v1/experiments",
            headers=alice,
            json={"team_id": team["id"], "title": "Pairing Fridays", "pitch": "Pair for a day"},
        )
    )
    moved = api.post(
        f"/v1/experiments/{experiment['id']}/stage",
        headers=alice,
        json={"to": "prototype", "learned": "People want it weekly"},
    )
    assert moved.status_code == 200, moved.text

    question = created(
        api.post(
            "/v1/questions",
            headers=asker,
            json={"title": "How do I bisect a flaky test?", "body": "It fails 1 in 10 runs."},
        )
    )
    answer = created(
        api.post(
            f"/v1/questions/{question['id']}/answers",
            headers=alice,
            json={"body": "git bisect run with a loop of 20 runs"},
        )
    )
    accepted = api.post(f"/v1/answers/{answer['id']}/accept", headers=asker)
    assert accepted.status_code == 200, accepted.text

    def both_arrived() -> dict[str, Any] | None:
        found = portfolio(api, alice)
        experiments = found["experiments"]
        ready = found["answers"] and experiments and len(experiments[0]["steps"]) == 2
        return found if ready else None

    found = eventually(both_arrived, "the answer and both experiment steps in the portfolio")
    [answered] = found["answers"]
    assert answered["answer_id"] == answer["id"]
    assert answered["question_id"] == question["id"]
    assert answered["asker_id"] == asker_id
    [record] = found["experiments"]
    assert record["experiment_id"] == experiment["id"]
    assert record["stage"] == "prototype"
    assert [s["learned"] for s in record["steps"]] == [None, "People want it weekly"]
    assert portfolio(api, asker)["answers"] == []

    response = api.get(URL, params={"format": "xapi"}, headers=alice)
    assert response.status_code == 200, response.text
    assert response.headers["x-experience-api-version"] == "1.0.3"
    statements = response.json()
    verbs = {s["verb"]["id"] for s in statements}
    assert verbs == {
        "http://adlnet.gov/expapi/verbs/answered",
        "http://adlnet.gov/expapi/verbs/attempted",
        "http://adlnet.gov/expapi/verbs/progressed",
    }
    for statement in statements:
        uuid.UUID(statement["id"])
        assert statement["actor"]["objectType"] == "Agent"
        assert statement["actor"]["account"]["name"] == alice_id
        assert statement["object"]["id"].startswith("https://flowlearn.dev/xapi/activities/")
    again = api.get(URL, params={"format": "xapi"}, headers=alice).json()
    assert [s["id"] for s in again] == [s["id"] for s in statements]
