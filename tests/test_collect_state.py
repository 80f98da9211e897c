"""The collector's SQLite state: what was seen when, what changed, and files not read twice.

Every test collects a copy of the sample publication more than once with a
real state database (``.masthead/state.db``), the way successive scheduled
runs of ``masthead run`` do, each with its own ``now``.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import masthead.collect.reading
from masthead.collect import collect_publication, dedupe
from masthead.config import load_publication
from masthead.records import Collection
from masthead.state.db import open_store, stamp
from tests.factories import article as make_article

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
MUCH_LATER = NOW + timedelta(days=30)
FEED = "feeds/ar-news"
WHEAT = f"{FEED}/2022/levant-wheat.txt"


def collect(root: Path, now: datetime = NOW) -> Collection:
    pub = load_publication(root)
    with open_store(pub.state_dir) as store:
        return collect_publication(pub, store, now)


def state_rows(root: Path) -> dict[str, sqlite3.Row]:
    db = sqlite3.connect(load_publication(root).state_dir / "state.db")
    db.row_factory = sqlite3.Row
    try:
        return {row["id"]: row for row in db.execute("SELECT * FROM articles")}
    finally:
        db.close()


def by_origin(collection: Collection, origin: str):
    [article] = [a for a in collection.articles if a.origin == origin]
    return article


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The origins the collector parses, in order: the real reader is called, and counted."""
    seen: list[str] = []
    real = masthead.collect.reading.read_articles

    def counting(data, origin, *args, **kwargs):
        seen.append(origin)
        return real(data, origin, *args, **kwargs)

    monkeypatch.setattr(masthead.collect.reading, "read_articles", counting)
    return seen


class TestRemembering:
    def test_every_article_is_remembered_with_first_seen_and_hash(self, sample_pub: Path) -> None:
        """After a first run the state holds each article once, first seen at the run's now, with its hash."""
        collection = collect(sample_pub)
        rows = state_rows(sample_pub)
        assert {a.id for a in collection.articles} == set(rows)
        for article in collection.articles:
            row = rows[article.id]
            assert (stamp(NOW), stamp(NOW)) == (row["first_seen"], row["changed"])
            assert article.content_hash == row["content_hash"]
            assert (article.feed, article.origin) == (row["feed"], row["origin"])

    def test_first_run_reports_every_article_new(self, sample_pub: Path) -> None:
        """On the first run every article is new and none is changed."""
        collection = collect(sample_pub)
        assert {a.id for a in collection.articles} == collection.new_ids
        assert frozenset() == collection.changed_ids

    def test_state_lives_outside_output(self, sample_pub: Path) -> None:
        """The database is under the hidden state folder, never under output/."""
        collect(sample_pub)
        pub = load_publication(sample_pub)
        database = pub.state_dir / "state.db"
        assert database.is_file()
        assert pub.output_dir not in database.parents
        assert pub.state_dir.name.startswith(".")


class TestUnchangedFiles:
    def test_second_run_parses_nothing(self, sample_pub: Path, reads: list[str]) -> None:
        """With nothing changed, a second run parses no file and gives the same articles, none new."""
        first = collect(sample_pub)
        assert len(reads) >= 7
        reads.clear()
        second = collect(sample_pub, LATER)
        assert reads == []
        assert first.articles == second.articles
        assert (frozenset(), frozenset()) == (second.new_ids, second.changed_ids)

    def test_second_run_does_not_read_the_bytes(self, sample_pub: Path) -> None:
        """Files overwritten with same-size junk, mtime kept, still give the first run's articles: not read."""
        first = collect(sample_pub)
        for path in (sample_pub / "feeds").rglob("*"):
            if path.is_file() and path.name not in ("feed.toml", "site.toml"):
                before = path.stat()
                path.chmod(before.st_mode | stat.S_IWUSR)
                path.write_bytes(b"\x00" * before.st_size)  # a binary file, if it were read
                os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        second = collect(sample_pub, LATER)
        assert first.articles == second.articles
        assert second.problems == ()

    def test_touched_file_is_hashed_not_parsed(self, sample_pub: Path, reads: list[str]) -> None:
        """A file whose mtime changed but whose bytes did not is recognised by its hash and not parsed again."""
        first = collect(sample_pub)
        os.utime(sample_pub / WHEAT, ns=(0, 10**18))
        reads.clear()
        second = collect(sample_pub, LATER)
        assert reads == []
        assert first.articles == second.articles

    def test_settings_change_reads_again(self, sample_pub: Path, reads: list[str]) -> None:
        """A new base URL makes cached records stale: every file is read again and URLs follow."""
        collect(sample_pub)
        site = sample_pub / "feeds" / "site.toml"
        site.write_text(site.read_text("utf-8").replace("https://news.example.org/",
                                                        "https://other.example/"), "utf-8")
        reads.clear()
        second = collect(sample_pub, LATER)
        assert WHEAT in reads
        assert by_origin(second, WHEAT).url.startswith("https://other.example/ar-news/")


class TestChanges:
    def test_title_typo_fix_keeps_id_and_is_changed_not_new(self, sample_pub: Path, reads: list[str]) -> None:
        """Fixing a word in a title keeps the article's id; it is reported changed, and only that file is read."""
        first = by_origin(collect(sample_pub), WHEAT)
        path = sample_pub / WHEAT
        text = path.read_text("utf-8")
        path.write_text(text.replace("تقديرات أولية", "تقديرات أوليّة", 1), "utf-8")
        reads.clear()
        collection = collect(sample_pub, LATER)
        edited = by_origin(collection, WHEAT)
        assert reads == [WHEAT]
        assert first.id == edited.id
        assert first.title != edited.title and "أوليّة" in edited.title
        assert frozenset({first.id}) == collection.changed_ids
        assert frozenset() == collection.new_ids
        row = state_rows(sample_pub)[first.id]
        assert (stamp(NOW), stamp(LATER)) == (row["first_seen"], row["changed"])
        assert edited.content_hash == row["content_hash"] != first.content_hash

    def test_new_file_is_new(self, sample_pub: Path) -> None:
        """A file added between runs gives the only new article."""
        collect(sample_pub)
        (sample_pub / FEED / "late.txt").write_text(
            "وصول شحنة جديدة من القمح إلى الميناء.\nوذكرت الهيئة في 8 مايو 2022 أن الشحنة وصلت.\n", "utf-8")
        collection = collect(sample_pub, LATER)
        late = by_origin(collection, f"{FEED}/late.txt")
        assert frozenset({late.id}) == collection.new_ids
        assert frozenset() == collection.changed_ids
        assert stamp(LATER) == state_rows(sample_pub)[late.id]["first_seen"]

    def test_removed_file_is_forgotten_by_the_file_cache(self, sample_pub: Path) -> None:
        """A deleted file no longer gives an article, and its cached read is dropped."""
        first = collect(sample_pub)
        (sample_pub / WHEAT).unlink()
        second = collect(sample_pub, LATER)
        assert by_origin(first, WHEAT).id not in {a.id for a in second.articles}
        db = sqlite3.connect(load_publication(sample_pub).state_dir / "state.db")
        try:
            assert db.execute("SELECT path FROM files WHERE path = ?", (WHEAT,)).fetchall() == []
        finally:
            db.close()


class TestUndatedArticles:
    UNDATED = "مجلس الإدارة يعقد اجتماعه الدوري.\nناقش المجلس خطة العمل للعام المقبل دون ذكر موعد.\n"

    def test_undated_article_keeps_its_first_seen_time(self, sample_pub: Path) -> None:
        """An article with no date is dated when first collected, and keeps that date on later runs, even after an edit."""
        path = sample_pub / FEED / "undated.txt"
        path.write_text(self.UNDATED, "utf-8")
        first = by_origin(collect(sample_pub, NOW), f"{FEED}/undated.txt")
        assert (first.published, first.precision) == (NOW, "second")
        assert by_origin(collect(sample_pub, LATER), f"{FEED}/undated.txt").published == NOW
        path.write_text(self.UNDATED.replace("الدوري", "الدوري الثاني"), "utf-8")
        edited = collect(sample_pub, MUCH_LATER)
        assert by_origin(edited, f"{FEED}/undated.txt").published == NOW
        assert first.id in edited.changed_ids


class TestDuplicates:
    TEXT = ("ارتفاع صادرات التمور إلى مستوى قياسي.\n"
            "أعلنت الهيئة العامة للإحصاء في 3 مايو 2022 أن صادرات التمور بلغت مستوى قياسيا.\n")

    def test_same_article_as_text_and_json_record_is_kept_once(self, sample_pub: Path) -> None:
        """The same article as a .txt file and as a JSON record gives one record and a problem naming both files."""
        (sample_pub / FEED / "dates-export.txt").write_text(self.TEXT, "utf-8")
        (sample_pub / FEED / "wire-copy.json").write_text(
            '{"title": "ارتفاع صادرات التمور إلى مستوى قياسي", "date": "2022-05-03", '
            '"body": "أعلنت الهيئة العامة للإحصاء أن صادرات التمور بلغت مستوى قياسيا."}', "utf-8")
        collection = collect(sample_pub)
        titles = [a.title for a in collection.articles]
        assert titles.count("ارتفاع صادرات التمور إلى مستوى قياسي") == 1
        assert by_origin(collection, f"{FEED}/dates-export.txt").slug + ".txt" == "dates-export.txt"
        [problem] = [p for p in collection.problems if p.where == f"{FEED}/wire-copy.json"]
        assert f"the same article as {FEED}/dates-export.txt" in problem.message
        assert "kept once" in problem.message

    def test_same_title_on_another_day_is_not_a_duplicate(self, sample_pub: Path) -> None:
        """Two articles with one headline on different days are both kept (a weekly column, say)."""
        (sample_pub / FEED / "dates-export.txt").write_text(self.TEXT, "utf-8")
        (sample_pub / FEED / "dates-export-next.txt").write_text(
            self.TEXT.replace("3 مايو", "10 مايو"), "utf-8")
        collection = collect(sample_pub)
        titles = [a.title for a in collection.articles]
        assert titles.count("ارتفاع صادرات التمور إلى مستوى قياسي") == 2

    def test_titles_whose_keys_share_a_hash_are_both_kept(self) -> None:
        """Titles are compared by their key's hash: two titles of one hash on one day are still told apart."""
        day = datetime(2022, 5, 3, 12, tzinfo=UTC)
        first, second, again = (make_article(n, title=title, published=day) for n, title in
                                ((1, "ارتفاع صادرات التمور"), (2, "انخفاض أسعار القمح"), (3, "ارتفاع صادرات التمور.")))
        same_hash = {"ارتفاع صادرات التمور": 7, "انخفاض أسعار القمح": 7, "ارتفاع صادرات التمور.": 7}
        kept, problems = dedupe([first, second, again], same_hash)
        assert [first, second] == kept
        assert ["the same article as feeds/ar-news/item-1.txt (same title): kept once"] == [p.message for p in problems]

    def test_same_upstream_guid_twice_is_kept_once(self, sample_pub: Path) -> None:
        """An upstream guid seen twice (in one feed and again in a second) gives one record and a problem each, naming the item."""
        item = ("<item><title>{title}</title><link>https://agency.example/1</link>"
                "<guid>https://agency.example/1</guid><pubDate>Fri, 06 May 2022 10:00:00 +0300</pubDate>"
                "<description>نص الخبر</description></item>")
        rss = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Agency</title>'
               "<link>https://agency.example/</link><description>d</description>{items}</channel></rss>")
        (sample_pub / FEED / "agency.xml").write_text(
            rss.format(items=item.format(title="خبر الوكالة") + item.format(title="خبر الوكالة (محدث)")), "utf-8")
        (sample_pub / FEED / "agency-mirror.rss").write_text(
            rss.format(items=item.format(title="خبر الوكالة")), "utf-8")
        collection = collect(sample_pub)
        upstream = [a for a in collection.articles if a.id == "https://agency.example/1"]
        assert len(upstream) == 1
        assert f"{FEED}/agency-mirror.rss" == upstream[0].origin  # sorted file order: the first one read
        duplicate_problems = [p for p in collection.problems if "kept once" in p.message]
        assert [f"{FEED}/agency.xml (item “خبر الوكالة”)", f"{FEED}/agency.xml (item “خبر الوكالة (محدث)”)"] == [
            p.where for p in duplicate_problems]
        assert upstream[0].updated == upstream[0].published  # pubDate only: feedparser's "updated" alias is not a later edit
