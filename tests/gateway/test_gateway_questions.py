"""Q&A and search routes: what the gateway sends over NATS, the status codes, and the
problem+json the client gets back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from flowlearn_shared.subjects import RpcSubject

if TYPE_CHECKING:  # test modules are not a package; only for annotations
    from conftest import FakeServices

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
PROBLEM = "application/problem+json"


def person(user: str) -> dict[str, str]:
    return {"user_id": user, "display_name": user.title()}


def question(question_id: str = "q1", **fields: Any) -> dict[str, Any]:
    return {
        "id": question_id,
        "title": "How do I roll back?",
        "body": "Canary went wrong",
        "tags": ["deploys"],
        "audience": "org",
        "asker": person("alice"),
        "is_mine": True,
        "answer_count": 0,
        "accepted_answer_id": None,
        "score": 0,
        "my_vote": 0,
        "suggested_experts": [person("bob")],
        "created_at": "2026-03-04T10:00:00Z",
        "updated_at": "2026-03-04T10:00:00Z",
        **fields,
    }


def answer(answer_id: str = "a1", **fields: Any) -> dict[str, Any]:
    return {
        "id": answer_id,
        "question_id": "q1",
        "author": person("bob"),
        "body": "Flip the flag",
        "score": 0,
        "my_vote": 0,
        "accepted": False,
        "is_mine": False,
        "created_at": "2026-03-04T10:05:00Z",
        **fields,
    }


def detail(**fields: Any) -> dict[str, Any]:
    return {**question(**fields), "answers": [answer(accepted=True)]}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_ask_is_201_with_location_and_defaults_to_the_org(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_ASK_QUESTION, services.ok(question("q/1")))
    response = await gateway.post(
        "/v1/questions",
        json={"title": " How do I roll back? ", "body": "Canary", "tags": ["Deploys", "deploys"]},
        headers=auth("alice"),
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/questions/q%2F1"
    assert response.json()["suggested_experts"] == [person("bob")]
    sent = services.last(RpcSubject.SHARING_ASK_QUESTION)
    assert sent["actor"]["user_id"] == "alice"
    assert sent["question"] == {
        "title": "How do I roll back?",
        "body": "Canary",
        "tags": ["deploys"],
        "audience": "org",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "no title"}, ["body", "title"]),
        ({"title": "   ", "body": "x"}, ["body", "title"]),
        ({"title": "t", "body": ""}, ["body", "body"]),
        ({"title": "t", "body": "x", "audience": "everyone"}, ["body", "audience"]),
        ({"title": "t", "body": "x", "anonymous": True}, ["body", "anonymous"]),
    ],
)
async def test_ask_rejects_a_bad_question_without_asking(
    gateway: httpx.AsyncClient,
    services: FakeServices,
    auth: Auth,
    body: dict[str, Any],
    field: list[str],
) -> None:
    await services.answer(RpcSubject.SHARING_ASK_QUESTION, services.ok(question()))
    problem = assert_problem(await gateway.post("/v1/questions", json=body, headers=auth()), 422)
    assert field in [e["loc"] for e in problem["errors"]]
    assert not services.requests[RpcSubject.SHARING_ASK_QUESTION]


async def test_ask_for_a_team_one_is_not_in_is_403(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        RpcSubject.SHARING_ASK_QUESTION,
        services.problem(403, "Forbidden", detail="you can only share with teams you belong to"),
    )
    response = await gateway.post(
        "/v1/questions",
        json={"title": "t", "body": "x", "audience": "team:t9"},
        headers=auth(),
    )
    assert assert_problem(response, 403)["detail"] == "you can only share with teams you belong to"


async def test_list_passes_filters_and_caps_the_limit(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    page = {"items": [question("q1"), question("q2")], "next_cursor": "c2"}
    await services.answer(RpcSubject.SHARING_LIST_QUESTIONS, services.ok(page))
    response = await gateway.get(
        "/v1/questions",
        params={"tag": "Ops", "unanswered": "true", "cursor": "c1", "limit": "500"},
        headers=auth("carol"),
    )
    assert response.status_code == 200, response.text
    assert [q["id"] for q in response.json()["items"]] == ["q1", "q2"]
    assert response.json()["next_cursor"] == "c2"
    assert services.last(RpcSubject.SHARING_LIST_QUESTIONS)["query"] == {
        "tag": "ops",
        "unanswered": True,
        "cursor": "c1",
        "limit": 100,
    }

    await gateway.get("/v1/questions", headers=auth("carol"))
    query = services.last(RpcSubject.SHARING_LIST_QUESTIONS)["query"]
    assert (query["limit"], query["unanswered"], query["tag"]) == (20, False, None)


@pytest.mark.parametrize("params", [{"limit": "0"}, {"unanswered": "maybe"}, {"tag": ""}])
async def test_list_rejects_a_bad_query(
    gateway: httpx.AsyncClient, auth: Auth, params: dict[str, str]
) -> None:
    assert_problem(await gateway.get("/v1/questions", params=params, headers=auth()), 422)


async def test_get_returns_answers_and_404_passes_through(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    def reply(body: dict[str, Any]) -> dict[str, Any]:
        if body["question_id"] == "q1":
            return services.ok(detail())
        return services.problem(404, "Not found", detail="no such question")

    await services.answer(RpcSubject.SHARING_GET_QUESTION, reply)
    response = await gateway.get("/v1/questions/q1", headers=auth("dana"))
    assert response.status_code == 200
    assert response.json()["answers"][0]["accepted"] is True
    assert services.last(RpcSubject.SHARING_GET_QUESTION)["actor"]["user_id"] == "dana"

    missing = await gateway.get("/v1/questions/other", headers=auth("dana"))
    assert assert_problem(missing, 404)["detail"] == "no such question"
    assert_problem(await gateway.get("/v1/questions/bad%20id", headers=auth()), 422)


async def test_answer_is_201(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.SHARING_ANSWER_QUESTION, services.ok(answer()))
    response = await gateway.post(
        "/v1/questions/q1/answers", json={"body": "Flip the flag"}, headers=auth("bob")
    )
    assert response.status_code == 201, response.text
    assert response.json()["id"] == "a1"
    sent = services.last(RpcSubject.SHARING_ANSWER_QUESTION)
    assert (sent["question_id"], sent["answer"]) == ("q1", {"body": "Flip the flag"})

    empty = await gateway.post("/v1/questions/q1/answers", json={"body": ""}, headers=auth())
    assert_problem(empty, 422)


async def test_accept_is_200_for_the_asker_and_403_for_others(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    def reply(body: dict[str, Any]) -> dict[str, Any]:
        if body["actor"]["user_id"] == "alice":
            return services.ok(detail(accepted_answer_id="a1"))
        return services.problem(403, "Forbidden", detail="only the person who asked can accept")

    await services.answer(RpcSubject.SHARING_ACCEPT_ANSWER, reply)
    accepted = await gateway.post("/v1/answers/a1/accept", headers=auth("alice"))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted_answer_id"] == "a1"
    assert services.last(RpcSubject.SHARING_ACCEPT_ANSWER)["answer_id"] == "a1"

    refused = await gateway.post("/v1/answers/a1/accept", headers=auth("bob"))
    assert assert_problem(refused, 403)["detail"] == "only the person who asked can accept"


@pytest.mark.parametrize(
    ("path", "subject"),
    [
        ("/v1/questions/q1/vote", RpcSubject.SHARING_VOTE_QUESTION),
        ("/v1/answers/a1/vote", RpcSubject.SHARING_VOTE_ANSWER),
    ],
)
async def test_vote(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth, path: str, subject: str
) -> None:
    def reply(body: dict[str, Any]) -> dict[str, Any]:
        if body["actor"]["user_id"] == "author":
            return services.problem(403, "Forbidden", detail="you cannot vote on what you wrote")
        target = "question" if "question" in subject else "answer"
        value = body["vote"]["value"]
        return services.ok(
            {"target": target, "id": body["target_id"], "score": value, "my_vote": value}
        )

    await services.answer(subject, reply)
    for value in (1, -1, 0):
        response = await gateway.put(path, json={"value": value}, headers=auth("voter"))
        assert response.status_code == 200, response.text
        assert response.json()["my_vote"] == value
    assert services.last(subject)["target_id"] == path.split("/")[3]
    assert_problem(await gateway.put(path, json={"value": 1}, headers=auth("author")), 403)

    asked = len(services.requests[subject])
    for bad in ({"value": 2}, {"value": "up"}, {}, {"value": 1, "extra": True}):
        problem = assert_problem(await gateway.put(path, json=bad, headers=auth("voter")), 422)
        assert problem["errors"]
    assert len(services.requests[subject]) == asked


async def test_search_passes_the_words_and_checks_their_length(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    hits = {
        "items": [
            {
                "type": "question",
                "id": "q1",
                "title": "Canary?",
                "snippet": "…canary…",
                "created_at": "2026-03-04T10:00:00Z",
            }
        ]
    }
    await services.answer(RpcSubject.SHARING_SEARCH, services.ok(hits))
    response = await gateway.get(
        "/v1/search", params={"q": "  canary deploy ", "limit": "999"}, headers=auth("erin")
    )
    assert response.status_code == 200, response.text
    assert response.json() == hits
    sent = services.last(RpcSubject.SHARING_SEARCH)
    assert sent["query"] == {"q": "canary deploy", "limit": 50}
    assert sent["actor"]["user_id"] == "erin"

    asked = len(services.requests[RpcSubject.SHARING_SEARCH])
    for params in ({"q": "a"}, {"q": "  a  "}, {"q": "x" * 201}, {}):
        problem = assert_problem(
            await gateway.get("/v1/search", params=params, headers=auth()), 422
        )
        assert ["query", "q"] in [e["loc"] for e in problem["errors"]]
    assert len(services.requests[RpcSubject.SHARING_SEARCH]) == asked
    assert (await gateway.get("/v1/search", params={"q": "x" * 200}, headers=auth())).is_success


async def test_needs_a_token_and_a_sharing_service(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    assert_problem(await gateway.get("/v1/questions"), 401)
    assert_problem(await gateway.get("/v1/search", params={"q": "hi"}), 401)
    unavailable = await gateway.get("/v1/questions/q1", headers=auth())
    assert_problem(unavailable, 503)
    assert "retry-after" in unavailable.headers


async def test_openapi_documents_questions_and_search(gateway: httpx.AsyncClient) -> None:
    spec = (await gateway.get("/openapi.json")).json()
    paths = spec["paths"]
    ask = paths["/v1/questions"]["post"]
    assert ask["tags"] == ["questions"]
    assert "Location" in ask["responses"]["201"]["headers"]
    assert {"403", "422"} <= set(ask["responses"])
    assert set(paths["/v1/questions/{question_id}/vote"]) == {"put"}
    assert "403" in paths["/v1/answers/{answer_id}/accept"]["post"]["responses"]
    assert paths["/v1/search"]["get"]["tags"] == ["search"]
