"""Many servers: two 'masthead serve' processes (two machines) on one PostgreSQL database.

Each process has its own copy of the publication folder, as separate machines
behind a load balancer would; they share the state and the signing key. The
load balancer's part is played by the tests: they name the client in
X-Forwarded-For, which both servers are told to believe from 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from masthead.config import load_publication
from masthead.state import roster
from masthead.state.db import open_store
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import make_token

from .conftest import ROOT, SECRET
from .mailserver import MailServer
from .pgserver import PgServer

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)
TOTAL = 12             # [signup] total: confirmations per window from every client, on every server
LIMITS = f"""
[signup]
total = {TOTAL}

[serve]
client_address_header = "X-Forwarded-For"
trusted_proxies = ["127.0.0.1"]
"""


class Servers:
    """Two serve processes on one database, each from its own folder; ``post(i, path, fields)``."""

    def __init__(self, sample_pub: Path, tmp_path: Path, url: str, mail: MailServer):
        self.url = url
        self.folders = [tmp_path / "machine-a", tmp_path / "machine-b"]
        env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "MASTHEAD_SECRET": SECRET,
               "MASTHEAD_SMTP_URL": mail.url}
        self.procs: list[subprocess.Popen[str]] = []
        self.bases: list[str] = []
        for folder in self.folders:
            shutil.copytree(sample_pub, folder)
            proc = subprocess.Popen([sys.executable, "-m", "masthead", "serve", "--port", "0", "--project",
                                     str(folder)], env=env, stderr=subprocess.PIPE, text=True)
            self.procs.append(proc)
            assert proc.stderr is not None
            line = proc.stderr.readline()
            found = re.search(r"on (http://127\.0\.0\.1:\d+)/", line)
            assert found, line
            self.bases.append(found.group(1))

    def post(self, which: int, path: str, fields: dict[str, str] | str, client: str = "192.0.2.1") -> int:
        body = fields if isinstance(fields, str) else urllib.parse.urlencode(fields)
        request = urllib.request.Request(self.bases[which] + path, data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                                  "X-Forwarded-For": client})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                answer.read()
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            refused.read()
            refused.close()
            return int(refused.code)

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.communicate(timeout=30)


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer, pg_template: str,
            mail: MailServer) -> Iterator[Servers]:
    """Started once for this module's tests (each uses addresses of its own)."""
    tmp_path = tmp_path_factory.mktemp("machines")
    sample_pub = tmp_path / "pub"
    shutil.copytree(ROOT / "feeds", sample_pub / "feeds")
    shutil.copytree(ROOT / "templates", sample_pub / "templates")
    site = sample_pub / "feeds" / "site.toml"
    site.write_text(site.read_text(encoding="utf-8") + LIMITS, encoding="utf-8")
    with pg_server.fresh_database(pg_template) as url:
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir, url) as store:
            add_subscriber(store, pub, "reader@example.com", feeds=["ar-news", "en-news"], now=NOW)
        both = Servers(sample_pub, tmp_path, url, mail)
        try:
            yield both
        finally:
            both.close()


def test_an_unsubscribe_through_one_server_is_seen_by_the_other_at_once(servers: Servers) -> None:
    """Leaving ar-news through one server and en-news through the other leaves the address unsubscribed:
    the second server counted the first one's change."""
    for which, feed in ((0, "ar-news"), (1, "en-news")):
        token = make_token(SECRET.encode(), "reader@example.com", feed)
        assert 200 == servers.post(which, f"/unsubscribe?token={token}", "List-Unsubscribe=One-Click")
    with open_store(servers.folders[1] / ".masthead", servers.url) as store:
        reader = roster.get(store, "reader@example.com")
        assert ("unsubscribed", ()) == (reader.status, reader.feeds)


def mails(mail: MailServer, count: int) -> int:
    """How many confirmations arrived, once ``count`` did (or 20 s passed): the servers' senders mail them."""
    deadline = time.monotonic() + 20
    while len(mail.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)                      # room for a mail too many to show up
    return len(mail.received)


def test_sign_up_limits_hold_across_both_servers(servers: Servers, mail: MailServer) -> None:
    """One confirmation per address whichever server is asked, a client's limit counts its sign-ups on
    both, and so does the limit in all: past it both servers answer 503."""
    mail.received.clear()
    form = {"email": "new@example.com", "feed": "ar-news"}
    assert [200, 200] == [servers.post(0, "/subscribe", form, "10.0.0.1"),
                          servers.post(1, "/subscribe", form, "10.0.1.1")]
    assert 1 == mails(mail, 1)
    one_client = [servers.post(n % 2, "/subscribe", {"email": f"c{n}@example.com", "feed": "ar-news"}, "10.9.9.9")
                  for n in range(6)]
    assert [200, 200, 200, 200, 200, 429] == one_client           # per_client = 5, counted on both
    others = [servers.post(n % 2, "/subscribe", {"email": f"o{n}@example.com", "feed": "ar-news"}, f"10.{n}.0.9")
              for n in range(TOTAL - 6)]
    assert [200] * (TOTAL - 6) == others
    assert [503, 503] == [servers.post(0, "/subscribe", {"email": "late0@example.com", "feed": "ar-news"}, "10.8.0.1"),
                          servers.post(1, "/subscribe", {"email": "late1@example.com", "feed": "ar-news"}, "10.8.1.1")]
    assert TOTAL == mails(mail, TOTAL)
