"""masthead serve: output/ with feed content types and 304s, and one-click unsubscribe."""

from __future__ import annotations

import io
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.util import setup_testing_defaults

import pytest

from masthead.config import load_publication
from masthead.serve import make_app
from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import load_secret, make_token
from masthead.web.app import App

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)


@pytest.fixture
def app(sample_pub: Path) -> App:
    out = sample_pub / "output" / "ar-news"
    out.mkdir(parents=True)
    (out / "rss.xml").write_bytes(b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"/>')
    (out / "atom.xml").write_bytes(b'<feed xmlns="http://www.w3.org/2005/Atom"/>')
    (out / "feed.json").write_bytes(b'{"version": "https://jsonfeed.org/version/1.1"}')
    (out / "index.html").write_text("<p>أخبار</p>", encoding="utf-8")
    (out / ".rss.xml.1234.tmp").write_bytes(b"half")
    pub = load_publication(sample_pub)
    with open_store(pub.state_dir) as store:
        add_subscriber(store, pub, "reader@example.com", feeds=["ar-news"], now=NOW)
        add_subscriber(store, pub, "other@example.com", feeds=["ar-news"], now=NOW)
    return make_app(sample_pub)


def call(app: App, path: str, method: str = "GET", body: bytes = b"", **headers: str):
    """One WSGI request; returns (status code, headers dict, body)."""
    path, _, query = path.partition("?")
    environ: dict = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                     "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    if body:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    setup_testing_defaults(environ)
    seen: dict = {}

    def start_response(status: str, response_headers: list) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(response_headers)

    out = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], out


def status_of(app: App, email: str) -> str:
    with open_store(app.pub.state_dir) as store:
        return get_subscriber(store, email).status


def token_for(app: App, email: str) -> str:
    return make_token(load_secret(app.pub.state_dir), email)


class TestFiles:
    @pytest.mark.parametrize(("name", "kind"), [
        ("rss.xml", "application/rss+xml; charset=utf-8"),
        ("atom.xml", "application/atom+xml; charset=utf-8"),
        ("feed.json", "application/feed+json; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
    ])
    def test_feeds_have_their_content_types(self, app, name, kind) -> None:
        """Each feed format is served with its own media type and charset=utf-8."""
        status, headers, _ = call(app, f"/ar-news/{name}")
        assert (200, kind) == (status, headers["Content-Type"])

    @pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
    def test_browsers_get_xml_their_stylesheet_applies_to(self, app, name) -> None:
        """A browser asking for HTML gets the feed as application/xml, so it renders the XSL page."""
        browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        reader = "application/atom+xml, application/rss+xml, application/xml;q=0.9"
        _, as_page, _ = call(app, f"/ar-news/{name}", accept=browser)
        _, as_feed, _ = call(app, f"/ar-news/{name}", accept=reader)
        assert "application/xml; charset=utf-8" == as_page["Content-Type"]
        assert as_feed["Content-Type"].startswith(("application/rss+xml", "application/atom+xml"))
        assert "Accept" == as_page["Vary"]

    def test_etag_and_last_modified_give_304(self, app) -> None:
        """A repeat request with the ETag or a later If-Modified-Since gets 304 and no body."""
        _, headers, body = call(app, "/ar-news/rss.xml")
        assert body.startswith(b"<?xml")
        by_etag = call(app, "/ar-news/rss.xml", if_none_match=headers["ETag"])
        by_date = call(app, "/ar-news/rss.xml", if_modified_since=headers["Last-Modified"])
        stale = call(app, "/ar-news/rss.xml", if_none_match='"something-else"')
        assert [by_etag[0], by_date[0], stale[0]] == [304, 304, 200]
        assert (b"", headers["ETag"]) == (by_etag[2], by_etag[1]["ETag"])

    def test_changed_file_gets_a_new_etag(self, app) -> None:
        """Rewriting a file changes its ETag, so readers fetch the new bytes."""
        first = call(app, "/ar-news/feed.json")[1]["ETag"]
        (app.pub.output_dir / "ar-news" / "feed.json").write_bytes(b'{"version": "x", "items": []}')
        assert first != call(app, "/ar-news/feed.json")[1]["ETag"]

    @pytest.mark.parametrize("path", ["/../feeds/site.toml", "/ar-news/%2e%2e/%2e%2e/.masthead/secret",
                                      "/ar-news/.rss.xml.1234.tmp", "/nothing.xml"])
    def test_nothing_outside_output_or_hidden_is_served(self, app, path) -> None:
        """Paths leaving output/, hidden files and missing files are all 404."""
        assert call(app, path)[0] == 404

    def test_folder_serves_its_index(self, app) -> None:
        """/ar-news redirects to /ar-news/, which serves index.html."""
        assert (call(app, "/ar-news")[0], call(app, "/ar-news")[1]["Location"]) == (301, "/ar-news/")
        assert "أخبار" in call(app, "/ar-news/")[2].decode("utf-8")


class TestUnsubscribe:
    def test_get_shows_a_confirm_form_and_changes_nothing(self, app) -> None:
        """GET (what link scanners do) shows a POST form and leaves the subscription alone."""
        token = token_for(app, "reader@example.com")
        status, headers, body = call(app, f"/unsubscribe?token={token}")
        page = body.decode("utf-8")
        assert (status, status_of(app, "reader@example.com")) == (200, "active")
        assert 'method="post"' in page and f'value="{token}"' in page and 'dir="rtl"' in page
        assert "reader@example.com" not in page and '<bdi dir="ltr">r•••@example.com</bdi>' in page
        assert headers["Cache-Control"] == "no-store"

    def test_one_click_post_unsubscribes(self, app) -> None:
        """An RFC 8058 POST (List-Unsubscribe=One-Click) unsubscribes that address only."""
        token = token_for(app, "reader@example.com")
        status, _, _ = call(app, f"/unsubscribe?token={token}", "POST", b"List-Unsubscribe=One-Click")
        assert status == 200
        assert (status_of(app, "reader@example.com"),
                                              status_of(app, "other@example.com")) == ("unsubscribed", "active")

    def test_the_confirm_form_unsubscribes(self, app) -> None:
        """Submitting the page's form (token and confirm in the body) unsubscribes."""
        token = token_for(app, "reader@example.com")
        status, _, _ = call(app, "/unsubscribe", "POST", f"token={token}&confirm=yes".encode())
        assert (status, status_of(app, "reader@example.com")) == (200, "unsubscribed")

    @pytest.mark.parametrize("token", [
        "", "garbage", "cmVhZGVyQGV4YW1wbGUuY29t.AAAA",
        # a genuine signature for reader@, with the address part swapped for other@
        "b3RoZXJAZXhhbXBsZS5jb20.{sig}",
    ])
    def test_bad_or_forged_tokens_change_nothing(self, app, token) -> None:
        """Missing, damaged or re-addressed tokens get a 4xx and unsubscribe no one."""
        sig = token_for(app, "reader@example.com").split(".")[1]
        status, _, _ = call(app, f"/unsubscribe?token={token.format(sig=sig)}", "POST",
                            b"List-Unsubscribe=One-Click")
        assert 400 <= status < 500
        assert (status_of(app, "reader@example.com"),
                                        status_of(app, "other@example.com")) == ("active", "active")

    def test_post_without_one_click_or_confirm_is_refused(self, app) -> None:
        """A bare POST carrying only the token is not an unsubscribe request."""
        token = token_for(app, "reader@example.com")
        assert call(app, f"/unsubscribe?token={token}", "POST", b"x=1")[0] == 400
        assert status_of(app, "reader@example.com") == "active"

    def test_over_a_real_http_server(self, app) -> None:
        """Through wsgiref on 127.0.0.1: GET changes nothing, the one-click POST unsubscribes."""

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/unsubscribe?token={token_for(app, 'other@example.com')}"
            with urllib.request.urlopen(url) as answer:
                assert answer.status == 200
            assert status_of(app, "other@example.com") == "active"
            with urllib.request.urlopen(urllib.request.Request(
                    url, data=b"List-Unsubscribe=One-Click", method="POST")) as answer:
                assert answer.status == 200
            assert status_of(app, "other@example.com") == "unsubscribed"
        finally:
            server.shutdown()
            server.server_close()


class TestServeCommand:
    def test_access_log_blots_out_tokens(self, app) -> None:
        """masthead serve's access log shows the unsubscribe path but never the token."""
        import io

        from masthead.web.server import make_server

        log = io.StringIO()
        server = make_server(app, "127.0.0.1", 0, log=log)
        threading.Thread(target=server.run, daemon=True).start()
        token = token_for(app, "reader@example.com")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.effective_port}/unsubscribe?token={token}"):
                pass
        finally:
            server.close()
        assert "/unsubscribe?token=…" in log.getvalue() and token not in log.getvalue()
