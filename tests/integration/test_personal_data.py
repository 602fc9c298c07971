"""Personal data over real NATS and SecantusDB, with the journal, sharing and nudges services
running side by side: each service's part of an export (in parts when it is large), and
erasure by event (every service confirms; a redelivered request changes nothing; what the
person wrote is anonymised or deleted as they chose; late events bring nothing back)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from flowlearn_nudges.bootstrap import bootstrap as bootstrap_nudges
from flowlearn_shared.contracts.personal_data import ERASED_PERSON
from flowlearn_shared.events import (
    JournalEntryShared,
    JournalEntrySharedData,
    ProfileFacts,
    ProfileUpdated,
    WorkingHoursData,
    serialize_event,
)
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject, RpcSubject
from nats.aio.client import Client
from personal_data_support import (
    SLACK_URL,
    System,
    acked,
    assert_empty,
    consumers_past,
    erase,
    events_arrived,
    eventually,
    everything_of,
    export_of,
    mentions,
    populate,
    running_system,
)
from social_support import actor, call, ok, stream_events

pytestmark = pytest.mark.integration
R = RpcSubject


@pytest.fixture
async def system(nats_url: str, mongodb_uri: str, unique: str) -> AsyncIterator[System]:
    async with running_system(nats_url, mongodb_uri, unique) as running:
        yield running


async def test_each_service_exports_its_part_of_a_persons_data(system: System, nc: Client) -> None:
    alice, bob, carol = (f"{n}-{uuid4().hex[:8]}" for n in ("alice", "bob", "carol"))
    made = await populate(nc, alice, bob, carol)
    await events_arrived(nc, alice, bob)
    mine = await everything_of(nc, alice)
    journal, sharing, nudges = mine["journal"], mine["sharing"], mine["nudges"]

    assert [e.body for e in journal.entries] == ["A"]
    assert [k.message for k in journal.portfolio_kudos] == ["Thanks, Alice"]
    assert sharing.profile.user_id == alice
    assert [t.team_id for t in sharing.teams] == [made.team]
    assert [c.community_id for c in sharing.communities] == [made.community]
    posts = {p.id: p for p in sharing.posts}
    assert set(posts) == {made.alice_post, made.alice_lesson}
    assert posts[made.alice_lesson].anonymous is True  # theirs, and marked
    assert posts[made.alice_post].anonymous is False
    assert [c.post_id for c in sharing.comments] == [made.bob_post]
    assert [(r.post_id, r.kind) for r in sharing.reactions] == [(made.bob_post, "like")]
    assert [q.id for q in sharing.questions] == [made.alice_question]
    assert [a.id for a in sharing.answers] == [made.alice_answer]
    assert [(v.target, v.target_id) for v in sharing.votes] == [("question", made.bob_question)]
    assert [k.message for k in sharing.kudos_given] == ["Great review, Bob"]
    assert [k.message for k in sharing.kudos_received] == ["Thanks, Alice"]
    assert [e.collection_id for e in sharing.enrolments] == [made.collection]
    assert [(r.gathering_id, r.status) for r in sharing.rsvps] == [(made.gathering, "going")]
    assert [e.id for e in sharing.experiments] == [made.experiment]
    assert sharing.collections == sharing.gatherings_hosted == []
    webhook = nudges.preferences.destinations.webhook
    assert webhook.secret is None
    assert webhook.has_secret is True
    assert nudges.preferences.destinations.slack.webhook_url == SLACK_URL
    assert "s3cret-signing-key" not in json.dumps(
        [p.model_dump(mode="json") for p in mine.values()]
    )
    assert nudges.person is not None
    assert nudges.activity.entries_written == 1

    # Bob's export holds his own things, not Alice's.
    bobs = await everything_of(nc, bob)
    assert [e.body for e in bobs["journal"].entries] == ["Bob's"]
    assert {p.id for p in bobs["sharing"].posts} == {made.bob_post}
    assert [g.id for g in bobs["sharing"].gatherings_hosted] == [made.gathering]


async def test_a_large_journal_export_comes_in_parts(system: System, nc: Client) -> None:
    alice = f"alice-{uuid4().hex[:8]}"
    bodies = [f"{i:03d} " + "x" * 19_000 for i in range(40)]  # ~760 kB in all
    for body in bodies:
        entry = {"kind": "reflection", "body": body}
        await ok(nc, R.JOURNAL_CREATE_ENTRY, {"actor": actor(alice), "entry": entry})
    export, parts = await export_of(nc, "journal", alice)
    assert parts >= 2
    assert [e.body for e in export.entries] == bodies  # oldest first, none twice


async def test_erasure_anonymises_what_they_wrote_and_confirms_once(
    system: System, nc: Client
) -> None:
    alice, bob, carol = (f"{n}-{uuid4().hex[:8]}" for n in ("alice", "bob", "carol"))
    made = await populate(nc, alice, bob, carol)
    await events_arrived(nc, alice, bob)
    erasure_id = await erase(nc, alice, "anonymise")

    assert_empty(await everything_of(nc, alice))
    assert await mentions(system, alice) == []
    b = actor(bob)
    for post_id in (made.alice_post, made.alice_lesson):
        kept = await ok(nc, R.SHARING_GET_POST, {"actor": b, "post_id": post_id})
        assert kept["anonymous"] is True
        assert kept["author"] is None
        assert kept["review_by"] is None
    on_hers = await ok(nc, R.SHARING_GET_POST, {"actor": b, "post_id": made.alice_post})
    assert on_hers["comment_count"] == 1
    assert on_hers["reactions"] == {"thanks": 1}
    on_bobs = await ok(nc, R.SHARING_GET_POST, {"actor": b, "post_id": made.bob_post})
    assert on_bobs["comment_count"] == 0
    assert on_bobs["reactions"] == {}
    question = await ok(nc, R.SHARING_GET_QUESTION, {"actor": b, "question_id": made.bob_question})
    assert question["score"] == 0  # her vote is gone
    [kept_answer] = question["answers"]
    assert kept_answer["author"] == {"user_id": ERASED_PERSON, "display_name": "Erased person"}
    assert kept_answer["score"] == 1  # Bob's vote on it stays
    hers = await ok(nc, R.SHARING_GET_QUESTION, {"actor": b, "question_id": made.alice_question})
    assert hers["asker"]["user_id"] == ERASED_PERSON
    assert [a["id"] for a in hers["answers"]] == [made.bob_answer]

    # Kudos: what Bob gave her stays in his given box, to nobody he can name, privately.
    given = await ok(nc, R.SHARING_LIST_KUDOS, {"actor": b, "query": {"box": "given"}})
    [to_her] = given["items"]
    assert to_her["recipient"]["user_id"] == ERASED_PERSON
    assert to_her["visibility"] == "private"
    received = await ok(nc, R.SHARING_LIST_KUDOS, {"actor": b, "query": {}})
    assert [(k["sender"]["user_id"], k["message"]) for k in received["items"]] == [
        (ERASED_PERSON, "Great review, Bob")
    ]
    bobs_journal = (await export_of(nc, "journal", bob))[0]
    assert [k.from_id for k in bobs_journal.portfolio_kudos] == [ERASED_PERSON]
    assert [a.asker_id for a in bobs_journal.portfolio_answers] == [ERASED_PERSON]
    assert [e.body for e in bobs_journal.entries] == ["Bob's"]

    # Her seat went to Carol; counts on others' things moved once.
    rsvp = await ok(
        nc, R.SHARING_GET_GATHERING, {"actor": actor(carol), "gathering_id": made.gathering}
    )
    assert rsvp["my_rsvp"]["status"] == "going"
    assert rsvp["waitlist_count"] == 0
    team = await ok(nc, R.SHARING_GET_TEAM, {"actor": b, "team_id": made.team})
    assert [m["user_id"] for m in team["members"]] == [bob]
    communities = await ok(nc, R.SHARING_LIST_COMMUNITIES, {"actor": b})
    assert [c["member_count"] for c in communities["items"] if c["id"] == made.community] == [1]
    experiment = await ok(
        nc, R.SHARING_GET_EXPERIMENT, {"actor": b, "experiment_id": made.experiment}
    )
    assert experiment["owner"]["display_name"] == "Erased person"

    # The same request delivered again: nothing changes, no second confirmation.
    [request] = await stream_events(
        nc, EventSubject.PERSON_ERASURE_REQUESTED, lambda d: d.erasure_id == erasure_id
    )
    ack = await nc.jetstream().publish(
        request.nats_subject(),
        serialize_event(request),
        headers={"Nats-Msg-Id": f"again-{uuid4()}"},
        stream=EVENTS_STREAM,
    )
    await consumers_past(nc, system, ack.seq)
    confirmations = await stream_events(
        nc, "flow.*.person.erased.v1", lambda d: d.erasure_id == erasure_id
    )
    assert sorted(e.data.service for e in confirmations) == ["journal", "nudges", "sharing"]
    again = await ok(nc, R.SHARING_GET_POST, {"actor": b, "post_id": made.alice_post})
    assert again["comment_count"] == 1
    assert again["reactions"] == {"thanks": 1}
    question = await ok(nc, R.SHARING_GET_QUESTION, {"actor": b, "question_id": made.bob_question})
    assert question["score"] == 0
    assert question["answers"][0]["score"] == 1


async def test_erasure_deletes_what_they_wrote_when_asked(system: System, nc: Client) -> None:
    alice, bob, carol = (f"{n}-{uuid4().hex[:8]}" for n in ("alice", "bob", "carol"))
    made = await populate(nc, alice, bob, carol)
    await events_arrived(nc, alice, bob)
    await erase(nc, alice, "delete")

    assert_empty(await everything_of(nc, alice))
    assert await mentions(system, alice) == []
    b = actor(bob)
    for post_id in (made.alice_post, made.alice_lesson):
        reply = await call(nc, R.SHARING_GET_POST, {"actor": b, "post_id": post_id})
        assert reply["problem"]["status"] == 404
    # Bob's comment and reaction on her post went with it, not left behind in the store.
    her_posts = {"post_id": {"$in": [made.alice_post, made.alice_lesson]}}
    for db in system.databases():
        for name in ("comments", "post_reactions"):
            assert await db[name].count_documents(her_posts) == 0, f"{db.name}.{name}"
    gone = await call(nc, R.SHARING_GET_QUESTION, {"actor": b, "question_id": made.alice_question})
    assert gone["problem"]["status"] == 404  # with Bob's answer on it
    question = await ok(nc, R.SHARING_GET_QUESTION, {"actor": b, "question_id": made.bob_question})
    assert question["answers"] == []
    assert question["answer_count"] == 0
    experiment = await call(
        nc, R.SHARING_GET_EXPERIMENT, {"actor": b, "experiment_id": made.experiment}
    )
    assert experiment["problem"]["status"] == 404
    received = await ok(nc, R.SHARING_LIST_KUDOS, {"actor": b, "query": {}})
    assert received["items"] == []  # the kudos she wrote are gone ...
    bobs_journal = (await export_of(nc, "journal", bob))[0]
    assert bobs_journal.portfolio_kudos == []  # ... from his portfolio too
    assert [a.asker_id for a in bobs_journal.portfolio_answers] == [ERASED_PERSON]
    given = await ok(nc, R.SHARING_LIST_KUDOS, {"actor": b, "query": {"box": "given"}})
    assert [k["recipient"]["user_id"] for k in given["items"]] == [ERASED_PERSON]
    on_bobs = await ok(nc, R.SHARING_GET_POST, {"actor": b, "post_id": made.bob_post})
    assert on_bobs["comment_count"] == 0
    assert on_bobs["reactions"] == {}


async def test_events_from_before_the_erasure_bring_nothing_back(
    system: System, nc: Client
) -> None:
    alice = f"alice-{uuid4().hex[:8]}"
    a = actor(alice)
    await ok(nc, R.SHARING_ME, {"actor": a})
    await ok(nc, R.JOURNAL_CREATE_ENTRY, {"actor": a, "entry": {"kind": "mistake", "body": "x"}})
    before = datetime.now(UTC)
    await erase(nc, alice, "anonymise")

    def profile(at: datetime) -> ProfileUpdated:
        facts = ProfileFacts(
            user_id=alice,
            display_name="Alice",
            timezone="Europe/Berlin",
            working_hours=WorkingHoursData(days=[1, 2, 3, 4, 5], start="09:00", end="17:00"),
        )
        return ProfileUpdated(source="test", subject=alice, time=at, data=facts)

    share_id = str(uuid4())
    late_share = JournalEntryShared(
        source="test",
        subject=alice,
        time=before,
        data=JournalEntrySharedData(
            share_id=share_id,
            entry_id="e1",
            owner_id=alice,
            entry_kind="mistake",
            excerpt="What I got wrong",
            audience="org",
        ),
    )
    js = nc.jetstream()
    shared = await js.publish(
        late_share.nats_subject(), serialize_event(late_share), stream=EVENTS_STREAM
    )
    old, new = profile(before), profile(datetime.now(UTC))
    for event in (old, new):  # the newer one is theirs again, and marks the older one done
        await js.publish(event.nats_subject(), serialize_event(event), stream=EVENTS_STREAM)

    async def fresh_profile_arrived() -> bool:
        journal = (await export_of(nc, "journal", alice))[0]
        nudges = (await export_of(nc, "nudges", alice))[0]
        return bool(journal.known_profile and nudges.person)

    await eventually(fresh_profile_arrived, "the profile written after the erasure")
    durable = f"sharing-shares-{system.unique}"
    await eventually(lambda: acked(js, durable, shared.seq), "the late share was handled")
    assert (await export_of(nc, "sharing", alice))[0].posts == []
    reply = await call(nc, R.SHARING_GET_POST, {"actor": actor("bob"), "post_id": share_id})
    assert reply["problem"]["status"] == 404


async def test_erasure_progress_is_for_the_person_who_asked_only(
    system: System, nc: Client
) -> None:
    alice, bob = f"alice-{uuid4().hex[:8]}", f"bob-{uuid4().hex[:8]}"
    await ok(nc, R.SHARING_ME, {"actor": actor(alice)})
    await system.nudges.stop()  # one service is away: the erasure waits for it
    try:
        first = await ok(nc, R.SHARING_ERASE_PERSON, {"actor": actor(alice), "posts": "delete"})
        again = await ok(nc, R.SHARING_ERASE_PERSON, {"actor": actor(alice)})
        assert again["erasure_id"] == first["erasure_id"]
        ref = {"erasure_id": first["erasure_id"]}

        async def others_done() -> dict[str, Any] | None:
            status = await ok(nc, R.SHARING_ERASURE_STATUS, {"actor": actor(alice), **ref})
            services = status["services"]
            both = services["journal"]["status"] == services["sharing"]["status"] == "erased"
            return status if both else None

        status = await eventually(others_done, "journal and sharing confirmed")
        assert status["status"] == "pending"
        assert status["posts"] == "delete"
        assert status["services"]["nudges"] == {"status": "pending", "erased_at": None}
        for stranger in (actor(bob), actor(bob, "admin")):
            reply = await call(nc, R.SHARING_ERASURE_STATUS, {"actor": stranger, **ref})
            assert reply["problem"]["status"] == 404
    finally:
        system.nudges = bootstrap_nudges(system.nudges.settings)
        await system.nudges.start()

    async def complete() -> bool:
        status = await ok(nc, R.SHARING_ERASURE_STATUS, {"actor": actor(alice), **ref})
        return bool(status["status"] == "erased")

    await eventually(complete, "the nudges service caught up and confirmed")
