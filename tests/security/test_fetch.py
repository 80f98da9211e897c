"""Attack 6: upstream fetches that were unbounded (size, time) and followed redirects inward."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from masthead.collect import collect_publication
from masthead.collect.upstream import fetch
from masthead.config import FetchSettings, load_publication
from masthead.errors import InputError
from masthead.state import httpcache
from masthead.state.db import open_store

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>In</title><link>https://i.example/</link>'
       b"<description>d</description><item><title>Internal secret</title><link>https://i.example/1</link>"
       b"</item></channel></rss>")
LIMITS = FetchSettings(timeout=1, deadline=2.5, max_bytes=1_000_000, allow_hosts=("localhost",))


class Hostile(BaseHTTPRequestHandler):
    """Answers as a hostile upstream would: endless bodies, one byte at a time, redirects inward."""

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path == "/big":                     # no Content-Length: 50 MB until the client gives up
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(800):
                    self.wfile.write(b"<x>" + b"a" * 65533)
            except OSError:
                pass
        elif self.path == "/declared":              # says 300 MB up front
            self.send_response(200)
            self.send_header("Content-Length", str(300 * 2**20))
            self.end_headers()
        elif self.path == "/slow":                  # a byte every 0.2 s: never trips a per-read timeout
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
        elif self.path.startswith("/to/"):         # a redirect to wherever the path says
            self.send_response(302)
            self.send_header("Location", self.path[4:].replace("PORT", str(port)))
            self.end_headers()
        else:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(RSS)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def refused(store, url: str, settings: FetchSettings = LIMITS) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        fetch(url, store, settings, sleep=lambda s: None)
    return caught.value.message, time.monotonic() - started


def test_a_huge_body_is_refused_while_it_is_read(store, upstream: int) -> None:
    """50 MB without a length, or 300 MB announced: refused at max_bytes, and nothing is kept."""
    for path in ("/big", "/declared"):
        message, seconds = refused(store, f"http://localhost:{upstream}{path}")
        assert "max_bytes" in message and seconds < 2.5
        assert httpcache.get(store, f"http://localhost:{upstream}{path}") is None


def test_a_server_sending_one_byte_at_a_time_is_cut_at_the_deadline(store, upstream: int) -> None:
    """A body trickling in is abandoned at the source's deadline (2.5 s here), retries included."""
    message, seconds = refused(store, f"http://localhost:{upstream}/slow")
    assert "deadline" in message and seconds < 4


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:PORT/internal", "http://[::1]:PORT/internal", "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0:PORT/", "http://10.1.2.3/", "http://[::ffff:127.0.0.1]:PORT/", "file:///etc/passwd",
    "ftp://localhost/x", "gopher://localhost:PORT/x",
])
def test_redirects_inward_or_out_of_http_are_refused(store, upstream: int, target: str) -> None:
    """An allowed host redirecting to loopback, private, link-local, mapped or non-http addresses is refused."""
    message, _ = refused(store, f"http://localhost:{upstream}/to/{target}")
    assert "refused" in message and "Internal secret" not in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/feed", "http://localhost:{port}/feed",
                                 "http://2130706433:{port}/feed", "http://[::1]:{port}/feed"])
def test_internal_hosts_need_allow_hosts(store, upstream: int, url: str) -> None:
    """Without allow_hosts, a URL naming or resolving to loopback is refused at connect time."""
    message, _ = refused(store, url.format(port=upstream), FetchSettings(timeout=1, deadline=2))
    assert "allow_hosts" in message


def test_a_refused_source_is_a_problem_and_the_rest_is_published(sample_pub: Path, upstream: int) -> None:
    """Through the collector: the redirecting source is one problem naming its URL; articles still come."""
    url = f"http://localhost:{upstream}/to/http://127.0.0.1:{upstream}/internal"
    site = sample_pub / "feeds" / "site.toml"
    site.write_text(site.read_text(encoding="utf-8") + '\n[fetch]\nallow_hosts = ["localhost"]\n', "utf-8")
    feed = sample_pub / "feeds" / "en-news" / "feed.toml"
    feed.write_text(feed.read_text(encoding="utf-8").replace("limit = 50", f'limit = 50\nsources = ["{url}"]'),
                    "utf-8")
    pub = load_publication(sample_pub)
    with open_store(pub.state_dir) as store:
        collection = collect_publication(pub, store, datetime(2022, 5, 7, 6, tzinfo=UTC))
    titles = [a.title for a in collection.articles]
    assert any(p.where == url and "refused" in p.message for p in collection.problems)
    assert "Internal secret" not in titles and len(titles) >= 9
