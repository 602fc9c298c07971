"""The learning hub's pages, static files and development sign-in, served by the gateway."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import jwt
import pytest
from flowlearn_cli.seed import DEMO_PEOPLE
from flowlearn_gateway.settings import GatewaySettings
from flowlearn_gateway.web.dev_tokens import DEMO_PEOPLE as HUB_PEOPLE
from flowlearn_gateway.web.pages import PAGES

pytestmark = pytest.mark.integration

GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize("slug", sorted(PAGES))
async def test_every_page_is_a_shell_under_a_strict_policy(
    gateway: httpx.AsyncClient, slug: str
) -> None:
    response = await gateway.get(f"/hub/{slug}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = csp(response)
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.text
    assert f'<script type="module" src="/hub/static/js/{slug}.js' in html
    assert not INLINE_SCRIPT.search(html), "no inline script: the policy would block it"
    assert ' style="' not in html
    assert '<main id="main"' in html


async def test_the_scripts_and_styles_pages_load_are_served(gateway: httpx.AsyncClient) -> None:
    for slug in PAGES:
        script = await gateway.get(f"/hub/static/js/{slug}.js")
        assert script.status_code == 200, slug
        assert "javascript" in script.headers["content-type"]
    for path in ("/hub/static/css/hub.css", "/hub/static/icon.svg", "/hub/static/js/lib/api.js"):
        assert (await gateway.get(path)).status_code == 200, path
    # The package around the static folder (its Python, its templates) is not served.
    assert (await gateway.get("/hub/static/%2e%2e/pages.py")).status_code == 404


async def test_the_root_and_a_nudge_link_lead_to_today(gateway: httpx.AsyncClient) -> None:
    for path in ("/", "/hub", "/hub/"):
        response = await gateway.get(path)
        assert response.status_code == 307
        assert response.headers["location"] == "/hub/today"
    # The link a nudge carries to Slack, Teams or e-mail.
    opened = await gateway.get("/hub/nudges/n-123")
    assert opened.status_code == 200
    assert 'data-page="today"' in opened.text
    assert (await gateway.get("/hub/nudges/")).status_code == 200


async def test_sign_in_lists_the_demo_people_in_test(gateway: httpx.AsyncClient) -> None:
    html = (await gateway.get("/hub/signin")).text
    for person in HUB_PEOPLE:
        assert f'data-user="{person.user_id}"' in html
        assert person.name in html
    assert "oidc-sign-in" not in html


async def test_a_dev_token_is_one_the_gateway_accepts(
    gateway: httpx.AsyncClient, settings: GatewaySettings
) -> None:
    response = await gateway.post("/v1/dev/token", json={"user": "maya"})
    assert response.status_code == 201
    issued = response.json()
    assert issued["user_id"] == "maya"
    assert issued["role"] == "manager"
    secret = settings.jwt_secret.get_secret_value()
    claims: dict[str, Any] = jwt.decode(issued["access_token"], secret, algorithms=["HS256"])
    assert claims["sub"] == "maya"
    assert claims["roles"] == ["manager"]
    assert claims["name"] == "Maya Lindqvist"
    assert claims["zoneinfo"] == "Europe/Stockholm"
    assert claims["exp"] - claims["iat"] == issued["expires_in"]

    other = (await gateway.post("/v1/dev/token", json={"user": "zoe"})).json()
    assert other["role"] == "member"
    assert other["name"] is None
    bad = await gateway.post("/v1/dev/token", json={"user": "not a user id"})
    assert bad.status_code == 422


async def test_outside_dev_and_test_there_is_no_dev_sign_in(make_gateway: GatewayFactory) -> None:
    async with make_gateway(env="production") as gateway:
        response = await gateway.post("/v1/dev/token", json={"user": "alice"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        html = (await gateway.get("/hub/signin")).text
        assert "data-user=" not in html
        assert "Sign-in is not configured" in html


async def test_with_an_oidc_issuer_sign_in_goes_to_it(make_gateway: GatewayFactory) -> None:
    issuer = "https://login.example.com/realms/acme"
    async with make_gateway(
        env="production", oidc_issuer=issuer, oidc_client_id="flowlearn-hub"
    ) as gateway:
        response = await gateway.get("/hub/signin")
        html = response.text
        assert 'id="oidc-sign-in"' in html
        assert f'data-oidc-issuer="{issuer}"' in html
        assert 'data-oidc-client-id="flowlearn-hub"' in html
        assert "data-user=" not in html
        # The browser fetches the provider's discovery document and token endpoint.
        assert csp(response)["connect-src"] == "'self' https://login.example.com"


def test_the_hub_offers_the_people_the_seed_creates() -> None:
    assert [(p.user_id, p.role, p.name, p.timezone) for p in HUB_PEOPLE] == [
        tuple(person) for person in DEMO_PEOPLE
    ]
