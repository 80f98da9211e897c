"""Which article gets which page, and the list of files a run wrote.

A large archive has a page per article, so the claim holds pages by their
articles' URLs and makes the paths when asked: these tests pin that the paths
asked for are the ones each URL gives, whatever form the URL takes, that two
URLs of one path still collide, and that the run's list of written files reads
like the plain list of paths it stands for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from masthead.config import load_publication
from masthead.feeds.pages import article_path, claim_pages
from masthead.pipeline import run
from masthead.records import Paths

from .conftest import ROOT
from .factories import BASE, article

SITE = load_publication(ROOT).site
WHEN = datetime(2024, 1, 1, 6, tzinfo=UTC)


def test_every_form_of_url_gets_the_page_its_url_gives() -> None:
    forms = [f"{BASE}ar-news/plain.html", f"{BASE}ar-news/with-query.html?utm=x",
             f"{BASE}ar-news/frag.html#top", f"{BASE}ar-news/%D8%AE%D8%A8%D8%B1.html",
             f"{BASE}ar-news/folder/", "https://elsewhere.example.com/not-ours.html"]
    articles = [article(n, url=url) for n, url in enumerate(forms, start=1)]
    pages, problems = claim_pages(SITE, {"ar-news"}, articles)
    expected = {article_path(SITE, a): a for a in articles if article_path(SITE, a) is not None}
    assert problems == []
    assert len(pages) == 5 == len(expected)
    assert dict(pages.items()) == expected == {path: pages[path] for path in pages}
    assert "output/ar-news/خبر.html" in pages and "output/ar-news/folder/index.html" in pages
    assert "output/ar-news/not-ours.html" not in pages and "output/ar-news/plain.html?utm=x" not in pages
    for path in expected:               # what a run keeps of a written page gives that page's path back
        assert pages.path_of(pages.key(path)) == path


def test_two_forms_of_one_page_collide_whichever_comes_first() -> None:
    for first, second in ((f"{BASE}ar-news/same.html", f"{BASE}ar-news/same.html?ref=x"),
                          (f"{BASE}ar-news/same.html#a", f"{BASE}ar-news/same.html")):
        pages, problems = claim_pages(SITE, {"ar-news"}, [article(1, url=first), article(2, url=second)])
        assert list(pages) == ["output/ar-news/same.html"]
        assert pages["output/ar-news/same.html"].url == first          # the smaller id keeps it
        assert [p.where for p in problems] == ["feeds/ar-news/item-2.txt"]
        assert "output/ar-news/same.html" in problems[0].message


def test_the_list_of_written_files_reads_as_the_paths() -> None:
    pages, _ = claim_pages(SITE, {"ar-news"}, [article(1), article(2, url=f"{BASE}ar-news/x.html?q=1")])
    written = [pages.key("output/ar-news/item-1.html"), "output/ar-news/rss.xml", pages.key("output/ar-news/x.html")]
    listed = Paths(Paths(written, path=pages.path_of), ["output/manifest.json"])
    paths = ("output/ar-news/item-1.html", "output/ar-news/rss.xml", "output/ar-news/x.html", "output/manifest.json")
    assert listed == paths and list(listed) == list(paths) and len(listed) == 4
    assert listed[0] == paths[0] and listed[-1] == paths[-1] and listed[1:3] == paths[1:3]
    assert "output/ar-news/x.html" in listed and "output/ar-news/y.html" not in listed
    assert Paths() == () and listed != paths[:3]


def test_a_run_reports_each_page_it_wrote_by_its_path(sample_pub: Path) -> None:
    report = run(load_publication(sample_pub), now=WHEN)
    pages = [p for p in report.changed_files if p.endswith(".html") and "/" in p.removeprefix("output/")]
    assert pages and all((sample_pub / p).is_file() for p in report.changed_files)
    assert len(set(report.changed_files)) == len(report.changed_files)
    assert report.changed_files[-1] == "output/manifest.json"
