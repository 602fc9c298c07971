"""Portfolio export: what the gateway asks the journal, and each format's response."""

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
URL = "/v1/journal/portfolio"

PORTFOLIO: dict[str, Any] = {
    "user_id": "alice",
    "name": "Alice",
    "generated_at": "2026-03-29T09:30:00Z",
    "evidence": [],
    "kudos": [
        {
            "kudos_id": "k1",
            "from_id": "bob",
            "from_name": None,
            "message": "Great review",
            "strengths": [],
            "visibility": "private",
            "given_at": "2026-03-28T09:30:00Z",
        }
    ],
    "answers": [],
    "experiments": [],
    "truncated": False,
}
STATEMENT: dict[str, Any] = {
    "id": "4a3a320c-4121-57f6-90cb-a4c66b598a37",
    "actor": {
        "objectType": "Agent",
        "mbox": None,
        "account": {"homePage": "https://flowlearn.test", "name": "bob"},
    },
    "verb": {"id": "https://flowlearn.dev/xapi/verbs/praised", "display": {"en-US": "praised"}},
    "object": {
        "objectType": "Activity",
        "id": "https://flowlearn.dev/xapi/activities/kudos/k1",
        "definition": {"name": {"en-US": "Kudos"}, "description": None, "type": None},
    },
    "result": None,
    "context": None,
    "timestamp": "2026-03-28T09:30:00Z",
}


def export(body: dict[str, Any]) -> dict[str, Any]:
    """What the journal answers for the format asked."""
    fmt = body["format"]
    return {
        "result": {
            "format": fmt,
            "portfolio": PORTFOLIO if fmt == "json" else None,
            "markdown": "# Portfolio of Alice\n\n> Great review\n" if fmt == "md" else None,
            "statements": [STATEMENT] if fmt == "xapi" else None,
        },
        "problem": None,
    }


async def test_json_is_the_default_and_asks_for_the_callers_own(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_PORTFOLIO, export)
    response = await gateway.get(URL, headers=auth("alice", name="Alice"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "private, no-store"
    assert "content-disposition" not in response.headers
    assert response.json() == PORTFOLIO
    sent = services.last(RpcSubject.JOURNAL_PORTFOLIO)
    assert sent["format"] == "json"
    assert sent["actor"]["user_id"] == "alice"
    assert sent["actor"]["name"] == "Alice"


async def test_markdown_is_a_file_download(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_PORTFOLIO, export)
    response = await gateway.get(URL, params={"format": "md"}, headers=auth("alice"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="portfolio.md"'
    assert response.headers["cache-control"] == "private, no-store"
    assert response.text == "# Portfolio of Alice\n\n> Great review\n"
    assert services.last(RpcSubject.JOURNAL_PORTFOLIO)["format"] == "md"


async def test_xapi_is_a_list_of_statements_without_nulls(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_PORTFOLIO, export)
    response = await gateway.get(URL, params={"format": "xapi"}, headers=auth("alice"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-experience-api-version"] == "1.0.3"
    assert response.headers["content-disposition"] == 'attachment; filename="portfolio-xapi.json"'
    [statement] = response.json()
    assert statement == {
        "id": STATEMENT["id"],
        "actor": {"objectType": "Agent", "account": STATEMENT["actor"]["account"]},
        "verb": STATEMENT["verb"],
        "object": {
            "objectType": "Activity",
            "id": "https://flowlearn.dev/xapi/activities/kudos/k1",
            "definition": {"name": {"en-US": "Kudos"}},
        },
        "timestamp": "2026-03-28T09:30:00Z",
    }


async def test_an_unknown_format_is_refused_before_asking_the_journal(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_PORTFOLIO, export)
    response = await gateway.get(URL, params={"format": "pdf"}, headers=auth("alice"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [tuple(e["loc"]) for e in response.json()["errors"]] == [("query", "format")]
    assert not services.requests[RpcSubject.JOURNAL_PORTFOLIO]


async def test_without_a_token_there_is_no_portfolio(
    gateway: httpx.AsyncClient, services: FakeServices
) -> None:
    await services.answer(RpcSubject.JOURNAL_PORTFOLIO, export)
    response = await gateway.get(URL)
    assert response.status_code == 401
    assert not services.requests[RpcSubject.JOURNAL_PORTFOLIO]


async def test_a_reply_in_the_wrong_form_is_a_bad_gateway(
    gateway: httpx.AsyncClient, services: FakeServices, auth: Auth
) -> None:
    # Markdown asked for, JSON answered: the client must not get the wrong document.
    await services.answer(RpcSubject.JOURNAL_PORTFOLIO, lambda body: export({"format": "json"}))
    response = await gateway.get(URL, params={"format": "md"}, headers=auth("alice"))
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_silent_journal_is_a_503_with_retry_after(
    make_gateway: Any, services: FakeServices, auth: Auth
) -> None:
    await services.answer(RpcSubject.JOURNAL_PORTFOLIO, lambda body: None)
    async with make_gateway(request_timeout_seconds=0.3) as client:
        response = await client.get(URL, headers=auth("alice"))
    assert response.status_code == 503
    assert "retry-after" in response.headers
