"""``/v1/me/export``, ``DELETE /v1/me`` and ``/v1/me/erasure/{id}`` at the gateway: the export
is glued from every service's parts and offered as a file, or refused whole (503) when a
part is missing; erasure requests go to the sharing service; none of these makes a profile."""

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
R = RpcSubject
ENTRY: dict[str, Any] = {
    "id": "e1",
    "kind": "learned",
    "title": None,
    "body": "Canary deploys catch what staging misses",
    "tags": [],
    "skills": [],
    "occurred_on": "2026-03-04",
    "minutes": None,
    "nudge_id": None,
    "evidence": None,
    "version": 1,
    "created_at": "2026-03-04T10:00:00Z",
    "updated_at": "2026-03-04T10:00:00Z",
}
POST: dict[str, Any] = {
    "id": "p1",
    "kind": "lesson",
    "title": None,
    "body": "What the outage taught me",
    "tags": [],
    "url": None,
    "audience": "org",
    "anonymous": True,
    "review_by": None,
    "reactions": {},
    "comment_count": 0,
    "source_entry_id": None,
    "created_at": "2026-03-04T10:00:00Z",
    "updated_at": "2026-03-04T10:00:00Z",
}


def part(service: str, sections: dict[str, Any], next_cursor: str | None = None) -> Any:
    result = {"service": service, "sections": sections, "next_cursor": next_cursor}
    return {"result": result, "problem": None}


async def answer_all(services: FakeServices, *, nudges: bool = True) -> None:
    """The journal answers in two parts, sharing and nudges in one each."""

    def journal(body: dict[str, Any]) -> Any:
        if body["cursor"] is None:
            return part("journal", {"entries": [ENTRY]}, next_cursor="0.1")
        return part("journal", {"entries": [{**ENTRY, "id": "e2"}], "portfolio_kudos": []})

    await services.answer(R.JOURNAL_EXPORT_PERSONAL_DATA, journal)
    await services.answer(R.SHARING_EXPORT_PERSONAL_DATA, part("sharing", {"posts": [POST]}))
    if nudges:
        await services.answer(R.NUDGES_EXPORT_PERSONAL_DATA, part("nudges", {"nudges": []}))


async def test_export_glues_every_services_parts_into_one_file(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await answer_all(services)
    response = await gateway.get("/v1/me/export", headers=auth("alice", name="Alice"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="flowlearn-export.json"'
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    assert body["user_id"] == "alice"
    assert body["exported_at"]
    assert body["services"] == {
        "journal": {"status": "answered", "parts": 2},
        "sharing": {"status": "answered", "parts": 1},
        "nudges": {"status": "answered", "parts": 1},
    }
    assert [e["id"] for e in body["journal"]["entries"]] == ["e1", "e2"]
    assert body["journal"]["portfolio_kudos"] == []
    assert body["journal"]["known_profile"] is None
    [post] = body["sharing"]["posts"]
    assert post["anonymous"] is True
    assert body["sharing"]["profile"] is None
    assert body["nudges"]["preferences"] is None
    # The second part was asked for with the first one's cursor, for the caller only.
    first, second = services.requests[R.JOURNAL_EXPORT_PERSONAL_DATA]
    assert (first["cursor"], second["cursor"]) == (None, "0.1")
    assert first["actor"]["user_id"] == second["actor"]["user_id"] == "alice"
    # Exporting makes no profile: the sharing service was never asked for one.
    assert services.requests[R.SHARING_ME] == []


@pytest.mark.parametrize("silent", [True, False], ids=["timeout", "no-responders"])
async def test_export_is_refused_whole_when_a_service_does_not_answer(
    make_gateway: Any, services: FakeServices, auth: Auth, silent: bool
) -> None:
    await answer_all(services, nudges=False)
    if silent:
        await services.answer(R.NUDGES_EXPORT_PERSONAL_DATA, lambda _: None)
    async with make_gateway(request_timeout_seconds=0.5, retry_after_seconds=7) as gateway:
        response = await gateway.get("/v1/me/export", headers=auth("alice"))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "7"
    assert "content-disposition" not in response.headers
    problem = response.json()
    assert problem["missing"] == ["nudges"]
    assert "nudges" in problem["detail"]
    assert "entries" not in response.text  # nothing of the parts that did answer


async def test_export_is_refused_when_a_later_part_does_not_come(
    make_gateway: Any, services: FakeServices, auth: Auth
) -> None:
    def journal(body: dict[str, Any]) -> Any:
        return part("journal", {"entries": [ENTRY]}, "0.1") if body["cursor"] is None else None

    await services.answer(R.JOURNAL_EXPORT_PERSONAL_DATA, journal)
    await services.answer(R.SHARING_EXPORT_PERSONAL_DATA, part("sharing", {}))
    await services.answer(R.NUDGES_EXPORT_PERSONAL_DATA, part("nudges", {}))
    async with make_gateway(request_timeout_seconds=0.5) as gateway:
        response = await gateway.get("/v1/me/export", headers=auth("alice"))
    assert response.status_code == 503
    assert response.json()["missing"] == ["journal"]


async def test_export_with_an_unexpected_part_is_a_bad_gateway(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await answer_all(services, nudges=False)
    bad = part("nudges", {"nudges": [{"id": "n1"}]})  # a nudge without its fields
    await services.answer(R.NUDGES_EXPORT_PERSONAL_DATA, bad)
    response = await gateway.get("/v1/me/export", headers=auth("alice"))
    assert response.status_code == 502
    assert "n1" not in response.text


async def test_erasure_is_asked_of_the_sharing_service(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(
        R.SHARING_ERASE_PERSON, services.ok({"erasure_id": "x-1", "status": "pending"})
    )
    response = await gateway.delete("/v1/me", headers=auth("alice"))
    assert response.status_code == 202, response.text
    assert response.json() == {"erasure_id": "x-1", "status": "pending"}
    assert response.headers["location"] == "/v1/me/erasure/x-1"
    sent = services.last(R.SHARING_ERASE_PERSON)
    assert sent["actor"]["user_id"] == "alice"
    assert sent["posts"] == "anonymise"  # the default keeps others' threads readable

    response = await gateway.delete("/v1/me", params={"posts": "delete"}, headers=auth("alice"))
    assert response.status_code == 202
    assert services.last(R.SHARING_ERASE_PERSON)["posts"] == "delete"
    response = await gateway.delete("/v1/me", params={"posts": "keep"}, headers=auth("alice"))
    assert response.status_code == 422
    assert services.requests[R.SHARING_ME] == []


async def test_erasure_progress_passes_through(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    status = {
        "erasure_id": "x-1",
        "status": "pending",
        "posts": "anonymise",
        "requested_at": "2026-03-04T10:00:00Z",
        "completed_at": None,
        "services": {
            "journal": {"status": "erased", "erased_at": "2026-03-04T10:00:01Z"},
            "sharing": {"status": "pending", "erased_at": None},
            "nudges": {"status": "pending", "erased_at": None},
        },
    }

    def reply(body: dict[str, Any]) -> Any:
        if body["erasure_id"] == "x-1" and body["actor"]["user_id"] == "alice":
            return services.ok(status)
        return services.problem(404, "Not found", detail="no such erasure")

    await services.answer(R.SHARING_ERASURE_STATUS, reply)
    response = await gateway.get("/v1/me/erasure/x-1", headers=auth("alice"))
    assert response.status_code == 200
    assert response.json() == status
    response = await gateway.get("/v1/me/erasure/x-1", headers=auth("mallory", role="admin"))
    assert response.status_code == 404
    response = await gateway.get("/v1/me/erasure/not%20an%20id", headers=auth("alice"))
    assert response.status_code == 422
    assert services.requests[R.SHARING_ME] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/me/export"), ("DELETE", "/v1/me"), ("GET", "/v1/me/erasure/x-1")],
)
async def test_personal_data_needs_a_token(
    gateway: httpx.AsyncClient, services: FakeServices, method: str, path: str
) -> None:
    response = await gateway.request(method, path)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_nobody_signs_in_as_the_erased_person_stand_in(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    """Whoever held the tombstone's id would own every erased author's kept work."""
    response = await gateway.get("/v1/me/export", headers=auth("~erased"))
    assert response.status_code == 401
