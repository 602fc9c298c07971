"""The learning hub's pages: one server-rendered HTML shell per page, each with its own small
JavaScript module that calls the same HTTP API as every other client.

No user data is ever rendered here: the shell holds static markup and a few settings
(escaped), and the scripts fetch everything else with the person's bearer token. Every page
is sent with a Content-Security-Policy that allows only this origin's scripts and styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from flowlearn_gateway import __version__
from flowlearn_gateway.settings import GatewaySettings
from flowlearn_gateway.web.dev_tokens import DEMO_PEOPLE, DemoPerson, dev_sign_in_enabled

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
HUB = "/hub"


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    nav: str | None  # its label in the navigation; None for pages outside it


PAGES = {
    page.slug: page
    for page in (
        Page("today", "Today", "Today"),
        Page("journal", "Journal", "Journal"),
        Page("portfolio", "Portfolio", "Portfolio"),
        Page("team", "Team & communities", "Team"),
        Page("questions", "Questions & answers", "Q&A"),
        Page("events", "Events", "Events"),
        Page("settings", "Settings", "Settings"),
        Page("signin", "Sign in", None),
        Page("callback", "Signing in", None),
    )
}


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATE_DIR / f"{name}.html").read_text(encoding="utf-8"))


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: GatewaySettings) -> str:
    """Scripts, styles and requests from this origin only; the OIDC provider is also
    reachable by fetch (discovery and the token exchange), nothing else."""
    connect = ["'self'"]
    if settings.oidc_issuer and (origin := _origin(settings.oidc_issuer)):
        connect.append(origin)
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src {' '.join(connect)}",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
    return "; ".join(directives)


def security_headers(settings: GatewaySettings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # The OIDC callback URL carries a one-time code: never pass it on as a referrer.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def _nav(current: str) -> str:
    links = []
    for page in PAGES.values():
        if page.nav is None:
            continue
        here = ' aria-current="page"' if page.slug == current else ""
        links.append(f'<li><a href="{HUB}/{page.slug}"{here}>{escape(page.nav)}</a></li>')
    return '<nav class="site-nav" aria-label="Hub"><ul>' + "".join(links) + "</ul></nav>"


def _person_button(person: DemoPerson) -> str:
    meta = f"{person.role} · {person.timezone}"
    return (
        f'<li><button type="button" class="person" data-user="{escape(person.user_id)}">'
        f'<span class="person-name">{escape(person.name)}</span>'
        f'<span class="person-meta">{escape(meta)}</span></button></li>'
    )


def _sign_in_options(settings: GatewaySettings) -> dict[str, str]:
    oidc = ""
    if settings.oidc_issuer and settings.oidc_client_id:
        oidc = _template("signin_oidc").substitute()
    dev = ""
    if dev_sign_in_enabled(settings):
        people = "".join(_person_button(person) for person in DEMO_PEOPLE)
        dev = _template("signin_dev").substitute(people=people)
    nothing = ""
    if not oidc and not dev:
        nothing = (
            '<p class="notice">Sign-in is not configured: set FLOWLEARN_GATEWAY_OIDC_ISSUER '
            "and FLOWLEARN_GATEWAY_OIDC_CLIENT_ID.</p>"
        )
    return {"oidc": oidc, "dev": dev, "nothing": nothing}


def render_page(settings: GatewaySettings, slug: str) -> HTMLResponse:
    page = PAGES[slug]
    outside = page.nav is None
    main = _template(slug).substitute(_sign_in_options(settings) if slug == "signin" else {})
    html = _template("layout").substitute(
        title=escape(page.title),
        page=escape(slug),
        version=escape(__version__),
        env=escape(settings.env),
        oidc_issuer=escape(settings.oidc_issuer or ""),
        oidc_client_id=escape(settings.oidc_client_id or ""),
        oidc_scopes=escape(settings.oidc_scopes),
        nav="" if outside else _nav(slug),
        main=main,
    )
    return HTMLResponse(html, headers=security_headers(settings))


NudgeId = Annotated[str, PathParam(min_length=1, max_length=200)]


def build_router(settings: GatewaySettings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def root() -> Response:
        return RedirectResponse(f"{HUB}/today", status_code=307)

    @router.get(HUB)
    @router.get(f"{HUB}/")
    async def hub_home() -> Response:
        return RedirectResponse(f"{HUB}/today", status_code=307)

    def add(slug: str) -> None:
        async def show() -> HTMLResponse:
            return render_page(settings, slug)

        show.__name__ = f"hub_{slug}"
        router.add_api_route(f"{HUB}/{slug}", show, methods=["GET"], response_class=HTMLResponse)

    for slug in PAGES:
        add(slug)

    # Where a nudge sent to Slack, Teams or e-mail links to: Today, with that nudge open.
    @router.get(f"{HUB}/nudges/")
    async def hub_nudges() -> HTMLResponse:
        return render_page(settings, "today")

    @router.get(f"{HUB}/nudges/{{nudge_id}}")
    async def hub_nudge(nudge_id: NudgeId) -> HTMLResponse:
        return render_page(settings, "today")

    return router
