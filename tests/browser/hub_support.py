"""Helpers for the browser tests: a person's browser tab that records console errors and
takes screenshots, and API calls that set the scene."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from flowlearn_cli.seed import DEMO_PEOPLE
from flowlearn_cli.tokens import make_token
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
PEOPLE = {user: (role, name, zone) for user, role, name, zone in DEMO_PEOPLE}


@dataclass
class Visitor:
    """One person's browser tab."""

    page: Page
    shots: Path
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location.get('url')})")

    def nav(self, label: str) -> None:
        """Follow a link of the hub's navigation, as a person would."""
        self.page.get_by_role("navigation", name="Hub").get_by_role("link", name=label).click()

    def shot(self, name: str) -> None:
        """A full-page screenshot; on the way, no page may scroll sideways."""
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} is {overflow}px wider than the viewport"
        self.shots.mkdir(parents=True, exist_ok=True)
        # A passing notice would cover part of a full-page picture.
        self.page.locator("#toast").evaluate("toast => toast.classList.remove('shown')")
        self.page.screenshot(
            path=str(self.shots / f"{name}.png"), full_page=True, animations="disabled"
        )


@contextmanager
def visitor(browser: Browser, base_url: str, viewport: str) -> Iterator[Visitor]:
    context = browser.new_context(
        base_url=base_url,
        viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    tab = Visitor(page, SCREENSHOTS / viewport)
    page.on("console", tab.on_console)
    page.on("pageerror", lambda error: tab.errors.append(f"uncaught: {error}"))
    try:
        yield tab
    finally:
        context.close()


def sign_in(tab: Visitor, user: str, *, screenshot: bool = False) -> None:
    """Open the hub, get sent to sign-in, pick the demo person with the keyboard."""
    page = tab.page
    page.goto("/hub/today")
    expect(page).to_have_url(re.compile(r"/hub/signin\?next="))
    expect(page.get_by_role("heading", name="Sign in to Flowlearn")).to_be_visible()
    if screenshot:
        tab.shot("signin")
    name = PEOPLE[user][1]
    button = page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}"))
    button.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/hub/today$"))
    expect(page.locator("#who-name")).to_have_text(name)


class Api:
    """The public API as the demo people, to set the scene around the browser."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=15)

    def call(self, user: str, method: str, path: str, **kwargs: Any) -> Any:
        role, name, zone = PEOPLE[user]
        token = make_token(user, role, timezone=zone, name=name)
        response = self.client.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def close(self) -> None:
        self.client.close()

    def ready_for_nudges(self, user: str) -> None:
        """Any hour is working time and none is quiet, so a nudge sent now arrives now."""
        self.call(
            user,
            "PATCH",
            "/v1/me",
            json={
                "working_hours": {"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"},
                "quiet_hours": None,
            },
        )
        preferences = self.call(user, "GET", "/v1/nudges/preferences")
        self.call(user, "PUT", "/v1/nudges/preferences", json={**preferences, "daily_cap": 20})

    def clear_today(self, user: str) -> None:
        """Delete the person's entries of today (in their zone), so today's first entry
        visibly extends the streak."""
        today = datetime.now(ZoneInfo(PEOPLE[user][2])).date().isoformat()
        params = {"from": today, "to": today, "limit": 100}
        for entry in self.call(user, "GET", "/v1/journal/entries", params=params)["items"]:
            self.call(user, "DELETE", f"/v1/journal/entries/{entry['id']}")

    def send_campaign(self, sender: str, to: str, message: str) -> None:
        self.call(
            sender,
            "POST",
            "/v1/nudges/campaigns",
            json={"type": "custom", "message": message, "audience": f"people:{to}"},
        )
