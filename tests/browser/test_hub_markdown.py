"""The hub's Markdown renderer, run in the browser: what people write becomes text, a few
formatting elements and http(s)/mailto links, never markup or script of its own."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

pytestmark = pytest.mark.e2e

ALLOWED = {"P", "BR", "STRONG", "EM", "CODE", "PRE", "A", "UL", "OL", "LI", "BLOCKQUOTE"}
ALLOWED |= {f"H{level}" for level in range(3, 7)}

RENDER = """async (sources) => {
  const { markdown } = await import("/hub/static/js/lib/markdown.js");
  return sources.map((source) => {
    const box = document.createElement("div");
    box.append(markdown(source));
    return {
      text: box.textContent,
      tags: [...box.querySelectorAll("*")].map((e) => e.tagName),
      hrefs: [...box.querySelectorAll("a")].map((a) => a.getAttribute("href")),
      attributes: [...box.querySelectorAll("*")].flatMap((e) => e.getAttributeNames()),
    };
  });
}"""

HOSTILE = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss=1">',
    "[click](javascript:window.__xss=1)",
    "[click](JaVaScRiPt:window.__xss=1)",
    "[click](data:text/html,<script>window.__xss=1</script>)",
    '**<svg onload="window.__xss=1">**',
    "```\n<iframe src=javascript:window.__xss=1></iframe>\n```",
    '> <a href="javascript:window.__xss=1">quote</a>',
    "# <b onmouseover=window.__xss=1>heading</b>",
    '[x](https://example.com/" onmouseover="window.__xss=1)',
]


def render(browser: Browser, hub: str, sources: list[str]) -> list[dict[str, Any]]:
    page = browser.new_page(base_url=hub)
    try:
        page.goto("/hub/signin")
        results: list[dict[str, Any]] = page.evaluate(RENDER, sources)
        assert page.evaluate("window.__xss") is None
        return results
    finally:
        page.close()


def test_hostile_text_stays_text(browser: Browser, hub: str) -> None:
    for source, result in zip(HOSTILE, render(browser, hub, HOSTILE), strict=True):
        assert set(result["tags"]) <= ALLOWED, (source, result["tags"])
        assert set(result["attributes"]) <= {"href", "rel"}, (source, result["attributes"])
        for href in result["hrefs"]:
            assert href.startswith(("https://", "http://", "mailto:")), (source, href)
            assert '"' not in href
        assert "__xss" in result["text"], f"the text itself must still show: {source}"


def test_the_subset_people_use_is_rendered(browser: Browser, hub: str) -> None:
    sources = [
        "**bold** and *soft* and `code` and [a link](https://example.com)",
        "- one\n- two\n\n1. first\n2. second",
        "## A heading\nfirst line\nsecond line",
        "> quoted *words*",
    ]
    inline, lists, heading, quote = render(browser, hub, sources)
    assert inline["tags"] == ["P", "STRONG", "EM", "CODE", "A"]
    assert inline["hrefs"] == ["https://example.com"]
    assert lists["tags"] == ["UL", "LI", "LI", "OL", "LI", "LI"]
    assert heading["tags"] == ["H4", "P", "BR"]
    assert heading["text"] == "A headingfirst linesecond line"
    assert quote["tags"] == ["BLOCKQUOTE", "P", "EM"]
