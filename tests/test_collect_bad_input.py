"""Bad input is a problem naming the file, never a crash: every good article beside it is still collected.

Each case drops one bad file into the sample publication's ``feeds/ar-news/``
(beside the seed and the other good articles) and collects the whole
publication with a real state database, the way ``masthead run`` does.
"""

from __future__ import annotations

import errno
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masthead.cli import main
from masthead.collect import reading
from masthead.collect.gather import MAX_FILE_BYTES, collect_publication, read_articles
from masthead.config import load_publication
from masthead.records import Article, Collection, Problem
from masthead.state.db import open_store

from .conftest import ROOT

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
FEED = "feeds/ar-news"
ILLEGAL = ("\x0b", "\x0c", "\ufffe", "\x00", "\x1f")
ACTIVE = ("<script", "onclick", "onerror", "javascript:", "alert(")

# Latin-1 French: not UTF-8, and Windows-1256 would read it as Latin letters, not Arabic.
LATIN1 = "Le café crème coûte très cher à Genève, déclare-t-il.\n".encode("latin-1")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8

# name -> (bytes, words the problem must contain)
FATAL_CASES: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"", "empty"),
    "blank-lines.txt": (b" \r\n\n\t\n", "empty"),
    "photo.txt": (PNG, "binary"),
    "nul-inside.md": ("---\ntitle: عنوان\n---\nنص\x00 المقال\n".encode(), "binary"),
    "latin-1.txt": (LATIN1, "not valid UTF-8"),
    "noise.txt": (bytes(range(1, 256)) * 4, "not valid UTF-8"),
    "broken-yaml.md": ("---\ntitle: [عنوان\ndate: 2022-05-06\n---\nنص\n".encode(), "not valid YAML"),
    "number.json": (b"42", "wrong shape"),
    "cut-off.json": ('{"title": "عنوان", "body": '.encode(), "not valid JSON"),
    "no-fields.json": (b'{"name": "x"}', "no 'title'"),
    "nested.json": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "huge-number.json": (b'{"title": "x", "body": "y", "date": ' + b"9" * 5000 + b"}", "4300 digits"),
    "nested-yaml.md": (b"---\na: " + b"[" * 100_000 + b"]" * 100_000 + b"\n---\nbody\n", "nested too deeply"),
}

CONTROL_CASES = {
    "ctrl.txt": "عنوان\x0bالخبر\x0c مع\ufffe تحكم.\n\nنص\x0b المقال\x1f في 6 مايو 2022\ufffe.\n\n"
                "المصدر: وكالة\x0c الأنباء\n",
    "ctrl.md": "---\ntitle: \"عنوان\x0bالخبر\x0c مع\ufffe تحكم\"\ndate: 2022-05-06\n"
               "source: \"وكالة\x0c الأنباء\"\ntags: [\"وسم\x0b\"]\n---\nنص\x0b المقال\x1f هنا\ufffe.\n",
    "ctrl.json": '{"title": "عنوان\x0bالخبر\x0c مع\ufffe تحكم", "date": "2022-05-06", '
                 '"source": "وكالة\\u000c الأنباء", "body": "نص\\u000b المقال\x1f هنا\\ufffe."}',
}

LONG_HTML = "<p>" + "فقرة طويلة من نص الخبر. " * 400 + "</p>\n"
ACTIVE_CASES = {
    "script.md": "---\ntitle: سكربت\ndate: 2022-05-06\n---\n<script>alert(1)</script>\n\nنص سليم <b>عريض</b>.\n",
    "handler.md": f"---\ntitle: معالج\ndate: 2022-05-06\n---\n{LONG_HTML}<p onclick=\"alert(1)\">نص سليم</p>\n",
    "js-link.json": '{"title": "رابط", "date": "2022-05-06", "content_html": "'
                    + LONG_HTML.replace("\n", "") + '<a href=\\"JavaScript:alert(1)\\">نص سليم</a>"}',
    "img.md": "---\ntitle: صورة\ndate: 2022-05-06\n---\n<img src=\"https://x.org/a.jpg\" "
              "onerror=\"alert(1)\" alt=\"نص سليم\">\n",
}


def collect(root: Path, state: Path | None = None) -> Collection:
    pub = load_publication(root)
    with open_store(state or pub.state_dir) as store:
        return collect_publication(pub, store, NOW)


def feed_ids(collection: Collection, origin_prefix: str = FEED) -> set[str]:
    return {a.id for a in collection.articles if a.origin.startswith(origin_prefix + "/")}


def problems_for(collection: Collection, origin: str) -> list[Problem]:
    return [p for p in collection.problems if p.where == origin]


def only_article(collection: Collection, origin: str) -> Article:
    [article] = [a for a in collection.articles if a.origin == origin]
    return article


@pytest.fixture
def good_ids(sample_pub: Path, tmp_path: Path) -> set[str]:
    """The ids the sample's ar-news feed gives with no bad file in it (state kept apart)."""
    ids = feed_ids(collect(sample_pub, tmp_path / "baseline-state"))
    assert len(ids) >= 6
    return ids


class TestUnreadableFiles:
    @pytest.mark.parametrize("name", sorted(FATAL_CASES))
    def test_bad_file_is_a_problem_and_the_rest_is_collected(
            self, name: str, sample_pub: Path, good_ids: set[str]) -> None:
        """The bad file gives one fatal problem naming it and saying why; the good articles all come out."""
        data, words = FATAL_CASES[name]
        (sample_pub / FEED / name).write_bytes(data)
        collection = collect(sample_pub)
        [problem] = problems_for(collection, f"{FEED}/{name}")
        assert problem.fatal
        assert words in problem.message
        assert good_ids <= feed_ids(collection)
        assert not [a for a in collection.articles if a.origin == f"{FEED}/{name}"]

    def test_file_over_the_size_limit(self, sample_pub: Path, good_ids: set[str]) -> None:
        """A 50 MB article file is not read; the problem gives its size and the limit."""
        path = sample_pub / FEED / "huge.txt"
        chunk = ("نص طويل جدا في 6 مايو 2022 " * 100 + "\n").encode() * 100
        with path.open("wb") as out:
            out.write("مقال ضخم.\n\n".encode())
            while out.tell() + len(chunk) <= 50 * 2**20:
                out.write(chunk)
            out.write(b" " * (50 * 2**20 - out.tell()))
        assert path.stat().st_size == 50 * 2**20
        assert MAX_FILE_BYTES < 50 * 2**20
        collection = collect(sample_pub)
        [problem] = problems_for(collection, f"{FEED}/huge.txt")
        assert problem.fatal
        assert "50 MB" in problem.message and "10 MB" in problem.message
        assert good_ids <= feed_ids(collection)

    def test_file_that_cannot_be_read(self, sample_pub: Path, good_ids: set[str], monkeypatch) -> None:
        """A file whose reading fails (EIO from a failing disk) is a problem, not a crash."""
        broken = sample_pub / FEED / "unreadable.txt"
        broken.write_text("نص.\n", encoding="utf-8")

        def failing_open(path, *args, **kwargs):
            if str(path).endswith("unreadable.txt"):
                raise OSError(errno.EIO, "Input/output error")
            return open(path, *args, **kwargs)

        monkeypatch.setattr(reading, "open", failing_open, raising=False)   # the reader's open(), as a disk fails
        collection = collect(sample_pub)
        [problem] = problems_for(collection, f"{FEED}/unreadable.txt")
        assert problem.fatal
        assert problem.message.startswith("cannot read it (Input/output error)")
        assert good_ids <= feed_ids(collection)

    def test_unknown_file_kind_is_skipped_with_a_note(self, sample_pub: Path, good_ids: set[str]) -> None:
        """A file masthead has no reader for is named, with the kinds it reads."""
        (sample_pub / FEED / "notes.docx").write_bytes(PNG)
        collection = collect(sample_pub)
        [problem] = problems_for(collection, f"{FEED}/notes.docx")
        assert "'.docx' files are not articles" in problem.message and ".md" in problem.message
        assert good_ids <= feed_ids(collection)


class TestPartlyBadFiles:
    def test_json_list_with_one_bad_record(self, sample_pub: Path, good_ids: set[str]) -> None:
        """The good records of a JSON list are collected; the bad one is a problem giving its index."""
        (sample_pub / FEED / "batch.json").write_text(
            '[{"title": "الأول", "body": "نص الخبر الأول.", "date": "2022-05-01"},\n'
            ' "not an object",\n'
            ' {"title": ["قائمة"], "body": "نص"},\n'
            ' {"title": "الأخير", "body": "نص الخبر الأخير.", "date": "2022-05-02"}]', "utf-8")
        collection = collect(sample_pub)
        titles = {a.title for a in collection.articles if a.origin == f"{FEED}/batch.json"}
        assert {"الأول", "الأخير"} == titles
        messages = [p.message for p in problems_for(collection, f"{FEED}/batch.json")]
        assert len(messages) == 2
        assert messages[0].startswith("record [1]: expected an object")
        assert messages[1].startswith("record [2]: key 'title' must be a string")
        assert good_ids <= feed_ids(collection)

    def test_unparseable_urls(self, sample_pub: Path, good_ids: set[str]) -> None:
        """A url or image that cannot be parsed ("http://[::1") is noted and replaced or left out; the article stays."""
        (sample_pub / FEED / "bad-url.json").write_text(
            '{"title": "رابط معطوب", "date": "2022-05-06", "body": "نص", '
            '"url": "http://[::1", "image": "https://[bad/a.jpg"}', "utf-8")
        collection = collect(sample_pub)
        article = only_article(collection, f"{FEED}/bad-url.json")
        assert article.url == "https://news.example.org/ar-news/bad-url.html"
        assert article.image is None
        assert len([p for p in article.problems if "[" in p]) == 2
        assert good_ids <= feed_ids(collection)

    def test_json_file_whose_only_record_is_bad_is_fatal(self, sample_pub: Path) -> None:
        """When no record of a JSON file is usable, its problem is fatal (shown even by --quiet)."""
        (sample_pub / FEED / "lone.json").write_text('[{"title": 5}]', "utf-8")
        [problem] = problems_for(collect(sample_pub), f"{FEED}/lone.json")
        assert problem.fatal

    @pytest.mark.parametrize("date", ["2022-13-45", "2022-05-06 25:61:00", "yesterday-ish"])
    def test_front_matter_with_a_broken_date(self, date: str, sample_pub: Path, good_ids: set[str]) -> None:
        """The article is still collected; its problem quotes the date and says how to write one."""
        (sample_pub / FEED / "bad-date.md").write_text(
            f"---\ntitle: موعد غير صالح\ndate: {date}\n---\nنص الخبر بلا تاريخ آخر.\n", "utf-8")
        collection = collect(sample_pub)
        article = only_article(collection, f"{FEED}/bad-date.md")
        assert article.title == "موعد غير صالح"
        assert any(date in p and "2022-05-06" in p for p in article.problems)
        assert article.published == NOW  # the first-seen time stands in
        assert good_ids <= feed_ids(collection)


class TestControlCharacters:
    @pytest.mark.parametrize("name", sorted(CONTROL_CASES))
    def test_control_characters_vanish(self, name: str, sample_pub: Path, good_ids: set[str]) -> None:
        """\\x0b, \\x0c, \\ufffe and other controls (which feedgen refuses) leave metadata and body."""
        (sample_pub / FEED / name).write_text(CONTROL_CASES[name], "utf-8")
        collection = collect(sample_pub)
        article = only_article(collection, f"{FEED}/{name}")
        texts = [article.title, article.summary, article.body_html, article.body_text,
                 article.source or "", *article.tags, *article.problems]
        assert not [t for t in texts if any(c in t for c in ILLEGAL)]
        assert article.title.startswith("عنوان الخبر")  # a vertical tab separates words: a space
        assert article.source == "وكالة الأنباء"
        assert "المقال" in article.body_text
        assert good_ids <= feed_ids(collection)


class TestActiveHtml:
    @pytest.mark.parametrize("name", sorted(ACTIVE_CASES))
    def test_scripts_are_sanitised_away_and_noted(self, name: str, sample_pub: Path,
                                                  good_ids: set[str]) -> None:
        """Scripts, event handlers and javascript: URLs are removed, the rest kept, and the article says so."""
        (sample_pub / FEED / name).write_text(ACTIVE_CASES[name], "utf-8")
        collection = collect(sample_pub)
        article = only_article(collection, f"{FEED}/{name}")
        assert not [w for w in ACTIVE if w in article.body_html.lower()]
        assert "نص سليم" in article.body_html
        assert [p for p in article.problems if "removed" in p] == \
            ["scripts, event handlers or javascript: links were removed from the body"]
        assert good_ids <= feed_ids(collection)

    def test_prose_about_javascript_is_not_reported(self, sample_pub: Path) -> None:
        """Text that only mentions "javascript:" or onclick= (no tag carries them) gives no problem."""
        (sample_pub / FEED / "about-js.md").write_text(
            "---\ntitle: دليل\ndate: 2022-05-06\n---\nاكتب `javascript:` أو onclick= في الشيفرة.\n", "utf-8")
        article = only_article(collect(sample_pub), f"{FEED}/about-js.md")
        assert "javascript:" in article.body_text
        assert list(article.problems) == []


class TestRunCommand:
    def drop_all(self, root: Path) -> list[str]:
        names = sorted(FATAL_CASES) + sorted(CONTROL_CASES) + sorted(ACTIVE_CASES)
        for name in FATAL_CASES:
            (root / FEED / name).write_bytes(FATAL_CASES[name][0])
        for cases in (CONTROL_CASES, ACTIVE_CASES):
            for name, text in cases.items():
                (root / FEED / name).write_text(text, "utf-8")
        return names

    def invoke(self, root: Path, *extra: str):
        return CliRunner().invoke(main, ["run", "--project", str(root),
                                         "--now", "2022-05-07T06:00:00Z", *extra])

    def test_run_exits_0_and_names_every_bad_file(self, sample_pub: Path) -> None:
        """With every kind of bad file at once, `masthead run` exits 0, names each file, shows no traceback."""
        names = self.drop_all(sample_pub)
        result = self.invoke(sample_pub)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        problem_lines = [line for line in result.output.splitlines() if line.startswith("problem:")]
        assert not [n for n in names if n not in CONTROL_CASES
                    and not any(f"{FEED}/{n}" in line for line in problem_lines)]

    def test_strict_run_exits_non_zero(self, sample_pub: Path) -> None:
        """--strict turns the same problems into exit code 1, still without a traceback."""
        self.drop_all(sample_pub)
        result = self.invoke(sample_pub, "--strict")
        assert isinstance(result.exception, SystemExit), result.output
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert f"{FEED}/latin-1.txt" in result.output

    def test_quiet_run_still_names_fatal_problems(self, sample_pub: Path) -> None:
        """--quiet prints only what a person must act on: the files that gave nothing."""
        self.drop_all(sample_pub)
        result = self.invoke(sample_pub, "--quiet")
        assert result.exit_code == 0, result.output
        assert f"{FEED}/photo.txt" in result.output
        assert f"{FEED}/script.md" not in result.output  # sanitised and collected: a note only


# Any JSON value, built from the keys masthead reads and awkward scalars.
KEYS = ["id", "title", "url", "date", "published", "date_published", "updated", "date_modified",
        "lang", "language", "author", "authors", "tags", "categories", "source", "photo_credit",
        "publisher", "summary", "image", "slug", "body", "content_html", "content_text", "version",
        "items", "articles"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.sampled_from(["2022-05-06", "6 مايو 2022", "http://[::1", "javascript:alert(1)",
                     "<script>alert(1)</script>", "https://jsonfeed.org/version/1.1", "\x0b\ufffe"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=6)),
    max_leaves=20)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


class TestNeverRaises:
    """A bad source is data: whatever a file holds, reading it gives articles and problems, never an exception."""

    def read(self, data: bytes, kind: str) -> None:
        pub = load_publication(ROOT)
        articles, problems = read_articles(data, "feeds/ar-news/x", kind, pub.feed("ar-news"), pub.site)
        for article in articles:
            assert article.title and not any(c in article.title + article.summary for c in ILLEGAL)
        assert all(p.where.startswith("feeds/ar-news/x") for p in problems)

    @FUZZ
    @given(VALUES)
    def test_any_json(self, value: object) -> None:
        """Any JSON document is read without an exception."""
        self.read(json.dumps(value, ensure_ascii=False).encode(), "json")

    @FUZZ
    @given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8), st.text(max_size=200))
    def test_any_front_matter(self, meta: dict, body: str) -> None:
        """Any YAML front matter over any body is read without an exception."""
        document = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body
        self.read(document.encode(), "markdown")

    @FUZZ
    @given(st.text(max_size=400))
    def test_any_text(self, text: str) -> None:
        """Any text in a .txt file is read without an exception."""
        self.read(text.encode(), "text")

    @FUZZ
    @given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=30), st.text(max_size=40)), max_size=3))
    def test_any_rss_items(self, items: list[tuple[str, str, str]]) -> None:
        """RSS items with any title, link and pubDate are read without an exception."""
        body = "".join(f"<item><title>{_escape(t)}</title><link>{_escape(link)}</link>"
                       f"<pubDate>{_escape(d)}</pubDate></item>" for t, link, d in items)
        self.read(f"<rss version='2.0'><channel><title>x</title>{body}</channel></rss>".encode(), "feed")


def test_deeply_nested_html_is_kept_as_text(sample_pub: Path) -> None:
    """100,000 nested elements (a hostile upstream) become plain paragraphs, quickly, with a note."""
    deep = "<div>" * 100_000 + "Still readable." + "</div>" * 100_000
    (sample_pub / "feeds" / "ar-news" / "deep.json").write_text(
        json.dumps({"title": "Deep", "date": "2022-05-06", "content_html": deep}), encoding="utf-8")
    pub = load_publication(sample_pub)
    with open_store(pub.state_dir) as store:
        collection = collect_publication(pub, store, NOW)
    [article] = [a for a in collection.articles if a.title == "Deep"]
    assert "<p>Still readable.</p>" == article.body_html
    assert any("nested more than" in p.message for p in collection.problems if p.where.endswith("deep.json"))


class TestHtmlPages:
    @pytest.mark.parametrize("data, reason", [
        (b"", "the file is empty"),
        (b"\x00\x01binary", "the file is binary"),
        (b"\xff\xfe<html>x</html>", "not valid UTF-8"),
        (b"<html></html>", "no title, no text, no link and no picture"),
        (b"<div>" * 5000 + b"deep", "no title, no text, no link and no picture"),
    ], ids=["empty", "binary", "not-utf8", "nothing", "nested"])
    def test_a_bad_page_is_named_and_the_rest_published(self, sample_pub: Path, good_ids: set[str], data: bytes,
                                                        reason: str) -> None:
        """An .html file that is empty, binary, undecodable or holds no article is one problem naming it."""
        (sample_pub / FEED / "bad.html").write_bytes(data)
        collection = collect(sample_pub)
        [problem] = problems_for(collection, f"{FEED}/bad.html")
        assert reason in problem.message and problem.fatal
        assert good_ids <= {a.id for a in collection.articles}

    def test_broken_json_ld_falls_back_to_the_page(self, sample_pub: Path) -> None:
        """JSON-LD that is not JSON is passed over: the page's own title and text make the article."""
        (sample_pub / FEED / "page.html").write_text(
            '<html lang="en"><head><title>Harbour reopens</title><script type="application/ld+json">{"headline": '
            '</script></head><body><p>The harbour reopened on Friday 6 May 2022 after the storm.</p></body></html>',
            "utf-8")
        [page] = [a for a in collect(sample_pub).articles if a.origin == f"{FEED}/page.html"]
        assert ("Harbour reopens", "en", date(2022, 5, 6)) == (page.title, page.language, page.published.date())
