"""Helpers for the personal-data integration tests: the three services that hold personal
data, side by side; a person with something of everything; exports glued from their parts;
waiting for an erasure and for consumers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flowlearn_journal.bootstrap import Journal
from flowlearn_journal.bootstrap import bootstrap as bootstrap_journal
from flowlearn_journal.settings import JournalSettings
from flowlearn_nudges.bootstrap import Nudges
from flowlearn_nudges.bootstrap import bootstrap as bootstrap_nudges
from flowlearn_nudges.settings import NudgesSettings
from flowlearn_shared.contracts.personal_data import (
    JournalExport,
    NudgesExport,
    SharingExport,
    assemble,
)
from flowlearn_shared.subjects import EVENTS_STREAM, RpcSubject
from flowlearn_sharing.bootstrap import Sharing
from flowlearn_sharing.bootstrap import bootstrap as bootstrap_sharing
from flowlearn_sharing.settings import SharingSettings
from nats.aio.client import Client
from pydantic import BaseModel
from social_support import actor, ok

R = RpcSubject
EXPORTS: dict[str, tuple[RpcSubject, type[BaseModel]]] = {
    "journal": (R.JOURNAL_EXPORT_PERSONAL_DATA, JournalExport),
    "sharing": (R.SHARING_EXPORT_PERSONAL_DATA, SharingExport),
    "nudges": (R.NUDGES_EXPORT_PERSONAL_DATA, NudgesExport),
}

# Stored sealed; its owner's export shows it opened.
SLACK_URL = "https://hooks.slack.com/services/T0/B0/alices-channel"


@dataclass
class System:
    journal: Journal
    sharing: Sharing
    nudges: Nudges
    unique: str

    def durable(self, service: str) -> str:
        return f"{service}-erasure-{self.unique}"

    def databases(self) -> list[Any]:
        return [s.mongo[s.settings.database] for s in (self.journal, self.sharing, self.nudges)]


@asynccontextmanager
async def running_system(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[System]:
    """The journal, sharing and nudges services in this process, each with its own database
    and consumers."""
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "mongodb_uri": mongodb_uri,
        "env": "test",
        "outbox_poll_seconds": 0.2,
        "retry_backoff_seconds": [0.2],
    }
    journal = bootstrap_journal(
        JournalSettings(
            **common,
            database=f"journal_{unique}",
            profiles_consumer=f"journal-profiles-{unique}",
            portfolio_consumer=f"journal-portfolio-{unique}",
            erasure_consumer=f"journal-erasure-{unique}",
        )
    )
    sharing = bootstrap_sharing(
        SharingSettings(
            **common,
            database=f"sharing_{unique}",
            journal_shares_consumer=f"sharing-shares-{unique}",
            erasure_consumer=f"sharing-erasure-{unique}",
            erasure_status_consumer=f"sharing-erasure-status-{unique}",
        )
    )
    nudges = bootstrap_nudges(
        NudgesSettings(
            **common,
            database=f"nudges_{unique}",
            journal_consumer=f"nudges-journal-{unique}",
            people_consumer=f"nudges-people-{unique}",
            sharing_consumer=f"nudges-sharing-{unique}",
            work_consumer=f"nudges-work-{unique}",
            erasure_consumer=f"nudges-erasure-{unique}",
            scheduler_enabled=False,
            campaigns_enabled=False,
            channels_enabled=False,
        )
    )
    system = System(journal, sharing, nudges, unique)
    started: list[Journal | Sharing | Nudges] = []
    try:
        for service in (journal, sharing, nudges):
            await service.start()
            started.append(service)
        yield system
    finally:
        # A test may have replaced a service by a fresh copy of it.
        for service in (system.journal, system.sharing, system.nudges)[: len(started)]:
            await service.stop()


async def eventually(check: Callable[[], Any], what: str, within: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.2)
    return result


async def export_of(nc: Client, service: str, user: str) -> tuple[Any, int]:
    """One service's export of ``user``, glued from its parts, and how many parts it took."""
    subject, model = EXPORTS[service]
    sections: dict[str, list[Any]] = {}
    cursor, parts = None, 0
    while True:
        part = await ok(nc, subject, {"actor": actor(user), "cursor": cursor})
        parts += 1
        for name, items in part["sections"].items():
            sections.setdefault(name, []).extend(items)
        if (cursor := part["next_cursor"]) is None:
            return assemble(model, sections), parts


async def everything_of(nc: Client, user: str) -> dict[str, Any]:
    return {name: (await export_of(nc, name, user))[0] for name in EXPORTS}


@dataclass
class Made:
    """Ids of what the people of one test wrote."""

    team: str
    community: str
    alice_post: str
    alice_lesson: str
    bob_post: str
    bob_question: str
    alice_answer: str
    alice_question: str
    bob_answer: str
    gathering: str
    collection: str
    experiment: str


async def populate(nc: Client, alice: str, bob: str, carol: str) -> Made:
    """Alice writes, reacts, votes, RSVPs...; Bob and Carol have their own things and traces
    on hers. Everything through the services' own requests."""
    a, b, c = actor(alice), actor(bob, "manager", "curator"), actor(carol)
    for who in (a, b, c):
        await ok(nc, R.SHARING_ME, {"actor": who})
    await ok(nc, R.JOURNAL_CREATE_ENTRY, {"actor": a, "entry": {"kind": "learned", "body": "A"}})
    await ok(nc, R.JOURNAL_CREATE_ENTRY, {"actor": b, "entry": {"kind": "gem", "body": "Bob's"}})
    team = await ok(nc, R.SHARING_CREATE_TEAM, {"actor": b, "team": {"name": "Ops"}})
    member = {"user_id": alice, "role": "member"}
    await ok(nc, R.SHARING_ADD_TEAM_MEMBER, {"actor": b, "team_id": team["id"], "member": member})
    community = await ok(nc, R.SHARING_CREATE_COMMUNITY, {"actor": b, "community": {"name": "SRE"}})
    await ok(nc, R.SHARING_JOIN_COMMUNITY, {"actor": a, "community_id": community["id"]})

    async def post(who: dict[str, Any], **fields: Any) -> str:
        body = {"kind": "tip", "audience": "org", **fields}
        return str((await ok(nc, R.SHARING_CREATE_POST, {"actor": who, "post": body}))["id"])

    alice_post = await post(a, body="Alice's tip", review_by="2030-01-01")
    alice_lesson = await post(a, kind="lesson", body="Alice's mistake", anonymous=True)
    bob_post = await post(b, body="Bob's tip")
    await ok(nc, R.SHARING_COMMENT, {"actor": a, "post_id": bob_post, "comment": {"body": "A"}})
    await ok(nc, R.SHARING_COMMENT, {"actor": b, "post_id": alice_post, "comment": {"body": "B"}})
    await ok(nc, R.SHARING_REACT, {"actor": a, "post_id": bob_post, "reaction": "like"})
    await ok(nc, R.SHARING_REACT, {"actor": b, "post_id": alice_post, "reaction": "thanks"})

    async def ask(who: dict[str, Any], title: str) -> str:
        question = {"title": title, "body": title, "tags": ["ops"]}
        return str(
            (await ok(nc, R.SHARING_ASK_QUESTION, {"actor": who, "question": question}))["id"]
        )

    async def answer(who: dict[str, Any], question: str, text: str) -> str:
        body = {"actor": who, "question_id": question, "answer": {"body": text}}
        return str((await ok(nc, R.SHARING_ANSWER_QUESTION, body))["id"])

    bob_question = await ask(b, "How do canaries work?")
    alice_answer = await answer(a, bob_question, "Alice's answer")
    await ok(
        nc, R.SHARING_VOTE_ANSWER, {"actor": b, "target_id": alice_answer, "vote": {"value": 1}}
    )
    await ok(
        nc, R.SHARING_VOTE_QUESTION, {"actor": a, "target_id": bob_question, "vote": {"value": 1}}
    )
    alice_question = await ask(a, "Who owns the pager?")
    bob_answer = await answer(b, alice_question, "Bob's answer")
    await ok(nc, R.SHARING_ACCEPT_ANSWER, {"actor": a, "answer_id": bob_answer})

    for sender, to, text in ((b, alice, "Thanks, Alice"), (a, bob, "Great review, Bob")):
        kudos = {"to": to, "message": text, "visibility": "team"}
        await ok(nc, R.SHARING_GIVE_KUDOS, {"actor": sender, "kudos": kudos})

    starts = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    gathering = await ok(
        nc,
        R.SHARING_CREATE_GATHERING,
        {
            "actor": b,
            "gathering": {
                "kind": "lunch_and_learn",
                "title": "Canaries",
                "starts_at": starts,
                "capacity": 1,
                "audience": "org",
            },
        },
    )
    for who in (a, c):  # Alice takes the one seat; Carol waits
        await ok(nc, R.SHARING_RSVP, {"actor": who, "gathering_id": gathering["id"]})
    collection = await ok(
        nc,
        R.SHARING_CREATE_COLLECTION,
        {"actor": b, "collection": {"title": "Reading", "audience": "org"}},
    )
    enrol = {"actor": a, "collection_id": collection["id"], "enrollment": {"interval_days": 2}}
    await ok(nc, R.SHARING_ENROLL, enrol)
    experiment = await ok(
        nc,
        R.SHARING_CREATE_EXPERIMENT,
        {"actor": a, "experiment": {"team_id": team["id"], "title": "Pairing Fridays"}},
    )
    webhook = {"url": "http://127.0.0.1:9/hook", "secret": "s3cret-signing-key"}
    slack = {"webhook_url": SLACK_URL}
    preferences = {"daily_cap": 2, "destinations": {"webhook": webhook, "slack": slack}}
    await ok(nc, R.NUDGES_UPDATE_PREFERENCES, {"actor": a, "preferences": preferences})
    return Made(
        team["id"],
        community["id"],
        alice_post,
        alice_lesson,
        bob_post,
        bob_question,
        alice_answer,
        alice_question,
        bob_answer,
        gathering["id"],
        collection["id"],
        experiment["id"],
    )


async def events_arrived(nc: Client, alice: str, bob: str) -> None:
    """What other services learn by events reached them, so the erasure has it to erase."""

    async def arrived() -> bool:
        journal = (await export_of(nc, "journal", alice))[0]
        nudges = (await export_of(nc, "nudges", alice))[0]
        bobs = (await export_of(nc, "journal", bob))[0]
        return bool(
            journal.portfolio_kudos
            and journal.known_profile
            and nudges.activity
            and nudges.memberships
            and bobs.portfolio_kudos
            and bobs.portfolio_answers
        )

    await eventually(arrived, "kudos, answers, profiles and activity reached every service")


async def erase(nc: Client, user: str, posts: str) -> str:
    accepted = await ok(nc, R.SHARING_ERASE_PERSON, {"actor": actor(user), "posts": posts})
    erasure_id = str(accepted["erasure_id"])

    async def done() -> dict[str, Any] | None:
        status = await ok(
            nc, R.SHARING_ERASURE_STATUS, {"actor": actor(user), "erasure_id": erasure_id}
        )
        return status if status["status"] == "erased" else None

    status = await eventually(done, "every service confirmed the erasure")
    assert set(status["services"]) == {"journal", "sharing", "nudges"}
    assert all(s["status"] == "erased" and s["erased_at"] for s in status["services"].values())
    assert status["completed_at"] is not None
    return erasure_id


def assert_empty(export: dict[str, Any]) -> None:
    for name, part in export.items():
        for field, value in part:
            assert value in (None, []), f"{name}.{field} still has {value!r}"


async def mentions(system: System, user: str) -> list[str]:
    """Documents in any of the three databases that name ``user`` (outboxes aside: their
    confirmations carry the id by contract, and expire)."""
    found = []
    for db in system.databases():
        for name in await db.list_collection_names():
            if name == "outbox":
                continue
            async for doc in db[name].find():
                if user in json.dumps(doc, default=str):
                    found.append(f"{db.name}.{name}: {doc['_id']}")
    return found


async def consumers_past(nc: Client, system: System, seq: int) -> None:
    """Wait until every erasure consumer has acknowledged the stream up to ``seq``."""
    js = nc.jetstream()

    async def past() -> bool:
        for service in ("journal", "sharing", "nudges"):
            info = await js.consumer_info(EVENTS_STREAM, system.durable(service))
            if info.ack_floor.stream_seq < seq or info.num_ack_pending:
                return False
        return True

    await eventually(past, "the erasure consumers handled the redelivered request")


async def acked(js: Any, durable: str, seq: int) -> bool:
    info = await js.consumer_info(EVENTS_STREAM, durable)
    return bool(info.ack_floor.stream_seq >= seq and not info.num_ack_pending)
