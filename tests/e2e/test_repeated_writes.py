"""Writes that may arrive twice: the same reaction again, several first requests of a new
person at once. Each has one effect and a quick answer (a write that hits a unique index
inside a transaction must not leave the request waiting on a doomed commit)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from flowlearn_cli.tokens import make_token

pytestmark = pytest.mark.e2e


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, 'member')}"}


def test_reacting_twice_is_one_reaction(api: httpx.Client) -> None:
    ana, bo = (f"react-{name}-{uuid.uuid4().hex[:8]}" for name in ("ana", "bo"))
    post = api.post(
        "/v1/posts", json={"kind": "tip", "body": "x", "audience": "org"}, headers=auth(ana)
    )
    assert post.status_code == 201, post.text
    path = f"/v1/posts/{post.json()['id']}/reactions/insightful"
    for _ in range(2):
        started = time.monotonic()
        reacted = api.put(path, headers=auth(bo))
        assert reacted.status_code == 200, reacted.text
        assert time.monotonic() - started < 2.0
    assert reacted.json()["reactions"]["insightful"] == 1


def test_first_requests_of_a_new_person_at_once(api: httpx.Client) -> None:
    newcomer = f"new-{uuid.uuid4().hex[:8]}"

    def me(_: int) -> httpx.Response:
        return api.get("/v1/me", headers=auth(newcomer))

    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(me, range(6)))
    assert [r.status_code for r in replies] == [200] * 6, [r.text for r in replies]
    assert {r.json()["user_id"] for r in replies} == {newcomer}
