"""The learning hub in a real browser, at desktop and at phone width.

Alice signs in, a nudge reaches her Today page while it is open, she answers it with a
journal entry and sees her streak grow, marks the entry as evidence and shares it with her
team; Bob, her teammate, sees it in his feed, asks a question that Alice answers and Bob
accepts; Alice hosts a lunch & learn Bob joins, pitches an experiment, exports her
portfolio as Markdown and changes her nudge settings. Every page is screenshotted under
test-output/screenshots/, and no page may log a console error.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hub_support import Api, Visitor, sign_in, visitor
from playwright.sync_api import Browser, Locator, expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def scene(hub: str) -> Iterator[Api]:
    api = Api(hub)
    api.ready_for_nudges("alice")
    api.clear_today("alice")
    yield api
    api.close()


def streak(tab: Visitor) -> int:
    value = tab.page.locator("#streak")
    expect(value).to_have_text(re.compile(r"^\d+$"))
    return int(value.inner_text())


def nudge_arrives_live(alice: Visitor, scene: Api, message: str) -> Locator:
    page = alice.page
    # The stream is open before the nudge is sent: it must arrive without a reload.
    expect(page.locator("#live-state")).to_have_text("Live")
    scene.send_campaign("maya", "alice", message)
    nudge = page.locator("li.nudge", has_text=message)
    expect(nudge).to_be_visible(timeout=20_000)
    expect(nudge.locator(".status")).to_have_text("New")
    return nudge


def answer_nudge(
    alice: Visitor, nudge: Locator, message: str, body: str, *, from_link: bool
) -> None:
    page = alice.page
    before = streak(alice)
    if from_link:
        # As from the link the nudge carries to Slack, Teams or e-mail: Today opens with it.
        nudge_id = nudge.get_attribute("data-nudge-id")
        page.goto(f"/hub/nudges/{nudge_id}")
        expect(page.locator("#live-state")).to_have_text("Live")
    else:
        nudge.get_by_role("button", name="Write about it").click()
    expect(page.locator("#quick-prompt")).to_have_text(message)
    expect(page.get_by_label("Title")).to_have_value(message)
    expect(page.get_by_label("Your entry")).to_be_focused()
    page.get_by_label("Your entry").fill(body)
    page.get_by_label("Tags").fill("deploys, ops")
    page.get_by_role("button", name="Save to journal").click()
    expect(page.locator("#toast")).to_have_text("Saved to your journal.")
    expect(page.locator("#streak")).not_to_have_text(str(before))
    assert streak(alice) > before
    expect(nudge.locator(".status")).to_have_text("Done")


def keep_and_share(alice: Visitor, marker: str, run: str) -> None:
    page = alice.page
    alice.nav("Journal")
    entry = page.locator("#entries > li", has_text=marker)
    expect(entry).to_be_visible()
    # Markdown is rendered; the HTML inside the text is shown as text and never runs.
    expect(entry.locator(".prose strong")).to_have_text(marker)
    expect(entry.locator(".prose li")).to_have_count(2)
    expect(entry.locator(".prose")).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(entry.locator(".prose img")).to_have_count(0)
    expect(entry.locator(".prose a")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

    entry.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit entry")).to_be_visible()
    page.get_by_label("Keep as evidence in my portfolio").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#toast")).to_have_text("Entry updated.")
    expect(entry.locator(".pill", has_text="Evidence")).to_be_visible()

    page.get_by_label("Search").fill(run)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#entries > li")).to_have_count(1)
    expect(page.locator("#entries > li")).to_contain_text(marker)

    entry.get_by_role("button", name="Share").click()
    share = entry.get_by_role("form", name="Share this entry")
    share.get_by_label("With").select_option(label="Team: Platform team")
    share.get_by_role("button", name="Share").click()
    expect(entry).to_contain_text("Shared with Team: Platform team.")
    alice.shot("journal")


def sees_it_in_the_feed(bob: Visitor, marker: str) -> None:
    page = bob.page
    bob.nav("Team")
    post = page.locator("li.post", has_text=marker)
    deadline = time.monotonic() + 20
    # Sharing is asynchronous (journal → event → sharing): refresh as a person would.
    while not post.is_visible():
        assert time.monotonic() < deadline, "the shared entry never reached the team feed"
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
    expect(post).to_contain_text("Alice Moreau")
    expect(post).to_contain_text("Team: Platform team")
    expect(post.locator(".prose img")).to_have_count(0)
    bob.shot("team")


def ask_answer_accept(alice: Visitor, bob: Visitor, run: str) -> None:
    title = f"How do you roll out schema changes safely? ({run})"
    bob.nav("Q&A")
    page = bob.page
    page.get_by_label("Question", exact=True).fill(title)
    page.get_by_label("Details").fill("We lock the table *every time*. What do you do?")
    page.get_by_label("Tags").fill("deploys")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator("#detail-title")).to_have_text(title)
    expect(page.locator("#detail-title")).to_be_focused()

    alice.nav("Q&A")
    alice.page.get_by_role("link", name=title).click()
    expect(alice.page.locator("#detail-title")).to_have_text(title)
    alice.page.get_by_label("Your answer").fill("Expand, migrate, contract: add first, drop last.")
    alice.page.get_by_role("button", name="Post answer").click()
    expect(alice.page.locator(".answers")).to_contain_text("Your answer")
    expect(alice.page.locator(".answers")).to_contain_text("Expand, migrate, contract")

    page.reload()
    answer = page.locator(".answers > li", has_text="Expand, migrate, contract")
    answer.get_by_role("button", name="Accept this answer").click()
    expect(answer).to_contain_text("Accepted")
    bob.shot("questions")


def lunch_and_learn(alice: Visitor, bob: Visitor, run: str) -> None:
    title = f"Lunch & learn: canary deploys ({run})"
    alice.nav("Events")
    page = alice.page
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Bring **one** story from your last deploy.")
    starts = (datetime.now() + timedelta(days=2)).replace(hour=12, minute=30)
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Seats").fill("8")
    page.get_by_label("Where").fill("Room 4")
    page.get_by_role("button", name="Host it").click()
    hosted = page.locator("#events > li", has_text=title)
    expect(hosted).to_contain_text("You host it")

    bob.nav("Events")
    gathering = bob.page.locator("#events > li", has_text=title)
    gathering.get_by_role("button", name="RSVP").click()
    expect(gathering).to_contain_text("You are going")
    expect(gathering).to_contain_text("1 going, 7 of 8 seats left")
    bob.shot("events")


def run_an_experiment(alice: Visitor, run: str) -> None:
    page = alice.page
    title = f"Canary every deploy ({run})"
    page.get_by_text("Pitch an experiment").click()
    pitch = page.locator("#pitch-form")
    pitch.get_by_label("Team").select_option(label="Platform team")
    pitch.get_by_label("Title").fill(title)
    pitch.get_by_label("The idea").fill("Send *every* deploy through the canary for a month.")
    pitch.get_by_role("button", name="Pitch it").click()
    experiment = page.locator("#experiments > li", has_text=title)
    expect(experiment.locator(".pill")).to_have_text("Pitch")
    experiment.get_by_label("What did the pitch teach you?").fill("People want data first.")
    experiment.get_by_role("button", name="Move to prototype").click()
    expect(experiment.locator(".pill")).to_have_text("Prototype")
    expect(experiment.locator(".steps")).to_contain_text("People want data first.")


def export_portfolio(alice: Visitor, marker: str, run: str, tmp_path: Path) -> None:
    page = alice.page
    alice.nav("Portfolio")
    expect(page.locator("#evidence")).to_contain_text(marker)
    expect(page.locator("#kudos")).to_contain_text("Maya Lindqvist")
    run_an_experiment(alice, run)
    alice.shot("portfolio")
    with page.expect_download() as started:
        page.get_by_role("button", name="Download Markdown").click()
    download = started.value
    assert download.suggested_filename == "portfolio.md"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert marker in text
    assert "Led the incident review" in text  # a seeded achievement
    assert "make a hard review feel safe" in text  # Maya's kudos


def change_settings(alice: Visitor) -> None:
    page = alice.page
    alice.nav("Settings")
    expect(page.get_by_label("Display name")).to_have_value("Alice Moreau")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    page.get_by_label("Most nudges a day").fill("5")
    page.get_by_label("Spotting strengths").uncheck()
    page.get_by_role("button", name="Save nudge settings").click()
    expect(page.locator("#toast")).to_have_text("Nudge settings saved.")
    page.reload()
    expect(page.get_by_label("Most nudges a day")).to_have_value("5")
    expect(page.get_by_label("Spotting strengths")).not_to_be_checked()
    alice.shot("settings")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_day_with_the_learning_hub(
    browser: Browser, hub: str, scene: Api, viewport: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    marker = f"Canary deploys {run}"
    message = f"What did this week's deploys teach you? ({run})"
    body = (
        f"**{marker}** catch what staging misses.\n\n"
        "- roll out to 5 % first\n"
        '- <img src=x onerror="window.__xss=1">\n\n'
        "[a link that must not run](javascript:window.__xss=1)"
    )
    with visitor(browser, hub, viewport) as alice, visitor(browser, hub, viewport) as bob:
        sign_in(alice, "alice", screenshot=True)
        # The first Tab stop is the skip link, for keyboard users.
        alice.page.keyboard.press("Tab")
        expect(alice.page.get_by_role("link", name="Skip to content")).to_be_focused()

        nudge = nudge_arrives_live(alice, scene, message)
        alice.shot("today")
        answer_nudge(alice, nudge, message, body, from_link=viewport == "phone")
        keep_and_share(alice, marker, run)

        sign_in(bob, "bob")
        sees_it_in_the_feed(bob, marker)
        ask_answer_accept(alice, bob, run)
        lunch_and_learn(alice, bob, run)
        export_portfolio(alice, marker, run, tmp_path)
        change_settings(alice)

        assert alice.errors == [], alice.errors
        assert bob.errors == [], bob.errors
