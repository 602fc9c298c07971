"""The journal's portfolio over real NATS and a real MongoDB-protocol server: fed by events
on JetStream, exported over request/reply, only ever to its owner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from flowlearn_journal.bootstrap import Journal, bootstrap
from flowlearn_journal.settings import JournalSettings
from flowlearn_shared.events import (
    AnswerAccepted,
    AnswerAcceptedData,
    ExperimentStageChanged,
    ExperimentStageChangedData,
    KudosGiven,
    KudosGivenData,
    ProfileFacts,
    ProfileUpdated,
    WorkingHoursData,
    serialize_event,
)
from flowlearn_shared.subjects import EVENTS_STREAM, RpcSubject
from nats.aio.client import Client
from pydantic import BaseModel

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
HOME = "https://flowlearn.test"


@pytest.fixture
async def make_journal(
    nats_url: str, mongodb_uri: str, unique: str
) -> AsyncIterator[Callable[..., Journal]]:
    started: list[Journal] = []

    def make(**overrides: Any) -> Journal:
        settings = JournalSettings(
            nats_url=nats_url,
            mongodb_uri=mongodb_uri,
            database=f"journal_{unique}",
            profiles_consumer=f"journal-profiles-{unique}",
            portfolio_consumer=f"journal-portfolio-{unique}",
            xapi_home_page=HOME,
            env="test",
            outbox_poll_seconds=0.2,
            retry_backoff_seconds=[0.2],
            **overrides,
        )
        journal = bootstrap(settings)
        started.append(journal)
        return journal

    yield make
    for journal in started:
        await journal.stop()


@pytest.fixture
async def journal(make_journal: Callable[..., Journal]) -> Journal:
    service = make_journal()
    await service.start()
    return service


def actor(user: str) -> dict[str, Any]:
    return {"user_id": user, "roles": ["member"], "timezone": "UTC"}


async def call(nc: Client, subject: str, body: dict[str, Any]) -> dict[str, Any]:
    msg = await nc.request(subject, json.dumps(body).encode(), timeout=10)
    reply: dict[str, Any] = json.loads(msg.data)
    assert reply["problem"] is None, reply
    return reply["result"]  # type: ignore[no-any-return]


async def portfolio(nc: Client, user: str, fmt: str = "json") -> dict[str, Any]:
    """The portfolio itself for ``json``; the whole export for the other formats."""
    result = await call(nc, RpcSubject.JOURNAL_PORTFOLIO, {"actor": actor(user), "format": fmt})
    return result["portfolio"] if fmt == "json" else result  # type: ignore[no-any-return]


async def publish(nc: Client, event: BaseModel, copies: int = 1) -> None:
    """Copies go under different message ids, past JetStream's de-duplication, as a
    redelivery or a replay would."""
    payload = serialize_event(event)  # type: ignore[arg-type]
    for n in range(copies):
        await nc.jetstream().publish(
            event.type,  # type: ignore[attr-defined]
            payload,
            stream=EVENTS_STREAM,
            headers={"Nats-Msg-Id": f"{event.id}-{n}"},  # type: ignore[attr-defined]
        )


async def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


def kudos_event(to: str, sender: str, message: str, at: datetime = NOW) -> KudosGiven:
    data = KudosGivenData(
        kudos_id=f"k-{uuid4().hex[:8]}",
        from_id=sender,
        to_id=to,
        strengths=["mentoring"],
        visibility="private",
        message=message,
    )
    return KudosGiven(source="tests", subject=to, time=at, data=data)


def accepted_event(question: str, answerer: str, asker: str, at: datetime) -> AnswerAccepted:
    data = AnswerAcceptedData(
        question_id=question,
        answer_id=f"a-{uuid4().hex[:8]}",
        asker_id=asker,
        answerer_id=answerer,
        tags=["python"],
    )
    return AnswerAccepted(source="tests", subject=answerer, time=at, data=data)


def stage_event(
    experiment: str, owner: str, frm: str | None, to: str, at: datetime
) -> ExperimentStageChanged:
    data = ExperimentStageChangedData(
        experiment_id=experiment,
        owner_id=owner,
        team_id="team-1",
        title="Pairing Fridays",
        from_stage=frm,
        to_stage=to,
        learned=f"learned at {to}" if frm else None,
    )
    return ExperimentStageChanged(source="tests", subject=owner, time=at, data=data)


async def test_kudos_reach_the_recipients_portfolio_only(
    journal: Journal, nc: Client, unique: str
) -> None:
    alice, bob, carol = f"alice-{unique}", f"bob-{unique}", f"carol-{unique}"
    profile = ProfileFacts(
        user_id=bob,
        display_name="Bob Builder",
        timezone="UTC",
        working_hours=WorkingHoursData(days=[1, 2, 3, 4, 5], start="09:00", end="17:00"),
    )
    await publish(nc, ProfileUpdated(source="tests", subject=bob, data=profile))
    to_alice = kudos_event(alice, bob, "Your incident write-up was a model")
    await publish(nc, to_alice, copies=3)
    await publish(nc, kudos_event(bob, alice, "Thanks for the review"))

    async def alices_kudos() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await portfolio(nc, alice))["kudos"]
        return found if found and found[0]["from_name"] else []

    [received] = await eventually(alices_kudos)
    assert received["kudos_id"] == to_alice.data.kudos_id
    assert received["from_id"] == bob
    assert received["from_name"] == "Bob Builder"
    assert received["message"] == "Your incident write-up was a model"
    assert received["strengths"] == ["mentoring"]

    await asyncio.sleep(0.5)  # a late duplicate would land by now
    assert len((await portfolio(nc, alice))["kudos"]) == 1
    [bobs] = (await portfolio(nc, bob))["kudos"]
    assert bobs["message"] == "Thanks for the review"
    assert (await portfolio(nc, carol))["kudos"] == []


async def test_accepted_answers_belong_to_the_answerer_of_the_latest_acceptance(
    journal: Journal, nc: Client, unique: str
) -> None:
    alice, dave, carol = f"alice-{unique}", f"dave-{unique}", f"carol-{unique}"
    question = f"q-{unique}"
    first = accepted_event(question, alice, carol, NOW - timedelta(minutes=10))
    await publish(nc, first, copies=2)

    async def alices_answers() -> list[dict[str, Any]]:
        return (await portfolio(nc, alice))["answers"]  # type: ignore[no-any-return]

    [answer] = await eventually(alices_answers)
    assert answer["answer_id"] == first.data.answer_id
    assert answer["question_path"] == f"/v1/questions/{question}"
    assert answer["asker_id"] == carol
    assert (await portfolio(nc, carol))["answers"] == []

    # The asker accepts dave's answer instead; a late copy of the first changes nothing.
    second = accepted_event(question, dave, carol, NOW)
    await publish(nc, second)

    async def daves_answers() -> list[dict[str, Any]]:
        return (await portfolio(nc, dave))["answers"]  # type: ignore[no-any-return]

    await eventually(daves_answers)
    await publish(nc, first, copies=1)
    await asyncio.sleep(0.8)
    assert (await portfolio(nc, alice))["answers"] == []
    [dave_answer] = (await portfolio(nc, dave))["answers"]
    assert dave_answer["answer_id"] == second.data.answer_id


async def test_experiments_keep_every_stage_in_order_whatever_the_arrival_order(
    journal: Journal, nc: Client, unique: str
) -> None:
    owner, mate = f"owner-{unique}", f"mate-{unique}"
    experiment = f"x-{unique}"
    t0 = NOW - timedelta(days=3)
    pitch = stage_event(experiment, owner, None, "pitch", t0)
    prototype = stage_event(experiment, owner, "pitch", "prototype", t0 + timedelta(days=1))
    pilot = stage_event(experiment, owner, "prototype", "pilot", t0 + timedelta(days=2))
    for event in (pilot, pitch, prototype):
        await publish(nc, event, copies=2)

    async def three_steps() -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = (await portfolio(nc, owner))["experiments"]
        return records if records and len(records[0]["steps"]) == 3 else []

    [record] = await eventually(three_steps)
    await asyncio.sleep(0.5)
    [record] = (await portfolio(nc, owner))["experiments"]
    assert record["experiment_id"] == experiment
    assert record["stage"] == "pilot"
    assert [s["to_stage"] for s in record["steps"]] == ["pitch", "prototype", "pilot"]
    assert [s["learned"] for s in record["steps"]] == [
        None,
        "learned at prototype",
        "learned at pilot",
    ]
    assert (await portfolio(nc, mate))["experiments"] == []


async def test_evidence_entries_and_achievements_are_the_owners_alone(
    journal: Journal, nc: Client, unique: str
) -> None:
    alice, bob = f"alice-{unique}", f"bob-{unique}"

    async def write(user: str, **entry: Any) -> dict[str, Any]:
        body = {"kind": "learned", "body": "Learned about outboxes", **entry}
        return await call(
            nc, RpcSubject.JOURNAL_CREATE_ENTRY, {"actor": actor(user), "entry": body}
        )

    marked = await write(alice, title="Outbox PR", evidence={"url": "https://git.example/pr/7"})
    achieved = await write(alice, kind="achievement", body="Ran my first incident review")
    await write(alice, kind="reflection", body="Just a thought")
    await write(bob, kind="achievement", body="Bob's own achievement")

    mine = await portfolio(nc, alice)
    assert mine["user_id"] == alice
    assert {e["entry_id"] for e in mine["evidence"]} == {marked["id"], achieved["id"]}
    assert mine["truncated"] is False
    theirs = await portfolio(nc, bob)
    assert [e["body"] for e in theirs["evidence"]] == ["Bob's own achievement"]
    nobody = await portfolio(nc, f"nobody-{unique}")
    assert nobody["evidence"] == nobody["kudos"] == nobody["answers"] == []


async def test_markdown_and_xapi_exports(journal: Journal, nc: Client, unique: str) -> None:
    alice, bob = f"alice-{unique}", f"bob-{unique}"
    await call(
        nc,
        RpcSubject.JOURNAL_CREATE_ENTRY,
        {
            "actor": actor(alice),
            "entry": {"kind": "gem", "title": "Bisect", "body": "git bisect run", "evidence": {}},
        },
    )
    await publish(nc, kudos_event(alice, bob, "Saved our release"))
    await publish(nc, stage_event(f"x-{unique}", alice, None, "pitch", NOW))

    async def both_in() -> bool:
        found = await portfolio(nc, alice)
        return bool(found["kudos"] and found["experiments"])

    await eventually(both_in)
    md = await portfolio(nc, alice, "md")
    assert md["format"] == "md"
    assert md["portfolio"] is None
    text = md["markdown"]
    assert "### Bisect" in text
    assert "git bisect run" in text
    assert "> Saved our release" in text
    assert "### Pairing Fridays" in text

    first = (await portfolio(nc, alice, "xapi"))["statements"]
    again = (await portfolio(nc, alice, "xapi"))["statements"]
    assert [s["id"] for s in first] == [s["id"] for s in again]
    assert len(first) == 3
    mine = [s for s in first if s["actor"]["account"]["name"] == alice]
    assert {s["verb"]["id"] for s in mine} == {
        "https://flowlearn.dev/xapi/verbs/reflected",
        "http://adlnet.gov/expapi/verbs/attempted",
    }
    assert all(s["actor"]["account"]["homePage"] == HOME for s in first)


async def test_a_bad_format_is_a_422_problem(journal: Journal, nc: Client, unique: str) -> None:
    msg = await nc.request(
        RpcSubject.JOURNAL_PORTFOLIO,
        json.dumps({"actor": actor(unique), "format": "pdf"}).encode(),
        timeout=10,
    )
    reply = json.loads(msg.data)
    assert reply["problem"]["status"] == 422


async def test_a_large_portfolio_is_cut_to_fit_one_message(
    make_journal: Callable[..., Journal], nc: Client, unique: str
) -> None:
    journal = make_journal(portfolio_max_bytes=20_000)
    await journal.start()
    user = f"big-{unique}"
    for n in range(8):
        entry = {"kind": "achievement", "title": f"#{n}", "body": f"{n} " + "x" * 4000}
        await call(nc, RpcSubject.JOURNAL_CREATE_ENTRY, {"actor": actor(user), "entry": entry})
        await asyncio.sleep(0.01)  # distinct creation times keep the order exact

    msg = await nc.request(
        RpcSubject.JOURNAL_PORTFOLIO,
        json.dumps({"actor": actor(user), "format": "json"}).encode(),
        timeout=10,
    )
    assert len(msg.data) < 20_500
    result = json.loads(msg.data)["result"]["portfolio"]
    assert result["truncated"] is True
    titles = [e["title"] for e in result["evidence"]]
    assert 1 <= len(titles) < 8
    assert titles == [f"#{n}" for n in range(7, 7 - len(titles), -1)]  # the newest kept
    md = await portfolio(nc, user, "md")
    assert "oldest items were left out" in md["markdown"]
