"""The whole archive (RFC 5005): a reader following the links from each current feed finds every article once.

A small publication (limit 4) gets three times its limit in articles, then one
more, then one dated in the past; the archive pages are read back the way a
reader does, with feedparser (RSS, Atom) and json (JSON Feed's next_url).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from masthead.config import load_publication
from masthead.pipeline import RunReport, run

LIMIT = 4
BASE = "https://news.example.org/"
NOW = datetime(2024, 3, 1, 6, tzinfo=UTC)
START = datetime(2024, 1, 1, 9, tzinfo=UTC)


def write_article(root: Path, n: int, day: int | None = None) -> None:
    when = START + timedelta(days=n if day is None else day)
    (root / "feeds/news" / f"story-{n:02d}.md").write_text(
        f"---\ntitle: Story {n}\ndate: {when.isoformat()}\nid: urn:story:{n}\n---\n\nWhat happened, part {n}.\n",
        "utf-8")


@pytest.fixture
def publication(tmp_path: Path) -> Path:
    """A publication whose feed keeps 4 entries, with 12 articles, and an aggregate feed of it."""
    (tmp_path / "feeds/news").mkdir(parents=True)
    (tmp_path / "feeds/all").mkdir()
    (tmp_path / "feeds/site.toml").write_text(f'title = "News"\nbase_url = "{BASE}"\n', "utf-8")
    (tmp_path / "feeds/news/feed.toml").write_text(f'title = "News"\nlimit = {LIMIT}\n', "utf-8")
    (tmp_path / "feeds/all/feed.toml").write_text(f'title = "All"\nlimit = {LIMIT + 1}\ninclude = ["news"]\n',
                                                  "utf-8")
    for n in range(1, 3 * LIMIT + 1):
        write_article(tmp_path, n)
    return tmp_path


def build(root: Path, now: datetime = NOW) -> RunReport:
    return run(load_publication(root), now=now)


def local(root: Path, url: str) -> Path:
    assert url.startswith(BASE), url
    return root / "output" / url.removeprefix(BASE)


def walk_xml(root: Path, path: Path) -> list[str]:
    """Entry ids of the document at ``path`` and of every prev-archive document behind it."""
    ids: list[str] = []
    seen: set[Path] = set()
    while path not in seen:
        seen.add(path)
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        ids += [entry.id for entry in parsed.entries]
        older = [link.href for link in parsed.feed.get("links", []) if link.rel == "prev-archive"]
        if not older:
            break
        path = local(root, older[0])
    return ids


def walk_json(root: Path, path: Path) -> list[str]:
    """Item ids of the JSON Feed at ``path`` and of every next_url page after it."""
    ids: list[str] = []
    seen: set[Path] = set()
    while path not in seen:
        seen.add(path)
        doc = json.loads(path.read_text("utf-8"))
        ids += [item["id"] for item in doc["items"]]
        if "next_url" not in doc:
            break
        path = local(root, doc["next_url"])
    return ids


def manifest(root: Path) -> dict[str, dict]:
    feeds = json.loads((root / "output/manifest.json").read_text("utf-8"))["feeds"]
    return {feed["name"]: feed for feed in feeds}


def full_pages(root: Path) -> dict[str, bytes]:
    """Every file of every full archive page the manifest lists -> its bytes."""
    return {path: (root / path).read_bytes() for feed in manifest(root).values()
            for page in feed["archives"] if page["full"] for path in page["files"].values()}


class TestFollowingTheLinks:
    def test_every_article_exactly_once_from_each_current_feed(self, publication: Path) -> None:
        """From rss.xml, atom.xml and feed.json of both feeds, the links lead to all 12 articles, each once."""
        build(publication)
        expected = Counter(f"urn:story:{n}" for n in range(1, 3 * LIMIT + 1))
        for name, feed in manifest(publication).items():
            for kind, walk in (("rss", walk_xml), ("atom", walk_xml), ("json", walk_json)):
                assert expected == Counter(walk(publication, publication / feed["files"][kind])), (name, kind)

    def test_current_feed_holds_the_newest_and_links_its_newest_archive(self, publication: Path) -> None:
        """The current Atom feed has the 4 newest stories and a prev-archive link to the newest archive page."""
        build(publication)
        feed = manifest(publication)["news"]
        parsed = feedparser.parse((publication / feed["files"]["atom"]).read_bytes())
        assert [f"Story {n}" for n in (12, 11, 10, 9)] == [e.title for e in parsed.entries]
        older = [link.href for link in parsed.feed.links if link.rel == "prev-archive"]
        assert [feed["archives"][-1]["urls"]["atom"]] == older

    def test_archive_pages_are_marked_and_link_both_ways(self, publication: Path) -> None:
        """Each archive page carries fh:archive, a current link, and prev/next-archive to its neighbours."""
        build(publication)
        pages = manifest(publication)["news"]["archives"]
        assert [(1, 4, True), (2, 4, True), (3, 0, False)] == [(p["page"], p["items"], p["full"]) for p in pages]
        for number, page in enumerate(pages, start=1):
            text = (publication / page["files"]["rss"]).read_text("utf-8")
            assert "<fh:archive/>" in text
            rels = {link.rel: link.href for link in feedparser.parse(text.encode()).feed.links}
            assert f"{BASE}news/rss.xml" == rels["current"]
            assert (pages[number - 2]["urls"]["rss"] if number > 1 else None) == rels.get("prev-archive")
            assert (pages[number]["urls"]["rss"] if number < len(pages) else None) == rels.get("next-archive")


class TestFullPagesNeverChange:
    def test_one_new_article_leaves_every_full_page_byte_identical(self, publication: Path) -> None:
        """A 13th story changes the current feeds and the newest page, and not one byte of a full page."""
        build(publication)
        before = full_pages(publication)
        write_article(publication, 3 * LIMIT + 1)
        report = build(publication, NOW + timedelta(hours=1))
        assert before == {path: (publication / path).read_bytes() for path in before}
        assert not set(before) & set(report.changed_files)       # not even rewritten with the same bytes
        assert "output/news/rss.xml" in report.changed_files
        assert "output/news/archive/3/rss.xml" in report.changed_files
        expected = Counter(f"urn:story:{n}" for n in range(1, 3 * LIMIT + 2))
        assert expected == Counter(walk_json(publication, publication / "output/news/feed.json"))

    def test_an_article_dated_in_the_past_moves_no_shelved_one(self, publication: Path) -> None:
        """A story dated before all others is shelved on the newest page; full pages and page order stay."""
        build(publication)
        before = full_pages(publication)
        write_article(publication, 99, day=-30)
        build(publication, NOW + timedelta(hours=1))
        assert before == {path: (publication / path).read_bytes() for path in before}
        newest = manifest(publication)["news"]["archives"][-1]
        doc = json.loads((publication / newest["files"]["json"]).read_text("utf-8"))
        assert ["urn:story:99"] == [item["id"] for item in doc["items"]]

    def test_a_run_with_nothing_new_writes_nothing(self, publication: Path) -> None:
        """The second run of the same articles changes no file, archive pages included."""
        build(publication)
        assert () == build(publication, NOW + timedelta(hours=1)).changed_files

    def test_pages_fill_up_then_close(self, publication: Path) -> None:
        """Four more stories fill page 3, which then links page 4 (new and empty) and never changes again."""
        build(publication)
        for n in range(3 * LIMIT + 1, 4 * LIMIT + 1):
            write_article(publication, n)
        build(publication, NOW + timedelta(hours=1))
        pages = manifest(publication)["news"]["archives"]
        assert [(3, 4, True), (4, 0, False)] == [(p["page"], p["items"], p["full"]) for p in pages[2:]]
        closed = full_pages(publication)
        write_article(publication, 50)
        build(publication, NOW + timedelta(hours=2))
        assert closed == full_pages(publication)

    def test_a_deleted_article_leaves_its_page(self, publication: Path) -> None:
        """Deleting a shelved story takes it off its page; the other pages keep their articles."""
        build(publication)
        (publication / "feeds/news/story-02.md").unlink()
        build(publication, NOW + timedelta(hours=1))
        expected = Counter(f"urn:story:{n}" for n in range(1, 3 * LIMIT + 1) if n != 2)
        assert expected == Counter(walk_xml(publication, publication / "output/news/atom.xml"))
        assert [3, 4, 0] == [p["items"] for p in manifest(publication)["news"]["archives"]]
