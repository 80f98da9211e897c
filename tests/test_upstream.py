"""Upstream feeds fetched over HTTP from a real server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from masthead import load_publication
from masthead.collect import collect_publication, upstream
from masthead.state.db import open_store

NOW = datetime(2022, 5, 7, 6, tzinfo=timezone.utc)
RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Up</title><link>https://up.example/</link><description>d</description>
<item><title>Upstream item</title><link>https://up.example/1</link><guid>https://up.example/1</guid>
<pubDate>Fri, 06 May 2022 10:00:00 +0000</pubDate><description>Text.</description></item>
</channel></rss>"""


class Upstream(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, str | None]]] = []
    fail_next = 0

    def do_GET(self) -> None:
        type(self).requests.append({"path": self.path, "etag": self.headers.get("If-None-Match")})
        if type(self).fail_next:
            type(self).fail_next -= 1
            self.send_error(503)
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


@pytest.fixture
def server() -> Iterator[str]:
    Upstream.requests = []
    Upstream.fail_next = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
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


def collect(root: Path):
    pub = load_publication(root)
    with open_store(pub.state_dir) as store:
        return collect_publication(pub, store, NOW)


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
