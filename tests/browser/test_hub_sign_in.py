"""Signing in to the learning hub through the organisation's OpenID provider: the
authorization code flow with PKCE, run by the hub's own script in the browser against a
provider on 127.0.0.1 (tests/identity_provider.py) whose keys the gateway trusts."""

from __future__ import annotations

import re

import pytest
from hub_support import visitor
from identity_provider import IdentityProvider
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.e2e


def test_a_person_signs_in_with_the_identity_provider(
    browser: Browser, hub: str, identity_provider: IdentityProvider
) -> None:
    exchanges = len(identity_provider.exchanges)
    with visitor(browser, hub, "desktop") as olivia:
        page = olivia.page
        page.goto("/hub/journal")
        expect(page).to_have_url(re.compile(r"/hub/signin\?next=%2Fhub%2Fjournal$"))
        page.get_by_role("button", name="Sign in with your organisation").click()

        # Provider → /hub/callback → back to the page she asked for, signed in.
        expect(page).to_have_url(re.compile(r"/hub/journal$"))
        expect(page.locator("#who-name")).to_have_text("Olivia Novak")
        expect(page.locator("#entries")).to_contain_text("No entries match.")
        assert identity_provider.refusals == []
        assert len(identity_provider.exchanges) == exchanges + 1
        token = page.evaluate("sessionStorage.getItem('flowlearn.token')")
        assert token is not None
        assert token.count(".") == 2  # the ID token, a JWT the gateway verified
        # The one-time code does not stay in the address bar or the history.
        assert "code=" not in page.evaluate("location.href")
        assert olivia.errors == [], olivia.errors


def test_a_forged_callback_signs_nobody_in(browser: Browser, hub: str) -> None:
    with visitor(browser, hub, "desktop") as mallory:
        page = mallory.page
        page.goto("/hub/callback?code=stolen&state=forged")
        expect(page.get_by_role("heading", name="Sign-in did not complete")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("not started in this tab")
        assert page.evaluate("sessionStorage.getItem('flowlearn.token')") is None
        assert mallory.errors == [], mallory.errors
