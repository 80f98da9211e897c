"""Attacks 4, 7 and 8: slow clients, RFC 8058 one-click as multipart, bad requests that gave 500."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import make_token
from tests.mailserver import MailServer

from .conftest import PROXY, Served, serve

MULTIPART = (b'--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
             b'One-Click\r\n--XyZ--\r\n')


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that started a request and never finish it: half headers, and a body that never comes."""
    held = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        if i % 2:
            sock.sendall(b"GET /ar-news/rss.xml HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:
            sock.sendall(b"POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n\r\nemail=")
        held.append(sock)
    return held


@pytest.fixture
def reader(served: Served) -> str:
    with open_store(served.pub.state_dir) as store:
        add_subscriber(store, served.pub, "reader@example.com", feeds=["ar-news", "en-news"],
                       now=__import__("datetime").datetime.now(__import__("datetime").UTC))
    return make_token(served.app.site.secret, "reader@example.com", "ar-news")


def test_slow_clients_do_not_stop_the_server(served: Served) -> None:
    """With 8 connections holding half-sent headers or bodies, 40 requests from others are answered at once."""
    (served.pub.output_dir / "ar-news").mkdir(parents=True)
    (served.pub.output_dir / "ar-news" / "rss.xml").write_bytes(b"<rss/>")
    held = slow_clients(served.port, 8)
    try:
        def timed(_: int) -> tuple[int, float]:
            started = time.monotonic()
            status = served.request("GET", "/ar-news/rss.xml", timeout=5).status
            return status, time.monotonic() - started

        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(timed, range(40)))
    finally:
        for sock in held:
            sock.close()
    assert [200] * 40 == [status for status, _ in results]
    assert max(seconds for _, seconds in results) < 2.0


@pytest.mark.parametrize(("body", "kind"), [
    (MULTIPART, "multipart/form-data; boundary=XyZ"),
    (b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
], ids=["multipart", "urlencoded"])
def test_one_click_in_every_rfc_8058_form(served: Served, reader: str, body: bytes, kind: str) -> None:
    """The one-click POST leaves the feed whether it comes multipart (RFC 8058's example) or url-encoded."""
    answer = served.request("POST", f"/unsubscribe?token={reader}", body, {"Content-Type": kind})
    with open_store(served.pub.state_dir) as store:
        assert (200, ("en-news",)) == (answer.status, get_subscriber(store, "reader@example.com").feeds)


def test_bad_requests_are_4xx_never_500(served: Served, reader: str) -> None:
    """Too many fields, oversized or malformed bodies and headers, broken encodings: 400/404/405/413/431."""
    many = "&".join(f"f{i}=x" for i in range(30))
    cases = {
        "query fields": served.request("GET", f"/subscribe?{many}"),
        "form fields": served.request("POST", "/subscribe", many.encode(),
                                      {"Content-Type": "application/x-www-form-urlencoded"}),
        "unsubscribe fields": served.request("POST", f"/unsubscribe?token={reader}", many.encode(),
                                             {"Content-Type": "application/x-www-form-urlencoded"}),
        "big form": served.request("POST", "/subscribe", b"email=" + b"a" * 20000,
                                   {"Content-Type": "application/x-www-form-urlencoded"}),
        "huge body": served.request("POST", "/subscribe", b"x" * 200_000,
                                    {"Content-Type": "application/x-www-form-urlencoded"}),
        "bad multipart": served.request("POST", f"/unsubscribe?token={reader}", b"--nothing",
                                        {"Content-Type": "multipart/form-data; boundary=XyZ"}),
        "huge header": served.request("GET", "/", headers={"X-Big": "a" * 40_000}),
        "bad escapes": served.request("GET", "/%ff%fe/%00/..%2f..%2f.masthead/secret"),
        "bad method": served.request("DELETE", "/subscribe"),
        "bad token": served.request("GET", "/unsubscribe?token=%ff%fe.%00"),
        "non-ascii token": served.request("GET", "/subscribe?token=" + quote("سلام.سلام")),
    }
    statuses = {name: answer.status for name, answer in cases.items()}
    assert {"query fields": 400, "form fields": 400, "unsubscribe fields": 400, "big form": 413,
            "huge body": 413, "bad multipart": 400, "huge header": 431, "bad escapes": 404,
            "bad method": 405, "bad token": 403, "non-ascii token": 403} == statuses
    assert not any(b"Traceback" in answer.body for answer in cases.values())


def unicode_sign_up(sample_pub: Path, *, smtputf8: bool) -> tuple[int, str, list[str]]:
    site = sample_pub / "feeds" / "site.toml"
    site.write_text(site.read_text(encoding="utf-8") + PROXY, encoding="utf-8")
    mail = MailServer(enable_SMTPUTF8=smtputf8).start()
    try:
        served: Iterator[Served] = serve(sample_pub, mail)
        app = next(served)
        answer = app.sign_up("سارة@example.com")
        app.drained()
        next(served, None)
    finally:
        mail.stop()
    return answer.status, answer.text, [r.rcpt for r in mail.received]


def test_a_non_ascii_local_part_without_smtputf8_is_a_clear_400(sample_pub: Path) -> None:
    """The mail server offers no SMTPUTF8: signing up 'سارة@example.com' is refused with a page saying why."""
    status, page, received = unicode_sign_up(sample_pub, smtputf8=False)
    assert (400, []) == (status, received) and "@" in page


def test_a_non_ascii_local_part_with_smtputf8_is_mailed(sample_pub: Path) -> None:
    """The mail server offers SMTPUTF8: the same sign-up gets its confirmation, addressed in Unicode."""
    status, _, received = unicode_sign_up(sample_pub, smtputf8=True)
    assert (200, ["سارة@example.com"]) == (status, received)
