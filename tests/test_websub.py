"""WebSub publishing against a small hub on 127.0.0.1: one notification per changed feed URL, none when nothing changed."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner

from masthead.cli import main
from masthead.config import load_publication
from masthead.errors import ConfigError
from masthead.feeds import websub
from masthead.pipeline import run

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
NEW_ARTICLE = """---
title: Ports reopen after the strike
date: 2022-05-06T09:00:00+00:00
---

Ships were unloading again on Friday.
"""


class Hub:
    """A WebSub hub that records every publish request and answers with the next status it was given."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.answers: list[int] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hub.requests.append(parse_qs(self.rfile.read(length).decode("ascii")))
                self.send_response(hub.answers.pop(0) if hub.answers else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def published(self) -> Counter[str]:
        """How many times each feed URL was announced with hub.mode=publish."""
        assert all(r["hub.mode"] == ["publish"] for r in self.requests)
        return Counter(url for r in self.requests for url in r["hub.url"])


@pytest.fixture
def hubs() -> Iterator[list[Hub]]:
    running = [Hub(), Hub()]
    for hub in running:
        hub.thread.start()
    yield running
    for hub in running:
        hub.server.shutdown()
        hub.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def set_hub(root: Path, value: str) -> None:
    site = root / "feeds/site.toml"
    site.write_text(re.sub(r"^ttl = 60$", f"ttl = 60\nhub = {value}", site.read_text("utf-8"), flags=re.M), "utf-8")


def feed_urls(report_files: tuple[str, ...], root: Path) -> Counter[str]:
    """The public URL of every current feed document among the files a run wrote."""
    manifest = json.loads((root / "output/manifest.json").read_text("utf-8"))
    return Counter(feed["urls"][kind] for feed in manifest["feeds"] for kind, path in feed["files"].items()
                   if path in report_files)


class TestPublishing:
    def test_one_notification_per_changed_feed_url_and_none_when_nothing_changed(
            self, sample_pub: Path, hubs: list[Hub]) -> None:
        """Each hub hears of each changed RSS, Atom and JSON Feed URL once; a run that changes nothing sends nothing."""
        set_hub(sample_pub, json.dumps([hub.url for hub in hubs]))
        first = run(load_publication(sample_pub), now=NOW)
        everything = feed_urls(first.changed_files, sample_pub)
        assert 18 == len(everything)                     # 6 feeds x (RSS, Atom, JSON Feed)
        assert [everything, everything] == [hub.published() for hub in hubs]

        for hub in hubs:
            hub.requests.clear()
        again = run(load_publication(sample_pub), now=NOW + timedelta(hours=1))
        assert ((), [Counter(), Counter()]) == (again.websub, [hub.published() for hub in hubs])

        (sample_pub / "feeds/en-news/ports.md").write_text(NEW_ARTICLE, "utf-8")
        third = run(load_publication(sample_pub), now=NOW + timedelta(hours=2))
        changed = feed_urls(third.changed_files, sample_pub)
        assert {"https://news.example.org/en-news/rss.xml", "https://news.example.org/all/feed.json"} <= set(changed)
        assert "https://news.example.org/ar-news/rss.xml" not in changed
        assert [changed, changed] == [hub.published() for hub in hubs]
        assert all(n.ok and n.status == 204 for n in third.websub)

    def test_an_unreachable_hub_is_a_problem_not_a_failure(self, sample_pub: Path) -> None:
        """With the hub's port closed the run exits 0, reports the problem, and --json lists each URL not taken."""
        hub = f"http://127.0.0.1:{closed_port()}/"
        set_hub(sample_pub, f'"{hub}"')
        result = CliRunner().invoke(main, ["run", "--project", str(sample_pub), "--now", NOW.isoformat(), "--json"])
        assert 0 == result.exit_code, result.output
        report = json.loads(result.stdout)
        assert 18 == len(report["websub"]) and not any(n["ok"] for n in report["websub"])
        assert websub.TRIES == report["websub"][0]["tries"]          # retried, then the hub was spared
        assert [0] * 17 == [n["tries"] for n in report["websub"][1:]]
        (problem,) = [p for p in report["problems"] if p["where"] == hub]
        assert "did not take 18 of 18" in problem["message"]
        assert f"problem: {hub}: WebSub hub did not take" in result.stderr


class TestRetries:
    def test_a_hub_busy_once_is_asked_again(self, hubs: list[Hub]) -> None:
        """A 503 is tried again and the second try counts; a 400 is not tried again."""
        hub = hubs[0]
        hub.answers = [503, 202, 400]
        busy, refused = websub.publish([hub.url], ["https://a.example/rss.xml", "https://a.example/atom.xml"],
                                       pauses=(0,))
        assert (True, 202, 2) == (busy.ok, busy.status, busy.tries)
        assert (False, 400, 1) == (refused.ok, refused.status, refused.tries)
        assert Counter({"https://a.example/rss.xml": 2, "https://a.example/atom.xml": 1}) == hub.published()


class TestSettings:
    def test_a_hub_that_is_no_url_names_the_key(self, sample_pub: Path) -> None:
        """hub = ["ftp://x"] stops with an error naming feeds/site.toml and the key."""
        set_hub(sample_pub, '["ftp://x"]')
        with pytest.raises(ConfigError) as caught:
            load_publication(sample_pub)
        assert "'hub'" in str(caught.value) and "feeds/site.toml" in str(caught.value)
