"""Runs carry articles without their bodies, and take the last collection whole when no file changed.

A scheduled run over a large archive must not hold every body in memory nor
decode every cached article when nothing changed. Each test collects a real
publication on disk with a real state database, the way successive runs of
``masthead run`` do, and checks what a reader of the feeds would see: the
same articles, bodies included once given back, and every change still seen.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markupsafe import escape

import masthead.collect.gather
from masthead.collect import collect_publication
from masthead.collect.cache import Bodies
from masthead.config import load_publication
from masthead.pipeline import run
from masthead.records import Collection
from masthead.state import filecache
from masthead.state.db import open_store

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
PICTURE = b"\xff\xd8\xff\xe0" + b"JFIF picture " * 40


def collect(root: Path, now: datetime = NOW, *, lean: bool = True, filled: bool = False) -> Collection:
    pub = load_publication(root)
    with open_store(pub.state_dir) as store:
        collection = collect_publication(pub, store, now, lean=lean)
        if filled:
            bodies = Bodies(store)
            collection = Collection(articles=tuple(bodies.fill(collection.articles)),
                                    problems=collection.problems, new_ids=collection.new_ids,
                                    changed_ids=collection.changed_ids, drafts=tuple(bodies.fill(collection.drafts)))
    return collection


@pytest.fixture
def cache_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many file-cache rows the collector asks for, per query (the real query runs)."""
    counted: list[int] = []
    real = filecache.cached_many

    def counting(store, paths, **kwargs):
        counted.append(len(paths))
        return real(store, paths, **kwargs)
    monkeypatch.setattr(masthead.collect.gather.filecache, "cached_many", counting)
    return counted


@pytest.fixture
def linked_pub(tmp_path: Path) -> Path:
    """A small publication: one Markdown article showing a picture beside it and linking to a missing one."""
    root = tmp_path / "pub"
    feed = root / "feeds" / "news"
    (feed / "images").mkdir(parents=True)
    (root / "feeds" / "site.toml").write_text('title = "Lean"\nbase_url = "https://lean.example.org/"\n'
                                              'language = "en"\ntimezone = "UTC"\n', "utf-8")
    (feed / "feed.toml").write_text('title = "News"\n', "utf-8")
    (feed / "images" / "port.jpg").write_bytes(PICTURE)
    (feed / "port.md").write_text('---\ntitle: "The port reopens"\ndate: 2022-05-03\n---\n\n'
                                  "Ships moved again on Tuesday.\n\n![The quay](images/port.jpg)\n\n"
                                  "![The crane](images/crane.jpg)\n", "utf-8")
    (feed / "plain.txt").write_text("Grain prices fell\n\nPrices fell on 2 May 2022, traders said.\n", "utf-8")
    return root


class TestLeanCollection:
    def test_bodies_given_back_are_the_full_collection(self, sample_pub: Path, tmp_path: Path) -> None:
        """A lean collection whose bodies, summaries and slugs are read back equals a full one: same articles,
        same text."""
        other = tmp_path / "other"
        shutil.copytree(sample_pub, other)
        lean = collect(sample_pub)
        full = collect(other, lean=False)
        assert any(a.body_html for a in full.articles) and any(a.summary for a in full.articles)
        assert all(a.slug for a in full.articles)
        assert all(not a.body_html and not a.body_text and not a.summary and not a.slug
                   for a in lean.articles if a.origin.endswith(".txt"))
        assert collect(sample_pub, LATER, filled=True).articles == full.articles
        assert [str(p) for p in lean.problems] == [str(p) for p in full.problems]

    def test_article_linking_its_own_files_keeps_its_body(self, linked_pub: Path) -> None:
        """An article whose body links to the publication's files is carried whole (linking rewrites it)."""
        [linked] = [a for a in collect(linked_pub).articles if a.origin.endswith("port.md")]
        assert "https://lean.example.org/news/images/port.jpg" in linked.body_html


class TestKeptCollection:
    def test_unchanged_run_reads_no_cached_file(self, sample_pub: Path, cache_reads: list[int]) -> None:
        """With no file changed, the next run takes the last collection whole: not one file-cache row read."""
        first = collect(sample_pub)
        assert sum(cache_reads) >= 7
        cache_reads.clear()
        second = collect(sample_pub, LATER)
        assert cache_reads == []
        assert second.articles == first.articles
        assert second.drafts == first.drafts
        assert [str(p) for p in second.problems] == [str(p) for p in first.problems]
        assert (frozenset(), frozenset()) == (second.new_ids, second.changed_ids)

    def test_new_file_is_collected(self, sample_pub: Path) -> None:
        """A file added since the last run is collected, and reported new."""
        collect(sample_pub)
        (sample_pub / "feeds" / "en-news" / "late.txt").write_text(
            "Late news\n\nThe council met on 6 May 2022, officials said.\n", "utf-8")
        second = collect(sample_pub, LATER)
        [late] = [a for a in second.articles if a.origin.endswith("late.txt")]
        assert second.new_ids == {late.id}

    def test_collection_kept_after_a_change_is_the_one_made(self, sample_pub: Path, cache_reads: list[int]) -> None:
        """After a run that read a new file, the next unchanged run takes exactly what that run collected."""
        collect(sample_pub)
        (sample_pub / "feeds" / "ar-news" / "late.txt").write_text(
            "خبر متأخر\n\nاجتمع المجلس يوم 6 مايو 2022 وفق ما قال المسؤولون.\n", "utf-8")
        changed = collect(sample_pub, LATER)
        cache_reads.clear()
        kept = collect(sample_pub, LATER + timedelta(hours=1))
        assert cache_reads == []
        assert kept.articles == changed.articles
        assert kept.drafts == changed.drafts

    def test_each_run_gives_what_a_full_collection_gives(self, sample_pub: Path, tmp_path: Path) -> None:
        """Run after run (the last collection kept, taken whole or not), the lean collection is what collecting
        every file in full gives: through new, duplicate, undated and removed articles."""
        news = sample_pub / "feeds" / "en-news"
        steps = [
            lambda: None,
            lambda: (news / "late.txt").write_text("Late news\n\nThe council met on 6 May 2022.\n", "utf-8"),
            lambda: shutil.copy(news / "solar-record.md", news / "solar-again.md"),      # the same article twice
            lambda: (news / "undated.txt").write_text("No date here\n\nA line without any date.\n", "utf-8"),
            lambda: (news / "solar-again.md").unlink(),
            lambda: (news / "solar-record.md").unlink(),
        ]
        collect(sample_pub)
        for n, step in enumerate(steps, start=1):
            step()
            now = NOW + timedelta(hours=n)
            lean = collect(sample_pub, now, filled=True)
            reference = tmp_path / f"reference-{n}"
            shutil.copytree(sample_pub, reference)
            full = collect(reference, now, lean=False)
            assert lean.articles == full.articles
            assert lean.drafts == full.drafts
            assert [str(p) for p in lean.problems] == [str(p) for p in full.problems]

    def test_touched_file_collects_anew_with_the_same_articles(self, sample_pub: Path,
                                                               cache_reads: list[int]) -> None:
        """A file whose time changed (its bytes the same) is the one file looked up again; nothing else changes."""
        first = collect(sample_pub)
        wheat = sample_pub / "feeds" / "ar-news" / "2022" / "levant-wheat.txt"
        os.utime(wheat, ns=(0, 10**18))
        cache_reads.clear()
        second = collect(sample_pub, LATER)
        assert cache_reads == [1]
        assert second.articles == first.articles
        assert [str(p) for p in second.problems] == [str(p) for p in first.problems]

    def test_settings_change_collects_anew(self, sample_pub: Path) -> None:
        """A new base URL (settings are an input too) gives every article its new URL."""
        collect(sample_pub)
        site = sample_pub / "feeds" / "site.toml"
        site.write_text(site.read_text("utf-8").replace("https://news.example.org/", "https://other.example/"),
                        "utf-8")
        assert all(a.url.startswith("https://other.example/") for a in collect(sample_pub, LATER).articles
                   if "://" not in a.origin and a.feed != "podcast")

    def test_replaced_picture_changes_the_article(self, linked_pub: Path) -> None:
        """A picture replaced beside an unchanged article changes the article's hash: its feeds are rebuilt."""
        before = {a.origin: a.content_hash for a in collect(linked_pub).articles}
        (linked_pub / "feeds" / "news" / "images" / "port.jpg").write_bytes(PICTURE * 2)
        after = {a.origin: a.content_hash for a in collect(linked_pub, LATER).articles}
        assert after["feeds/news/port.md"] != before["feeds/news/port.md"]
        assert after["feeds/news/plain.txt"] == before["feeds/news/plain.txt"]

    def test_missing_picture_put_in_place_is_published(self, linked_pub: Path) -> None:
        """A link to a missing picture is a problem until the picture appears; then the next run publishes it."""
        first = collect(linked_pub)
        assert any("crane.jpg" in p.message and "does not exist" in p.message for p in first.problems)
        (linked_pub / "feeds" / "news" / "images" / "crane.jpg").write_bytes(PICTURE)
        second = collect(linked_pub, LATER)
        assert not any("crane.jpg" in p.message for p in second.problems)
        [port] = [a for a in second.articles if a.origin.endswith("port.md")]
        assert "output/news/images/crane.jpg" in {f.target for f in port.local_files}

    def test_damaged_kept_collection_collects_anew(self, sample_pub: Path) -> None:
        """A kept collection that cannot be read (another masthead's, a damaged row) is collected anew."""
        first = collect(sample_pub)
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir) as store, store.transaction():
            store.execute("UPDATE collected SET records = '[[\"not an article\"]]'")
        assert collect(sample_pub, LATER).articles == first.articles


class TestRuns:
    def test_unchanged_run_writes_the_same_feeds(self, sample_pub: Path) -> None:
        """Feeds and pages rendered from bodies read back are byte for byte those of a first run."""
        first = run(load_publication(sample_pub), now=NOW)
        output = sample_pub / "output"
        files = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}
        shutil.rmtree(output)
        again = run(load_publication(sample_pub), now=NOW)
        assert {p: p.read_bytes() for p in output.rglob("*") if p.is_file()} == files
        assert len(again.collection.articles) == len(first.collection.articles)

    def test_own_templates_see_every_field(self, sample_pub: Path) -> None:
        """A publication's article page template reads the slug, summary and body a run carries without."""
        (sample_pub / "templates" / "page").mkdir(parents=True)
        (sample_pub / "templates" / "page" / "article.html").write_text(
            "<p id=slug>{{ article.slug }}</p><p id=summary>{{ article.summary }}</p>\n",
            encoding="utf-8")
        run(load_publication(sample_pub), now=NOW)
        paged = [a for a in collect(sample_pub, LATER, lean=False).articles
                 if a.url.startswith("https://news.example.org/") and a.url.endswith(".html")]
        assert paged
        for article in paged:
            page = sample_pub / "output" / article.url.removeprefix("https://news.example.org/")
            html = page.read_text(encoding="utf-8")
            assert f"<p id=slug>{escape(article.slug)}</p><p id=summary>{escape(article.summary)}</p>" in html, page


def _article_files(feed: Path, rng: random.Random, n: int) -> Callable[[], object]:
    """One edit a writer makes to a feed folder between runs (``n`` keeps names apart).

    Now and then one that only a whole collect can settle: a duplicate, a document nothing links to.
    """
    day = 1 + n % 27
    texts = sorted(p for p in feed.rglob("*.txt"))
    markdown = sorted(p for p in feed.rglob("*.md"))
    steps: list[Callable[[], object]] = [
        lambda: (feed / f"new-{n}.txt").write_text(f"Council report {n}\n\nThe council met on {day} May 2022.\n",
                                                    "utf-8"),
        lambda: (feed / "sub").mkdir(exist_ok=True) or (feed / "sub" / f"deep-{n}.txt").write_text(
            f"Harbour works {n}\n\nWorks began on {day} June 2022.\n", "utf-8"),
        lambda: (feed / f"undated-{n}.txt").write_text(f"No date {n}\n\nA line without any date.\n", "utf-8"),
        lambda: (feed / f"draft-{n}.md").write_text(f"---\ntitle: Draft {n}\ndate: 2022-05-0{1 + n % 9}\n"
                                                     "draft: true\n---\n\nNot yet.\n", "utf-8"),
        lambda: (feed / f"links-{n}.md").write_text(
            f"---\ntitle: Links {n}\ndate: 2022-05-0{1 + n % 9}\n---\n\nSee [the port](port.md) and "
            "![a picture](images/port.jpg).\n", "utf-8"),
        lambda: (feed / f"bad-{n}.md").write_text("---\ntitle: [unclosed\n---\n\nBody.\n", "utf-8"),
    ]
    if texts:
        victim = rng.choice(texts)
        steps += [
            lambda: victim.write_text(victim.read_text("utf-8") + f"\nOne more line {n}.\n", "utf-8"),
            lambda: os.utime(victim, ns=(0, 10**18 + n)),                    # touched, the same bytes
            lambda: victim.unlink(),
        ]
    if markdown:
        victim_md = rng.choice(markdown)
        steps += [lambda: victim_md.write_text(victim_md.read_text("utf-8").replace("date: 2022-05-0",
                                                                                      "date: 2022-06-0"), "utf-8"),
                  lambda: victim_md.unlink()]
    whole_only: list[Callable[[], object]] = [
        lambda: (feed / f"same-{n}.txt").write_text("Grain prices fell\n\nPrices fell on 2 May 2022, traders "
                                                     "said again.\n", "utf-8"),    # a duplicate of plain.txt
        lambda: (feed / f"paper-{n}.pdf").write_bytes(b"%PDF-1.4 paper"),
    ]
    settled = sorted([*feed.glob("same-*"), *feed.glob("paper-*")])
    if settled and rng.random() < 0.3:
        return rng.choice(settled).unlink          # the duplicate or the document goes again
    return rng.choice(whole_only if rng.random() < 0.1 else steps)


class TestPatchedRuns:
    @pytest.mark.parametrize("seed", [1, 2, 3, 4])
    def test_patched_collection_is_the_whole_collection(self, linked_pub: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
        """Run after run of random edits (new, changed, touched, removed, linked, duplicate, draft, undated
        and broken articles, documents), a run that patches the last collection gives exactly what collecting
        the whole publication gives: articles, bodies, drafts, problems, and which articles are new or changed."""
        patched: list[bool] = []
        real = masthead.collect.gather.patch

        def spying(*args, **kwargs):
            outcome = real(*args, **kwargs)
            patched.append(outcome is not None)
            return outcome
        monkeypatch.setattr(masthead.collect.gather, "patch", spying)
        rng = random.Random(seed)
        feed = linked_pub / "feeds" / "news"
        collect(linked_pub)
        for n in range(1, 21):
            for _ in range(rng.choice([1, 1, 1, 2])):
                _article_files(feed, rng, n)()
            now = NOW + timedelta(hours=n)
            reference = tmp_path / f"reference-{n}"
            shutil.copytree(linked_pub, reference)          # the same state: the same new and changed ids
            lean = collect(linked_pub, now, filled=True)
            full = collect(reference, now, lean=False)
            assert lean.articles == full.articles
            assert lean.drafts == full.drafts
            assert [str(p) for p in lean.problems] == [str(p) for p in full.problems]
            assert (lean.new_ids, lean.changed_ids) == (full.new_ids, full.changed_ids)
            shutil.rmtree(reference)
        assert patched.count(True) >= 5          # most runs patched; the others collected whole

    def test_new_article_beside_a_large_archive_reads_one_file(self, sample_pub: Path,
                                                               cache_reads: list[int]) -> None:
        """A new article is the one file looked up: the others' articles come from the last collection."""
        collect(sample_pub)
        (sample_pub / "feeds" / "en-news" / "late.txt").write_text(
            "Late news\n\nThe council met on 6 May 2022, officials said.\n", "utf-8")
        cache_reads.clear()
        second = collect(sample_pub, LATER)
        assert cache_reads == [1]
        assert [a.origin for a in second.articles if a.id in second.new_ids] == ["feeds/en-news/late.txt"]
