"""The published pages pass axe-core in headless Chromium: on a phone and a desktop, rtl and ltr, light and dark.

Needs Debian's chromium and axe-core (``npm ci --prefix tests/a11y``); without
them these tests skip and say so, unless MASTHEAD_BROWSER_TESTS=required (as
in CI), where a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .browser import Browser, Tab, build_sample, missing, serve

WHY_NOT = missing()
REQUIRED = os.environ.get("MASTHEAD_BROWSER_TESTS") == "required"

# The sample publication's pages: the site, every feed's page, an Arabic and an English article, a podcast episode.
PAGES = {
    "site": "",
    "feed-all": "all/",
    "feed-all-ar": "all/language/ar/",
    "feed-all-en": "all/language/en/",
    "feed-ar": "ar-news/",
    "feed-en": "en-news/",
    "feed-podcast": "podcast/",
    "article-ar": "ar-news/000_dc9ff0ee3f199e80.html",
    "article-en": "en-news/2022-04-28-port-strike.html",
    "article-podcast": "podcast/episode-12.html",   # an audio player, a table and a footnote
}
# The feeds' browser view (feed.xsl), in each direction.
FEED_VIEWS = {"rss-ar": "ar-news/rss.xml", "atom-en": "en-news/atom.xml"}
# (width, colour scheme): a phone and a desktop in light, a phone in dark.
WINDOWS = [(375, "light"), (1200, "light"), (375, "dark")]
# Chromium's own notice that it will stop applying XSLT: not part of our page.
CHROMIUM_XSLT_BANNER = "xslt-warning-banner"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample publication, built: its output/."""
    root = tmp_path_factory.mktemp("a11y")
    yield build_sample(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def site(built: Path) -> Iterator[str]:
    """The built site served from 127.0.0.1: its base URL."""
    if WHY_NOT:
        if REQUIRED:
            pytest.fail(f"MASTHEAD_BROWSER_TESTS=required, but {WHY_NOT}")
        pytest.skip(WHY_NOT)
    with serve(built) as base:
        yield base


@pytest.fixture(scope="module")
def tab(site: str) -> Iterator[Tab]:
    with Browser() as browser:
        yield browser.tab()


def report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {node}" for node in v["nodes"][:5]]
    return "\n".join(lines)


def test_axe_reports_what_it_should(tab: Tab) -> None:
    """The harness is not blind: a page with an unlabelled field and pale text has violations."""
    page = ('<!DOCTYPE html><html lang="en"><title>t</title><main><h1>t</h1>'
            '<p style="color:#bbb;background:#fff">pale</p><input type="text"></main></html>')
    tab.open("data:text/html;charset=utf-8," + quote(page), 375)
    found = {v["id"] for v in tab.axe()}
    assert {"color-contrast", "label"} <= found


def test_every_feed_page_is_checked(built: Path) -> None:
    """PAGES names every feed of the sample publication (a new feed is not left unchecked)."""
    manifest = json.loads((built / "manifest.json").read_text("utf-8"))
    folders = {feed["files"]["rss"].removeprefix("output/").removesuffix("rss.xml") for feed in manifest["feeds"]}
    assert folders == {path for name, path in PAGES.items() if name.startswith("feed-")}


@pytest.mark.parametrize(("width", "scheme"), WINDOWS, ids=[f"{w}-{s}" for w, s in WINDOWS])
@pytest.mark.parametrize("page", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_axe_violations(tab: Tab, site: str, page: str, width: int, scheme: str) -> None:
    """axe-core (every rule it runs by default: WCAG 2.x A and AA, best practices) finds nothing."""
    tab.open(site + page, width, dark=scheme == "dark")
    assert tab.evaluate("document.documentElement.scrollWidth") <= width, "the page is wider than the window"
    violations = tab.axe()
    assert [] == violations, report(violations)


@pytest.mark.parametrize(("width", "scheme"), WINDOWS[:2], ids=[f"{w}-{s}" for w, s in WINDOWS[:2]])
@pytest.mark.parametrize("page", FEED_VIEWS.values(), ids=FEED_VIEWS.keys())
def test_feed_browser_view_has_no_axe_violations(tab: Tab, site: str, page: str, width: int, scheme: str) -> None:
    """A feed opened in the browser, turned into a page by feed.xsl, passes axe-core too."""
    tab.open(site + page, width, dark=scheme == "dark")
    if not tab.evaluate("document.querySelector('main.feed-view') !== null"):
        pytest.skip("this Chromium no longer applies XSLT stylesheets to feeds")
    tab.evaluate(f"document.querySelector('{CHROMIUM_XSLT_BANNER}')?.remove()")
    assert tab.evaluate("getComputedStyle(document.body).display") == "flex", "site.css was not applied"
    violations = tab.axe()
    assert [] == violations, report(violations)
