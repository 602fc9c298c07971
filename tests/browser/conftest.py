"""Browser tests: Debian's chromium, driven by Playwright for Python, against the shared
running system (``stack`` in tests/conftest.py) seeded with the demo organisation.

Chromium comes from apt (``make browser-deps``), never from a browser download."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flowlearn_cli.seed import seed
from flowlearn_cli.stack import Stack
from playwright.sync_api import Browser, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


# The system under test shares two cores with the browser and the test runner: give each
# expectation the same patience as each action.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}: run `make browser-deps`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def hub(stack: Stack) -> str:
    """The hub's base URL, with the demo organisation seeded (once; seeding is idempotent)."""
    seed(stack.config.gateway_url)
    return stack.config.gateway_url
