"""The attacks of tests/security run against the real thing: ``masthead serve``'s app under its
waitress server on 127.0.0.1, with a real SMTP server (aiosmtpd) on 127.0.0.1 behind it."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from masthead.config import load_publication
from masthead.state.db import open_store
from masthead.tokens import load_secret
from masthead.web.app import App
from masthead.web.server import make_server
from tests.mailserver import MailServer

PROXY = '\n[serve]\nclient_address_header = "X-Forwarded-For"\ntrusted_proxies = ["127.0.0.1"]\n'


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Served:
    """The app of a publication, served by waitress on 127.0.0.1:port."""

    app: App
    port: int
    server: object

    @property
    def pub(self):
        return self.app.pub

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                timeout: float = 15) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body or None, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def post(self, path: str, fields: list[tuple[str, str]] | dict[str, str], *, client: str = "",
             headers: dict[str, str] | None = None) -> Answer:
        """A url-encoded form POST; ``client`` is the address the trusted proxy says it forwards for."""
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        if client:
            sent["X-Forwarded-For"] = client
        return self.request("POST", path, urlencode(fields).encode(), sent)

    def sign_up(self, email: str, *, client: str = "203.0.113.7", feed: str = "ar-news", name: str = "",
                **extra: str) -> Answer:
        return self.post("/subscribe", [("email", email), ("name", name), ("feed", feed), *extra.items()],
                         client=client)

    def drained(self, timeout: float = 15.0) -> None:
        """Wait until the background sender has mailed (or dropped) every queued confirmation."""
        deadline = time.monotonic() + timeout
        with open_store(self.pub.state_dir) as store:
            while store.scalar("SELECT count(*) FROM signup_queue") and time.monotonic() < deadline:
                time.sleep(0.02)


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


def serve(root: Path, mail: MailServer | None) -> Iterator[Served]:
    pub = load_publication(root)
    app = App(pub, load_secret(pub.state_dir), smtp=mail.settings if mail else None)
    server = make_server(app, "127.0.0.1", 0, log=None)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Served(app, server.effective_port, server)
    finally:
        server.close()
        if app.site.outbox is not None:
            app.site.outbox.stop()


@pytest.fixture
def served(sample_pub: Path, mail: MailServer) -> Iterator[Served]:
    """The sample publication behind a trusted proxy on 127.0.0.1 (so tests can speak for many clients)."""
    site = sample_pub / "feeds" / "site.toml"
    site.write_text(site.read_text(encoding="utf-8") + PROXY, encoding="utf-8")
    yield from serve(sample_pub, mail)
