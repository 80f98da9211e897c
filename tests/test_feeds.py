"""The sample publication's feeds, as `masthead run` writes them and readers see them.

The job runs once per module on a copy of the sample publication; feedparser
reads every RSS and Atom file back, JSON Feed is read as JSON. Golden files
under tests/golden/feeds/ guard the bytes: after an intended change, refresh
them with ``.venv/bin/python -m pytest tests/test_feeds.py --update-golden``.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from masthead.config import load_publication
from masthead.pipeline import run

from .conftest import ROOT, SEED

NOW = datetime(2023, 2, 1, 6, 0, tzinfo=UTC)
KINDS = ("rss", "atom")


def _copy(target: Path) -> Path:
    shutil.copytree(ROOT / "feeds", target / "feeds")
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """The sample publication after one run: (root, report, manifest)."""
    root = _copy(tmp_path_factory.mktemp("pub"))
    report = run(load_publication(root), now=NOW)
    manifest = json.loads((root / "output/manifest.json").read_text("utf-8"))
    return root, report, manifest


def _parsed(root: Path, feed: dict, kind: str):
    return feedparser.parse((root / feed["files"][kind]).read_bytes())


def _every_file(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted((root / "output").rglob("*")) if p.is_file()}


class TestReadBack:
    def test_every_feed_parses_without_bozo(self, built) -> None:
        """feedparser reads every RSS and Atom file as well-formed feeds of the right version."""
        root, _, manifest = built
        for feed in manifest["feeds"]:
            for kind, version in (("rss", "rss20"), ("atom", "atom10")):
                parsed = _parsed(root, feed, kind)
                assert (False, version) == (parsed.bozo, parsed.version), feed["files"][kind]

    def test_ids_are_unique_and_entries_newest_first(self, built) -> None:
        """No id repeats within a feed, and publication dates never increase down the feed."""
        root, _, manifest = built
        for feed in manifest["feeds"]:
            for kind in KINDS:
                entries = _parsed(root, feed, kind).entries
                ids = [e.id for e in entries]
                assert len(ids) == len(set(ids)) == feed["items"]
                dates = [e.published_parsed for e in entries]
                assert dates == sorted(dates, reverse=True)

    def test_same_article_has_same_id_in_every_feed_and_format(self, built) -> None:
        """An article's id in the aggregate equals its id in its own feed, in all three formats."""
        root, _, manifest = built
        feeds = {f["name"]: f for f in manifest["feeds"]}
        ids = {}
        for name in ("ar-news", "en-news", "all"):
            for kind in KINDS:
                ids[(name, kind)] = {e.link: e.id for e in _parsed(root, feeds[name], kind).entries}
            doc = json.loads((root / feeds[name]["files"]["json"]).read_text("utf-8"))
            ids[(name, "json")] = {i["url"]: i["id"] for i in doc["items"]}
        merged = {**ids[("ar-news", "atom")], **ids[("en-news", "atom")]}
        for key, value in ids.items():
            assert {link: merged[link] for link in value} == value, key
        assert merged == ids[("all", "atom")]

    def test_language_is_the_feeds_own(self, built) -> None:
        """RSS <language> and Atom xml:lang carry the feed's plain ISO 639 code."""
        root, _, manifest = built
        for feed in manifest["feeds"]:
            for kind in KINDS:
                assert feed["language"] == _parsed(root, feed, kind).feed.language
        assert {
            f["name"]: f["language"] for f in manifest["feeds"] if f["name"] != "all/language/ar"} == {"all": "ar", "ar-news": "ar", "en-news": "en", "all/language/en": "en", "podcast": "ar"}

    def test_seed_keeps_its_exact_title_and_date(self, built) -> None:
        """The seed article's title is its first line without the full stop, dated 2022-05-06."""
        root, _, manifest = built
        title = SEED.read_text("utf-8").splitlines()[0].rstrip(".")
        feed = next(f for f in manifest["feeds"] if f["name"] == "ar-news")
        for kind in KINDS:
            entry = next(e for e in _parsed(root, feed, kind).entries if e.title == title)
            assert tuple(entry.published_parsed[:3]) == (2022, 5, 6)
        atom = _parsed(root, feed, "atom")
        entry = next(e for e in atom.entries if e.title == title)
        assert entry.published == "2022-05-06T12:00:00+03:00"

    def test_entry_content_states_its_direction(self, built) -> None:
        """Arabic entries' content is wrapped in dir="rtl" lang="ar"; English ones in dir="ltr"."""
        root, _, manifest = built
        feed = next(f for f in manifest["feeds"] if f["name"] == "all")
        for kind in KINDS:
            for entry in _parsed(root, feed, kind).entries:
                html = entry.content[0].value
                arabic = any("\u0600" <= ch <= "\u06ff" for ch in entry.title)
                wrapper = '<div dir="rtl" lang="ar">' if arabic else '<div dir="ltr" lang="en">'
                assert html.startswith(wrapper), entry.title

    def test_seed_content_shows_source_and_photo_credit(self, built) -> None:
        """The source agency and photo credit are shown in the seed's content, with Arabic labels."""
        root, _, manifest = built
        feed = next(f for f in manifest["feeds"] if f["name"] == "ar-news")
        entry = _parsed(root, feed, "atom").entries[-1]
        assert "المصدر: تاس" in entry.content[0].value
        assert "الصورة: Creative Commons" in entry.content[0].value


class TestFiles:
    def test_manifest_lists_every_feed_with_paths_and_urls(self, built) -> None:
        """Each manifest entry's files exist, and its URLs are the base URL plus the path under output/."""
        root, _, manifest = built
        assert [
            f["name"] for f in manifest["feeds"]] == ["all", "all/language/ar", "all/language/en", "ar-news", "en-news", "podcast"]
        for feed in manifest["feeds"]:
            for kind in ("rss", "atom", "json"):
                path = feed["files"][kind]
                assert (root / path).is_file()
                assert "https://news.example.org/" + path.removeprefix("output/") == feed["urls"][kind]

    def test_json_feed_follows_version_1_1(self, built) -> None:
        """feed.json has the 1.1 version URL, its own feed_url, and every item's id, url, date and HTML."""
        root, _, manifest = built
        for feed in manifest["feeds"]:
            doc = json.loads((root / feed["files"]["json"]).read_text("utf-8"))
            assert doc["version"] == "https://jsonfeed.org/version/1.1"
            assert feed["urls"]["json"] == doc["feed_url"]
            assert feed["items"] == len(doc["items"])
            for item in doc["items"]:
                assert isinstance(item["id"], str) and item["id"]
                assert item["url"].startswith(("https://news.example.org/", "https://radio.example.net/"))
                assert datetime.fromisoformat(item["date_published"]).tzinfo is not None
                assert item["content_html"].startswith("<div dir=")

    def test_feeds_point_at_the_stylesheet_which_renders_in_the_feeds_direction(self, built) -> None:
        """Applying output/feed.xsl to a feed gives an HTML page in its direction with every entry."""
        root, _, manifest = built
        transform = etree.XSLT(etree.parse(str(root / "output/feed.xsl")))
        for feed in manifest["feeds"]:
            for kind in KINDS:
                path = root / feed["files"][kind]
                assert b'<?xml-stylesheet href="' in path.read_bytes()[:200]
                page = transform(etree.parse(str(path))).getroot()
                expected = "rtl" if feed["language"] == "ar" else "ltr"
                assert (expected, feed["items"]) == (page.get("dir"), len(page.findall(".//li")))

    def test_opml_lists_every_feed(self, built) -> None:
        """output/feeds.opml has one outline per feed, pointing at its RSS URL."""
        root, _, manifest = built
        opml = ET.parse(root / "output/feeds.opml").getroot()
        urls = [o.get("xmlUrl") for o in opml.iter("outline")]
        assert sorted(f["urls"]["rss"] for f in manifest["feeds"]) == sorted(urls)

    def test_every_entry_link_has_a_page(self, built) -> None:
        """Each entry's link on the site resolves to an HTML page written under output/ (the partner's episode links to its site)."""
        root, _, manifest = built
        for feed in manifest["feeds"]:
            for entry in _parsed(root, feed, "atom").entries:
                if entry.link.startswith("https://radio.example.net/"):
                    continue
                path = entry.link.removeprefix("https://news.example.org/")
                assert (root / "output" / path).is_file(), entry.link

    def test_golden_files(self, built, golden) -> None:
        """The feed files and the OPML list match tests/golden/feeds/ byte for byte."""
        root, _, manifest = built
        paths = [p for f in manifest["feeds"] for p in f["files"].values()]
        for path in [*paths, "output/feeds.opml"]:
            golden("feeds/" + path.removeprefix("output/"), (root / path).read_bytes())


class TestStability:
    def test_second_run_changes_nothing(self, built) -> None:
        """A rerun with nothing changed writes no file and leaves every modification time alone."""
        root, _, _ = built
        before = {p: p.stat().st_mtime_ns for p in (root / "output").rglob("*") if p.is_file()}
        report = run(load_publication(root), now=NOW.replace(hour=7))
        after = {p: p.stat().st_mtime_ns for p in (root / "output").rglob("*") if p.is_file()}
        assert report.changed_files == ()
        assert before == after

    def test_fresh_copy_gives_byte_identical_output(self, built, tmp_path: Path) -> None:
        """Running the job on another copy of the same publication gives the same bytes everywhere."""
        root, _, _ = built
        other = _copy(tmp_path)
        run(load_publication(other), now=NOW)
        assert _every_file(root) == _every_file(other)


def test_fixing_a_typo_keeps_every_id(tmp_path: Path) -> None:
    """After the seed's body is edited and the job reruns, the feed holds the same ids and the new text."""
    root = _copy(tmp_path)
    run(load_publication(root), now=NOW)
    feed = root / "output/ar-news/atom.xml"
    before = feedparser.parse(feed.read_bytes())
    seed = root / "feeds/ar-news" / SEED.name
    seed.write_text(seed.read_text("utf-8").replace("اجتماع مهيب", "اجتماع مهيب جدا"), "utf-8")
    run(load_publication(root), now=NOW.replace(day=2))
    after = feedparser.parse(feed.read_bytes())
    assert [e.id for e in before.entries] == [e.id for e in after.entries]
    assert "اجتماع مهيب جدا" in after.entries[-1].content[0].value
