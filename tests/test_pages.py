"""The site's pages as `masthead run` writes them: one stylesheet, language and direction, feeds to discover.

The browser checks (axe-core, widths, dark mode) are in test_pages_a11y.py;
these read the HTML itself and need nothing but the job.
"""

from __future__ import annotations

import html
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from masthead.config import load_publication
from masthead.pipeline import run

from .conftest import ROOT

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
AR_ARTICLE = "output/ar-news/000_dc9ff0ee3f199e80.html"
EN_ARTICLE = "output/en-news/2022-04-28-port-strike.html"
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pub")
    shutil.copytree(ROOT / "feeds", root / "feeds")
    run(load_publication(root), now=NOW)
    return root


def pages(root: Path) -> list[Path]:
    return sorted(p for p in (root / "output").rglob("*.html") if "digests" not in p.parts)


def read(root: Path, path: str) -> str:
    return (root / path).read_text("utf-8")


def main_of(page: str) -> str:
    """The visible text of the page's <main>, tags dropped, entities read."""
    inner = page.split("<main", 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", inner))


class TestEveryPage:
    def test_html_states_language_and_direction(self, built: Path) -> None:
        """Every page's <html> has lang and dir; the Arabic pages are rtl, the English ltr."""
        for path in pages(built):
            (lang, direction), = re.findall(r'<html lang="([^"]+)" dir="(rtl|ltr)">', path.read_text("utf-8"))
            assert direction == ("rtl" if lang == "ar" else "ltr"), path

    def test_one_shared_stylesheet_by_a_relative_link(self, built: Path) -> None:
        """Every page links output/site.css by a path relative to itself, and has no <style> of its own."""
        assert (built / "output/site.css").read_text("utf-8") == (
            ROOT / "src/masthead/templates/page/site.css").read_text("utf-8")
        for path in pages(built):
            page = path.read_text("utf-8")
            (href,) = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)
            assert (path.parent / href).resolve() == (built / "output/site.css").resolve(), path
            assert "<style" not in page

    def test_feed_and_article_pages_announce_their_feeds(self, built: Path) -> None:
        """Feed and article pages carry <link rel="alternate"> for RSS, Atom and JSON Feed."""
        for path in pages(built):
            if path.name == "index.html" and path.parent.name == "output":
                continue
            types = re.findall(r'<link rel="alternate" type="([^"]+)"', path.read_text("utf-8"))
            assert FEED_TYPES == tuple(types), path


class TestArticlePage:
    def test_title_and_lead_are_read_once(self, built: Path) -> None:
        """The lead sentence (the title) and the summary each appear once on the Arabic article page."""
        text = main_of(read(built, AR_ARTICLE))
        assert 1 == text.count("أكد الرئيس قاسم جومارت توكاييف أن بناء التعاون الدولي")
        assert 1 == text.count("وصرّح الرئيس توكاييف بذلك اليوم الجمعة")

    def test_date_is_written_for_people_in_a_machine_readable_time(self, built: Path) -> None:
        """The date reads '6 مايو 2022' / '28 April 2022' inside <time datetime="...">."""
        assert '<time datetime="2022-05-06T12:00:00+03:00">6 مايو 2022</time>' in read(built, AR_ARTICLE)
        assert '<time datetime="2022-04-28T12:00:00+03:00">28 April 2022</time>' in read(built, EN_ARTICLE)

    def test_nothing_of_the_body_is_lost(self, built: Path) -> None:
        """Every paragraph of the English article but its title line is on its page."""
        text = " ".join(main_of(read(built, EN_ARTICLE)).split())
        assert "Shipping companies said it would take about a week" in text
        assert "The union announced the deal on Thursday, April 28, 2022" in text
        assert 1 == text.count("ended a three-day strike")


class TestFeedPage:
    def test_lists_each_article_with_date_and_summary(self, built: Path) -> None:
        """The English feed page lists its articles newest first, each with a <time> and its summary."""
        page = read(built, "output/en-news/index.html")
        items = re.findall(r'<li lang="en" dir="ltr">(.*?)</li>', page, re.DOTALL)
        assert 3 == len(items)
        assert "Central bank holds rates steady" in items[0] and '<time datetime="2022-05-05T14:00:00+00:00">5 May 2022'\
            in items[0]
        assert all('class="summary"' in item for item in items)

    def test_sign_up_fields_have_labels(self, built: Path) -> None:
        """Each visible field of the sign-up form has a <label for> naming it."""
        page = read(built, "output/ar-news/index.html")
        for field_id in re.findall(r'<input id="([^"]+)"', page):
            assert f'<label for="{field_id}">' in page


class TestOverrides:
    def test_publication_stylesheet_replaces_ours(self, tmp_path: Path) -> None:
        """templates/page/site.css in a publication is what output/site.css holds."""
        shutil.copytree(ROOT / "feeds", tmp_path / "feeds")
        (tmp_path / "templates/page").mkdir(parents=True)
        css = "@media (min-width:1px){#x{color:red}}\n"      # '{#' is not a Jinja comment here
        (tmp_path / "templates/page/site.css").write_text(css, "utf-8")
        run(load_publication(tmp_path), now=NOW)
        assert css == (tmp_path / "output/site.css").read_text("utf-8")


class TestFeedBrowserView:
    def test_links_the_stylesheet_and_writes_dates_for_people(self, built: Path) -> None:
        """feed.xsl links site.css beside it (from any feed's depth) and writes the days in the feed's language."""
        transform = etree.XSLT(etree.parse(str(built / "output/feed.xsl")))
        for feed, css, day in (("ar-news/rss.xml", "../site.css", '<time datetime="2022-05-06">6 مايو 2022</time>'),
                               ("all/language/en/atom.xml", "../../../site.css",
                                '<time datetime="2022-04-28T12:00:00+03:00">28 April 2022</time>')):
            page = str(transform(etree.parse(str(built / "output" / feed))))
            assert f'<link rel="stylesheet" href="{css}">' in page
            assert day in page

    def test_an_archive_page_offers_the_current_feed_to_subscribe_to(self, tmp_path: Path) -> None:
        """An archive page opened in a browser names the current feed's address, not its own, to copy."""
        shutil.copytree(ROOT / "feeds", tmp_path / "feeds")
        toml = tmp_path / "feeds/ar-news/feed.toml"
        toml.write_text(toml.read_text("utf-8").replace("limit = 50", "limit = 2"), "utf-8")
        run(load_publication(tmp_path), now=NOW)
        transform = etree.XSLT(etree.parse(str(tmp_path / "output/feed.xsl")))
        page = str(transform(etree.parse(str(tmp_path / "output/ar-news/archive/1/atom.xml"))))
        assert "<code>https://news.example.org/ar-news/atom.xml</code>" in page
        assert 'href="../../../site.css"' in page
