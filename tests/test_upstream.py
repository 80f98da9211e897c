"""Upstream feeds fetched over HTTP from a real server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from masthead import load_publication
from masthead.collect import collect_publication, upstream
from masthead.state.db import open_store

from .conftest import ROOT

NOW = datetime(2022, 5, 7, 6, tzinfo=timezone.utc)
RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Up</title><link>https://up.example/</link><description>d</description>
<item><title>Upstream item</title><link>https://up.example/1</link><guid>https://up.example/1</guid>
<pubDate>Fri, 06 May 2022 10:00:00 +0000</pubDate><description>Text.</description></item>
</channel></rss>"""


ARABIC_PAGE = (ROOT / "feeds" / "ar-news" / "red-sea-coral.html").read_bytes().replace(
    b'"@type": "NewsArticle",', b'"@type": "NewsArticle", "url": "https://agency.example/coral-2022",')


class Upstream(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, str | None]]] = []
    fail_next = 0

    def do_GET(self) -> None:
        type(self).requests.append({"path": self.path, "etag": self.headers.get("If-None-Match")})
        if type(self).fail_next:
            type(self).fail_next -= 1
            self.send_error(503)
            return
        if self.path == "/page.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(ARABIC_PAGE)
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.end_headers()
        self.wfile.write(RSS)

    def log_message(self, *args: object) -> None:
        pass


SERVERS: dict[str, ThreadingHTTPServer] = {}


@pytest.fixture
def server() -> Iterator[str]:
    Upstream.requests = []
    Upstream.fail_next = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    SERVERS[url] = httpd
    yield url
    stop_server(url)


def stop_server(url: str) -> None:
    """Shut the test server down: its port then refuses connections."""
    httpd = SERVERS.pop(url, None)
    if httpd is not None:
        httpd.shutdown()
        httpd.server_close()


def with_sources(pub_root: Path, *sources: str) -> None:
    """The sources in en-news; 127.0.0.1 (where the test server is) allowed for fetching."""
    site = pub_root / "feeds" / "site.toml"
    site.write_text(site.read_text(encoding="utf-8") + '\n[fetch]\nallow_hosts = ["127.0.0.1"]\ntimeout = 2\ndeadline = 8\n',
                    encoding="utf-8")
    toml = pub_root / "feeds" / "en-news" / "feed.toml"
    listed = ", ".join(f'"{s}"' for s in sources)
    toml.write_text(toml.read_text(encoding="utf-8").replace("limit = 50", f"limit = 50\nsources = [{listed}]"),
                    encoding="utf-8")


def collect(root: Path, now: datetime = NOW):
    pub = load_publication(root)
    with open_store(pub.state_dir) as store:
        return collect_publication(pub, store, now)


def test_fetched_then_conditional_get(sample_pub: Path, server: str) -> None:
    """The first run fetches the feed; the next sends its ETag, gets 304 and keeps the entries."""
    with_sources(sample_pub, f"{server}/feed.xml")
    first = collect(sample_pub)
    second = collect(sample_pub)
    titles = [a.title for a in second.articles]
    assert "Upstream item" in [a.title for a in first.articles]
    assert "Upstream item" in titles
    assert [r["etag"] for r in Upstream.requests] == [None, '"v1"']


def test_unreachable_upstream_does_not_stop_the_rest(sample_pub: Path, server: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A dead upstream is one problem naming its URL; the good upstream and files still arrive."""
    dead = "http://127.0.0.1:9/feed.xml"  # the discard port: nothing listens
    with_sources(sample_pub, dead, f"{server}/feed.xml")
    collection = collect(sample_pub)
    assert any(p.where == dead and "could not fetch" in p.message for p in collection.problems)
    titles = [a.title for a in collection.articles]
    assert "Upstream item" in titles
    assert "Solar output sets a spring record" in titles


def test_retried_after_server_error(sample_pub: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 503 is retried (with backoff) and the feed still arrives."""
    monkeypatch.setattr(upstream.time, "sleep", lambda seconds: None)
    Upstream.fail_next = 2
    with_sources(sample_pub, f"{server}/feed.xml")
    collection = collect(sample_pub)
    assert "Upstream item" in [a.title for a in collection.articles]
    assert len(Upstream.requests) == 3


def test_an_upstream_gone_down_is_reported_on_every_run_with_the_age_of_its_copy(
        sample_pub: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetched once, then unreachable: each later run names it, says how old the copy used is, and does not wait on retries."""
    sleeps: list[float] = []
    monkeypatch.setattr(upstream.time, "sleep", sleeps.append)
    port = server.rsplit(":", 1)[1]
    gone = f"http://127.0.0.1:{port}/feed.xml"
    with_sources(sample_pub, gone)
    assert "Upstream item" in [a.title for a in collect(sample_pub).articles]
    stop_server(server)
    for days in (3, 4):
        collection = collect(sample_pub, NOW + timedelta(days=days))
        [problem] = [p for p in collection.problems if p.where == gone]
        assert problem.message.startswith("could not fetch it (")
        assert problem.message.endswith(f"the copy fetched {days} days ago was used instead")
        assert "Upstream item" in [a.title for a in collection.articles]
    assert [] == sleeps


def test_pages_listed_in_feed_toml_are_fetched_and_read(sample_pub: Path, server: str) -> None:
    """A page URL in 'pages' gives its article: JSON-LD title, date and authors, Arabic and right-to-left, its own URL."""
    with_sources(sample_pub)                     # no upstream feed; 127.0.0.1 allowed for fetching
    toml = sample_pub / "feeds" / "ar-news" / "feed.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("limit = 50", f'limit = 50\npages = ["{server}/page.html"]'),
                    encoding="utf-8")
    (sample_pub / "feeds" / "ar-news" / "red-sea-coral.html").unlink()   # the same article, read only from the web
    collection = collect(sample_pub)
    [page] = [a for a in collection.articles if a.origin == f"{server}/page.html"]
    assert ("دراسة: شعاب البحر الأحمر المرجانية تقاوم ارتفاع حرارة المياه", "ar", "rtl") == (
        page.title, page.language, page.direction)
    assert (datetime(2022, 5, 6, 13, 30, tzinfo=timezone.utc), ("ريم الزهراني",), "واس") == (
        page.published, page.authors, page.source)
    assert ("https://agency.example/coral-2022", "https://agency.example/coral-2022") == (page.url, page.id)
    assert "مرصد الأخبار" == page.publisher


def test_a_page_on_an_internal_address_is_refused_as_a_source_is(sample_pub: Path, server: str) -> None:
    """'pages' are fetched under the [fetch] limits of 'sources': a loopback page, not allowed, is refused and named."""
    toml = sample_pub / "feeds" / "ar-news" / "feed.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("limit = 50", f'limit = 50\npages = ["{server}/page.html"]'),
                    encoding="utf-8")
    collection = collect(sample_pub)
    [problem] = [p for p in collection.problems if p.where == f"{server}/page.html"]
    assert problem.message.startswith("refused to fetch it") and problem.fatal
    assert [] == [r for r in Upstream.requests if r["path"] == "/page.html"]
