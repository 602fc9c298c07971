"""A client retrying a journal write after a lost reply (a timeout, a dropped connection)
sends the same Idempotency-Key and gets the entry its first attempt stored, not a second."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from flowlearn_cli.tokens import make_token

pytestmark = pytest.mark.e2e

ENTRY = {"kind": "learned", "body": "Retries need idempotency keys.", "tags": ["api"]}


def headers(user: str, key: str | None = None) -> dict[str, str]:
    sent = {"Authorization": f"Bearer {make_token(user, 'member')}"}
    return sent | ({"Idempotency-Key": key} if key else {})


def bodies(api: httpx.Client, user: str) -> list[str]:
    listed = api.get("/v1/journal/entries", headers=headers(user))
    assert listed.status_code == 200, listed.text
    return [item["body"] for item in listed.json()["items"]]


def test_a_retried_create_returns_the_first_entry(api: httpx.Client) -> None:
    ana, key = f"idem-ana-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    first = api.post("/v1/journal/entries", json=ENTRY, headers=headers(ana, key))
    assert first.status_code == 201, first.text
    again = api.post("/v1/journal/entries", json=ENTRY, headers=headers(ana, key))
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert bodies(api, ana) == [ENTRY["body"]]

    # Without a key, or with a new one, the same entry is written again: that is asked for.
    fresh = api.post("/v1/journal/entries", json=ENTRY, headers=headers(ana, uuid.uuid4().hex))
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]
    assert len(bodies(api, ana)) == 2


def test_the_same_key_with_another_entry_is_refused(api: httpx.Client) -> None:
    ana, key = f"idem-ana-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    assert api.post("/v1/journal/entries", json=ENTRY, headers=headers(ana, key)).status_code == 201
    other = ENTRY | {"body": "Something else entirely."}
    refused = api.post("/v1/journal/entries", json=other, headers=headers(ana, key))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in refused.json()["detail"]
    assert bodies(api, ana) == [ENTRY["body"]]


def test_keys_belong_to_their_user(api: httpx.Client) -> None:
    """Another person using the same key gets their own entry, never the first one's."""
    ana, bo = (f"idem-{name}-{uuid.uuid4().hex[:8]}" for name in ("ana", "bo"))
    key = uuid.uuid4().hex
    mine = api.post("/v1/journal/entries", json=ENTRY, headers=headers(ana, key))
    theirs = api.post("/v1/journal/entries", json=ENTRY, headers=headers(bo, key))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    peek = api.get(mine.headers["location"], headers=headers(bo))
    assert peek.status_code == 404


def test_concurrent_retries_store_one_entry(api: httpx.Client) -> None:
    ana, key = f"idem-ana-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex

    def send(_: int) -> httpx.Response:
        return api.post("/v1/journal/entries", json=ENTRY, headers=headers(ana, key))

    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(send, range(6)))
    assert {reply.status_code for reply in replies} == {201}, [r.text for r in replies]
    assert len({reply.json()["id"] for reply in replies}) == 1
    assert bodies(api, ana) == [ENTRY["body"]]


@pytest.mark.parametrize("key", ["has space", "x" * 256, "tab\tinside"])
def test_a_malformed_key_is_a_clear_error(api: httpx.Client, key: str) -> None:
    ana = f"idem-ana-{uuid.uuid4().hex[:8]}"
    sent: dict[str, Any] = headers(ana, key)
    refused = api.post("/v1/journal/entries", json=ENTRY, headers=sent)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert bodies(api, ana) == []


POST = {"kind": "tip", "body": "Write the rollback plan before the rollout.", "audience": "org"}


def test_a_retried_post_is_shared_once(api: httpx.Client) -> None:
    ana, key = f"idem-ana-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    first = api.post("/v1/posts", json=POST, headers=headers(ana, key))
    assert first.status_code == 201, first.text
    again = api.post("/v1/posts", json=POST, headers=headers(ana, key))
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]

    other = POST | {"body": "Another tip altogether."}
    refused = api.post("/v1/posts", json=other, headers=headers(ana, key))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")

    # A colleague with the same key shares a post of their own.
    bo = f"idem-bo-{uuid.uuid4().hex[:8]}"
    theirs = api.post("/v1/posts", json=POST, headers=headers(bo, key))
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != first.json()["id"]

    mine = api.get("/v1/feed", params={"limit": 50}, headers=headers(ana)).json()["items"]
    assert [p["id"] for p in mine].count(first.json()["id"]) == 1
    assert not any(p["body"] == other["body"] for p in mine)
