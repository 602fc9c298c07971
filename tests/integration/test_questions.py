"""Q&A and search in the sharing service, over real NATS and a MongoDB-protocol server:
asking, answering, accepting, voting, expert suggestions, visibility and search."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flowlearn_shared.events import AnswerAccepted, QuestionAsked, parse_event
from flowlearn_shared.subjects import EVENTS_STREAM, EventSubject, RpcSubject
from flowlearn_sharing.bootstrap import Sharing
from nats.aio.client import Client
from nats.js.api import DeliverPolicy

pytestmark = pytest.mark.integration


def actor(user: str, *roles: str) -> dict[str, Any]:
    return {"user_id": user, "roles": list(roles) or ["member"], "timezone": "UTC", "name": None}


async def call(nc: Client, subject: str, body: dict[str, Any]) -> dict[str, Any]:
    msg = await nc.request(subject, json.dumps(body).encode(), timeout=10)
    reply: dict[str, Any] = json.loads(msg.data)
    return reply


async def ok(nc: Client, subject: str, body: dict[str, Any]) -> Any:
    reply = await call(nc, subject, body)
    assert reply["problem"] is None, reply["problem"]
    return reply["result"]


async def status(nc: Client, subject: str, body: dict[str, Any]) -> int:
    reply = await call(nc, subject, body)
    return 200 if reply["problem"] is None else int(reply["problem"]["status"])


async def ask(nc: Client, user: str, title: str, tags: list[str], **more: Any) -> Any:
    question = {"title": title, "body": more.pop("body", f"{title}?"), "tags": tags, **more}
    return await ok(
        nc, RpcSubject.SHARING_ASK_QUESTION, {"actor": actor(user), "question": question}
    )


async def answer(nc: Client, user: str, question_id: str, body: str = "Try this") -> Any:
    return await ok(
        nc,
        RpcSubject.SHARING_ANSWER_QUESTION,
        {"actor": actor(user), "question_id": question_id, "answer": {"body": body}},
    )


async def accept(nc: Client, user: str, answer_id: str) -> dict[str, Any]:
    return await call(
        nc, RpcSubject.SHARING_ACCEPT_ANSWER, {"actor": actor(user), "answer_id": answer_id}
    )


async def post(nc: Client, user: str, tags: list[str], **fields: Any) -> Any:
    body = {"kind": "tip", "body": "A tip", "audience": "org", "tags": tags, **fields}
    return await ok(nc, RpcSubject.SHARING_CREATE_POST, {"actor": actor(user), "post": body})


async def get(nc: Client, user: str, question_id: str, *roles: str) -> dict[str, Any]:
    return await call(
        nc,
        RpcSubject.SHARING_GET_QUESTION,
        {"actor": actor(user, *roles), "question_id": question_id},
    )


async def vote(nc: Client, user: str, target: str, target_id: str, value: int) -> dict[str, Any]:
    subject = (
        RpcSubject.SHARING_VOTE_QUESTION if target == "question" else RpcSubject.SHARING_VOTE_ANSWER
    )
    return await call(
        nc,
        subject,
        {"actor": actor(user), "target_id": target_id, "vote": {"value": value}},
    )


async def search(nc: Client, user: str, q: str, *roles: str) -> list[dict[str, Any]]:
    results = await ok(
        nc, RpcSubject.SHARING_SEARCH, {"actor": actor(user, *roles), "query": {"q": q}}
    )
    items: list[dict[str, Any]] = results["items"]
    return items


async def listed(nc: Client, user: str, *roles: str, **query: Any) -> dict[str, Any]:
    page: dict[str, Any] = await ok(
        nc,
        RpcSubject.SHARING_LIST_QUESTIONS,
        {"actor": actor(user, *roles), "query": query},
    )
    return page


async def make_team(nc: Client, lead: str, *members: str) -> str:
    team = await ok(
        nc,
        RpcSubject.SHARING_CREATE_TEAM,
        {"actor": actor(lead, "manager"), "team": {"name": "Team"}},
    )
    for member in members:
        await ok(
            nc,
            RpcSubject.SHARING_ADD_TEAM_MEMBER,
            {"actor": actor(lead, "manager"), "team_id": team["id"], "member": {"user_id": member}},
        )
    return str(team["id"])


async def next_event(sub: Any, matches: Any, within: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, "the event never arrived"
        msg = await sub.next_msg(timeout=remaining)
        event = parse_event(msg.data)
        if matches(event):
            return event, msg


async def test_ask_answer_accept(sharing: Sharing, nc: Client, unique: str) -> None:
    asker, bob, carol = (f"{n}-{unique}" for n in ("asker", "bob", "carol"))
    js = nc.jetstream()
    accepted_events = await js.subscribe(
        EventSubject.ANSWER_ACCEPTED,
        stream=EVENTS_STREAM,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    question = await ask(nc, asker, "How do I roll back a canary?", ["Deploys", "deploys"])
    assert question["tags"] == ["deploys"]
    assert question["audience"] == "org"
    assert question["asker"]["user_id"] == asker
    assert question["answer_count"] == 0
    assert question["is_mine"] is True

    by_bob = await answer(nc, bob, question["id"], "Flip the flag back")
    by_carol = await answer(nc, carol, question["id"], "Redeploy the previous image")
    assert by_bob["author"]["user_id"] == bob
    assert by_bob["accepted"] is False

    assert (await accept(nc, bob, by_bob["id"]))["problem"]["status"] == 403
    first = await accept(nc, asker, by_bob["id"])
    assert first["problem"] is None
    detail = first["result"]
    assert detail["accepted_answer_id"] == by_bob["id"]
    assert [(a["id"], a["accepted"]) for a in detail["answers"]] == [
        (by_bob["id"], True),
        (by_carol["id"], False),
    ]
    event, _ = await next_event(accepted_events, lambda e: e.data.question_id == question["id"])
    assert isinstance(event, AnswerAccepted)
    assert event.data.answerer_id == bob
    assert event.data.asker_id == asker
    assert event.data.tags == ["deploys"]

    # Accepting the same answer again changes nothing and raises no second event;
    # accepting another one replaces it.
    assert (await accept(nc, asker, by_bob["id"]))["problem"] is None
    replaced = (await accept(nc, asker, by_carol["id"]))["result"]
    assert replaced["accepted_answer_id"] == by_carol["id"]
    assert [(a["id"], a["accepted"]) for a in replaced["answers"]] == [
        (by_carol["id"], True),
        (by_bob["id"], False),
    ]
    event, _ = await next_event(accepted_events, lambda e: e.data.question_id == question["id"])
    assert event.data.answer_id == by_carol["id"], "a second event for the same acceptance"
    await accepted_events.unsubscribe()

    seen = (await get(nc, bob, question["id"]))["result"]
    assert seen["answer_count"] == 2
    assert seen["is_mine"] is False
    assert seen["suggested_experts"] == []
    missing = await accept(nc, asker, "no-such-answer")
    assert missing["problem"]["status"] == 404


async def test_list_filters_and_cursor(sharing: Sharing, nc: Client, unique: str) -> None:
    user, helper = f"u-{unique}", f"h-{unique}"
    tag = f"t{unique}"
    ids = []
    for i in range(5):
        ids.append((await ask(nc, user, f"Question {i}", [tag]))["id"])
        await asyncio.sleep(0.002)  # distinct creation times keep the expected order exact
    await answer(nc, helper, ids[1])
    first = await listed(nc, helper, tag=tag, limit=3)
    assert [q["id"] for q in first["items"]] == ids[::-1][:3]
    second = await listed(nc, helper, tag=tag, limit=3, cursor=first["next_cursor"])
    assert [q["id"] for q in second["items"]] == ids[::-1][3:]
    assert second["next_cursor"] is None
    unanswered = await listed(nc, helper, tag=tag.upper(), unanswered=True)
    assert [q["id"] for q in unanswered["items"]] == [ids[4], ids[3], ids[2], ids[0]]
    bad = await call(
        nc,
        RpcSubject.SHARING_LIST_QUESTIONS,
        {"actor": actor(user), "query": {"cursor": "not-a-cursor"}},
    )
    assert bad["problem"]["status"] == 400


async def test_votes_one_per_person_never_on_your_own(
    sharing: Sharing, nc: Client, unique: str
) -> None:
    asker, bob, carol = (f"{n}-{unique}" for n in ("asker", "bob", "carol"))
    question = await ask(nc, asker, "Which queue?", ["nats"])
    qid = question["id"]
    assert (await vote(nc, asker, "question", qid, 1))["problem"]["status"] == 403

    assert (await vote(nc, bob, "question", qid, 1))["result"] == {
        "target": "question",
        "id": qid,
        "score": 1,
        "my_vote": 1,
    }
    assert (await vote(nc, bob, "question", qid, 1))["result"]["score"] == 1
    assert (await vote(nc, bob, "question", qid, -1))["result"]["score"] == -1
    assert (await vote(nc, carol, "question", qid, -1))["result"]["score"] == -2
    assert (await vote(nc, bob, "question", qid, 0))["result"]["score"] == -1
    seen = (await get(nc, carol, qid))["result"]
    assert (seen["score"], seen["my_vote"]) == (-1, -1)
    assert (await get(nc, bob, qid))["result"]["my_vote"] == 0

    reply = await answer(nc, bob, qid)
    assert (await vote(nc, bob, "answer", reply["id"], 1))["problem"]["status"] == 403
    assert (await vote(nc, asker, "answer", reply["id"], 1))["result"]["score"] == 1
    assert (await vote(nc, carol, "answer", reply["id"], 1))["result"]["score"] == 2
    assert (await vote(nc, asker, "answer", reply["id"], 1))["result"]["score"] == 2
    shown = (await get(nc, asker, qid))["result"]["answers"][0]
    assert (shown["score"], shown["my_vote"]) == (2, 1)
    assert (await vote(nc, carol, "answer", reply["id"], 2))["problem"]["status"] == 422
    assert (await vote(nc, carol, "answer", "nope", 1))["problem"]["status"] == 404


async def test_concurrent_votes_count_once_per_person(
    sharing: Sharing, nc: Client, unique: str
) -> None:
    asker, bob = f"asker-{unique}", f"bob-{unique}"
    qid = (await ask(nc, asker, "Race?", []))["id"]
    same_person = await asyncio.gather(*(vote(nc, bob, "question", qid, 1) for _ in range(5)))
    assert all(r["problem"] is None for r in same_person), same_person
    others = await asyncio.gather(
        *(vote(nc, f"v{i}-{unique}", "question", qid, 1) for i in range(5))
    )
    assert all(r["problem"] is None for r in others), others
    assert (await get(nc, asker, qid))["result"]["score"] == 6


async def test_experts_ranked_by_accepted_answers_and_posts(
    sharing: Sharing, nc: Client, unique: str
) -> None:
    people = {
        n: f"{n}-{unique}"
        for n in ["asker", "setup", "a", "b", "c", "d", "e", "f", "g", "h", "lead"]
    }
    tag = f"k8s{unique}"
    js = nc.jetstream()
    asked_events = await js.subscribe(
        EventSubject.QUESTION_ASKED,
        stream=EVENTS_STREAM,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    # a: 2 accepted answers + 1 post = 3; c: 2 posts; b: 1 accepted answer; f: 1 post
    # (loses the tie to b, whose help was confirmed); g: answers nobody accepted;
    # d: anonymous lessons only; e: posts on another tag; h: a team the asker is not in.
    for who, accepted_count in (("a", 2), ("b", 1), ("g", 0)):
        for _ in range(max(accepted_count, 2)):
            question = await ask(nc, people["setup"], "Setup question", [tag])
            reply = await answer(nc, people[who], question["id"])
            if accepted_count:
                accepted_count -= 1
                assert (await accept(nc, people["setup"], reply["id"]))["problem"] is None
    await post(nc, people["a"], [tag])
    await post(nc, people["c"], [tag, "helm"])
    await post(nc, people["c"], ["helm"])
    await post(nc, people["f"], [tag])
    for _ in range(4):
        await post(nc, people["d"], [tag], kind="lesson", anonymous=True)
        await post(nc, people["e"], ["cooking"])
        await post(nc, people["asker"], [tag])
    team = await make_team(nc, people["lead"], people["h"])
    for _ in range(4):
        await post(nc, people["h"], [tag], audience=f"team:{team}")

    question = await ask(nc, people["asker"], "Pods keep restarting", [tag, "helm"])
    expected = [people["a"], people["c"], people["b"]]
    assert [p["user_id"] for p in question["suggested_experts"]] == expected
    event, msg = await next_event(asked_events, lambda e: e.data.question_id == question["id"])
    assert isinstance(event, QuestionAsked)
    assert event.subject == people["asker"]
    assert event.data.suggested_experts == expected
    assert event.data.tags == [tag, "helm"]
    assert event.data.audience == "org"
    assert b"Pods keep restarting" not in msg.data
    assert people["d"] not in msg.data.decode()
    # Only the asker is shown whom the question was sent to.
    assert (await get(nc, people["b"], question["id"]))["result"]["suggested_experts"] == []

    # A team question goes only to people who may read it.
    team_c = await make_team(nc, people["lead"], people["asker"], people["c"])
    for_team = await ask(nc, people["asker"], "Team only", [tag], audience=f"team:{team_c}")
    assert [p["user_id"] for p in for_team["suggested_experts"]] == [people["c"]]
    nobody = await ask(nc, people["asker"], "Sourdough?", [f"bread{unique}"])
    assert nobody["suggested_experts"] == []
    await asked_events.unsubscribe()


async def test_team_question_is_invisible_outside_the_team(
    sharing: Sharing, nc: Client, unique: str
) -> None:
    lead, mate, outsider, admin = (f"{n}-{unique}" for n in ("lead", "mate", "out", "admin"))
    team = await make_team(nc, lead, mate)
    word = f"zebra{unique}"
    question = await ask(
        nc, mate, f"Secret {word}", ["internal"], audience=f"team:{team}", body="Team matter"
    )
    reply = await answer(nc, lead, question["id"])
    assert (await get(nc, lead, question["id"]))["problem"] is None
    for user, roles in ((outsider, ()), (admin, ("admin",))):
        assert (await get(nc, user, question["id"], *roles))["problem"]["status"] == 404
        page = await listed(nc, user, *roles, tag="internal")
        assert question["id"] not in [q["id"] for q in page["items"]]
        assert await search(nc, user, word, *roles) == []
        body = {"actor": actor(user, *roles), "question_id": question["id"]}
        answering = {**body, "answer": {"body": "let me in"}}
        assert await status(nc, RpcSubject.SHARING_ANSWER_QUESTION, answering) == 404
        assert (await vote(nc, user, "question", question["id"], 1))["problem"]["status"] == 404
        assert (await vote(nc, user, "answer", reply["id"], 1))["problem"]["status"] == 404
    assert [hit["id"] for hit in await search(nc, lead, word)] == [question["id"]]
    outside = await call(
        nc,
        RpcSubject.SHARING_ASK_QUESTION,
        {
            "actor": actor(outsider),
            "question": {"title": "x", "body": "y", "audience": f"team:{team}"},
        },
    )
    assert outside["problem"]["status"] == 403


async def test_search_finds_only_what_the_caller_may_see(
    sharing: Sharing, nc: Client, unique: str
) -> None:
    author, lead, mate, reader = (f"{n}-{unique}" for n in ("author", "lead", "mate", "reader"))
    team = await make_team(nc, lead, mate)
    word = f"canary{unique}"
    org_post = await post(nc, author, ["ops"], title=f"{word.upper()} deploys", body="Staging")
    team_post = await post(nc, mate, [], body=f"Our {word} rollout", audience=f"team:{team}")
    lesson = await post(
        nc, author, [], kind="lesson", anonymous=True, body=f"I broke the {word} (c++) build"
    )
    tagged = await post(nc, mate, [word], body="Tagged only")
    question = await ask(nc, reader, f"Why did {word} fail?", ["ops"])
    db = sharing.mongo[sharing.settings.database]
    now = datetime.now(UTC)
    await db["collections"].insert_many(
        [
            {
                "_id": f"col-org-{unique}",
                "title": "Release reading",
                "description": f"Everything about {word} releases",
                "tags": [],
                "audience": {"kind": "org", "ids": []},
                "author_id": lead,  # the curator, as the curation service stores it
                "created_at": now,
            },
            {
                "_id": f"col-team-{unique}",
                "title": f"{word} internals",
                "description": "Team only",
                "tags": [],
                "audience": {"kind": "team", "ids": [team]},
                "author_id": lead,  # the curator, as the curation service stores it
                "created_at": now,
            },
        ]
    )

    seen = await search(nc, reader, word)
    assert [(hit["type"], hit["id"]) for hit in seen] == [
        ("collection", f"col-org-{unique}"),
        ("question", question["id"]),
        ("post", tagged["id"]),
        ("post", lesson["id"]),
        ("post", org_post["id"]),
    ]
    assert author not in json.dumps(seen)
    by_id = {hit["id"]: hit for hit in seen}
    assert by_id[org_post["id"]]["title"] == f"{word.upper()} deploys"
    assert word in by_id[lesson["id"]]["snippet"]
    assert by_id[f"col-org-{unique}"]["title"] == "Release reading"

    in_team = {hit["id"] for hit in await search(nc, mate, word)}
    assert {team_post["id"], f"col-team-{unique}"} <= in_team
    # Words are matched anywhere, in any order, and are never read as a pattern.
    assert [hit["id"] for hit in await search(nc, reader, f"build {word}")] == [lesson["id"]]
    assert [hit["id"] for hit in await search(nc, reader, f"{word} (c++)")] == [lesson["id"]]
    assert await search(nc, reader, f"{word} .*") == []
    short = await call(
        nc, RpcSubject.SHARING_SEARCH, {"actor": actor(reader), "query": {"q": " a "}}
    )
    assert short["problem"]["status"] == 422
