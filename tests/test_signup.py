"""Sign-up with double opt-in through the real WSGI app and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest

from masthead.config import SignupLimits, load_publication, parse_smtp_url
from masthead.errors import ConfigError
from masthead.pipeline import run
from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.state.roster import set_status
from masthead.subscribers.roster import add_subscriber
from masthead.subscribers.signup import SignupUnavailable, check_form, request_signup
from masthead.tokens import load_secret
from masthead.web.app import App
from masthead.web.server import make_server
from tests.mailserver import MailServer
from tests.test_serve import call

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[MailServer]:
    srv = MailServer().start()
    yield srv
    srv.stop()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(sample_pub: Path, server: MailServer, clock: Clock) -> Iterator[App]:
    pub = load_publication(sample_pub)
    served = App(pub, load_secret(pub.state_dir), smtp=parse_smtp_url(server.url), clock=clock)
    yield served
    assert served.site.outbox is not None
    served.site.outbox.stop()


def sign_up(app: App, email: str, *feeds: str, name: str = ""):
    """POST the form, then wait until the background sender has mailed what was queued."""
    body = urlencode([("email", email), ("name", name)] + [("feed", f) for f in feeds]).encode()
    answer = call(app, "/subscribe", "POST", body)
    drained(app)
    return answer


def drained(app: App, timeout: float = 10.0) -> None:
    """Wait until no confirmation mail waits in the queue (the sender deletes each row once it went)."""
    deadline = time.monotonic() + timeout
    with open_store(app.pub.state_dir) as store:
        while store.scalar("SELECT count(*) FROM signup_queue") and time.monotonic() < deadline:
            time.sleep(0.02)


def link_in(server: MailServer, index: int = -1) -> str:
    text = server.received[index].message.get_body(("plain",)).get_content()
    (url,) = re.findall(r"^(https://\S+)\s*$", text, re.M)
    return url


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def subscriber(app: App, email: str):
    with open_store(app.pub.state_dir) as store:
        return get_subscriber(store, email)


class TestConfirmationMail:
    def test_form_sends_a_confirmation_and_subscribes_no_one(self, app, server) -> None:
        """POST /subscribe mails a link to the address and answers "check your inbox"; nobody is subscribed yet."""
        status, _, body = sign_up(app, "New@Example.com", "ar-news", name="سارة")
        assert (status, "تحقّق من بريدك" in body.decode()) == (200, True)
        assert [r.rcpt for r in server.received] == ["new@example.com"]
        assert subscriber(app, "new@example.com") is None
        assert link_in(server).startswith("https://news.example.org/subscribe?token=")

    def test_arabic_confirmation_is_right_to_left_in_both_parts(self, app, server) -> None:
        """The ar-news confirmation is Arabic: RTL on the table and every cell, text and HTML with the link."""
        sign_up(app, "new@example.com", "ar-news", name="سارة")
        msg = server.received[0].message
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        assert msg["Subject"] == "أكّد اشتراكك في أخبار العالم"
        assert (msg["Content-Language"], msg["Auto-Submitted"], msg["List-Unsubscribe"]) == (
            "ar", "auto-generated", None)
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        cells = re.findall(r"<td [^>]*>", html)
        assert cells and all('dir="rtl" lang="ar"' in c and "direction:rtl;text-align:right" in c for c in cells)
        assert '<table role="presentation" dir="rtl" lang="ar"' in html
        assert '<span dir="ltr">new@example.com</span>' in html          # a Latin run, isolated
        assert text.startswith("مرحبًا،") and link_in(server) in text
        assert "سارة" not in msg.as_string() and msg["To"] == "new@example.com"   # no stranger's text
        assert f'href="{link_in(server)}"' in html

    def test_mixed_language_subject_keeps_its_spaces(self, app, server) -> None:
        """A subject naming an English and an Arabic feed arrives word for word."""
        sign_up(app, "new@example.com", "en-news", "ar-news")
        assert server.received[0].message["Subject"] == "Confirm your subscription to World News, أخبار العالم"

    def test_english_feed_gets_an_english_left_to_right_mail(self, app, server) -> None:
        """A sign-up for en-news is confirmed in English, left to right."""
        sign_up(app, "new@example.com", "en-news")
        msg = server.received[0].message
        assert msg["Subject"] == "Confirm your subscription to World News"
        assert 'dir="ltr" lang="en"' in msg.get_body(("html",)).get_content()


class TestConfirmLink:
    def test_get_shows_a_button_and_post_subscribes(self, app, server) -> None:
        """GET on the link (what scanners do) changes nothing; its form's POST subscribes with the name."""
        sign_up(app, "new@example.com", "ar-news", "en-news", name="سارة")
        url = link_in(server)
        status, _, body = call(app, path_of(url))
        token = url.split("token=")[1]
        assert (status, subscriber(app, "new@example.com")) == (200, None)
        assert f'value="{token}"' in body.decode() and 'method="post"' in body.decode()
        status, _, body = call(app, "/subscribe", "POST", f"token={token}&confirm=yes".encode())
        s = subscriber(app, "new@example.com")
        assert (status, s.status, s.feeds, s.name) == (200, "active", ("ar-news", "en-news"), "سارة")

    def test_expired_link_does_not_subscribe(self, app, server, clock) -> None:
        """Eight days later the link gets 410 on GET and POST, and nobody is subscribed."""
        sign_up(app, "new@example.com", "ar-news")
        token = link_in(server).split("token=")[1]
        clock.now = NOW + timedelta(days=7, seconds=1)
        assert call(app, f"/subscribe?token={token}")[0] == 410
        assert call(app, "/subscribe", "POST", f"token={token}&confirm=yes".encode())[0] == 410
        assert subscriber(app, "new@example.com") is None

    def test_forged_links_do_not_subscribe(self, app, server) -> None:
        """A link whose content was changed (address, feeds, expiry) or made up gets 403."""
        sign_up(app, "new@example.com", "ar-news")
        payload, mac = link_in(server).split("token=")[1].split(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        forged = []
        for change in ({0: "victim@example.com"}, {2: ["ar-news", "en-news"]}, {3: data[3] + 86400 * 365}):
            altered = [change.get(i, v) for i, v in enumerate(data)]
            raw = json.dumps(altered, ensure_ascii=False, separators=(",", ":")).encode()
            forged.append(base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac)
        for token in forged + ["garbage", f"{payload}.AAAA"]:
            body = f"token={quote(token)}&confirm=yes".encode()
            assert (call(app, f"/subscribe?token={quote(token)}")[0],
                    call(app, "/subscribe", "POST", body)[0]) == (403, 403)
        assert [subscriber(app, e) for e in ("new@example.com", "victim@example.com")] == [None, None]

    def test_confirm_reactivates_a_suppressed_address(self, app, server) -> None:
        """An address that unsubscribed is active again only after its confirm step, following what it asked for."""
        with open_store(app.pub.state_dir) as store:
            add_subscriber(store, app.pub, "back@example.com", feeds=["ar-news", "en-news"], now=NOW)
            set_status(store, "back@example.com", "unsubscribed", now=NOW)
        sign_up(app, "back@example.com", "en-news")
        assert subscriber(app, "back@example.com").status == "unsubscribed"
        token = link_in(server).split("token=")[1]
        call(app, "/subscribe", "POST", f"token={token}&confirm=yes".encode())
        s = subscriber(app, "back@example.com")
        assert (s.status, s.feeds) == ("active", ("en-news",))


class TestForm:
    def test_repeated_posts_within_ten_minutes_send_one_mail(self, app, server, clock) -> None:
        """Three posts in ten minutes send one mail; after the window another one goes."""
        answers = [sign_up(app, "new@example.com", "ar-news") for _ in range(2)]
        clock.now = NOW + timedelta(minutes=9)
        answers.append(sign_up(app, "NEW@example.com", "en-news"))
        assert len(server.received) == 1 and len({a[2] for a in answers[:2]}) == 1
        clock.now = NOW + timedelta(minutes=10, seconds=1)
        sign_up(app, "new@example.com", "ar-news")
        assert len(server.received) == 2

    def test_the_state_keeps_no_address_for_the_rate_limit(self, app, server) -> None:
        """The limits remember HMACs of the address, client and domain; the sent mail leaves no row."""
        sign_up(app, "new@example.com", "ar-news")
        with open_store(app.pub.state_dir) as store:
            kept = [tuple(r) for r in store.rows("SELECT * FROM signup_events")]
            queued = store.scalar("SELECT count(*) FROM signup_queue")
        assert 4 == len(kept) and 0 == queued
        assert not any("example.com" in str(v) for row in kept for v in row)

    def test_same_answer_for_new_existing_and_suppressed_addresses(self, app, server) -> None:
        """The form's answer is byte-identical whether the address is new, active, unsubscribed or bounced."""
        with open_store(app.pub.state_dir) as store:
            for email, status in [("active@example.com", "active"), ("gone@example.com", "unsubscribed"),
                                  ("bounced@example.com", "bounced")]:
                add_subscriber(store, app.pub, email, feeds=["ar-news"], now=NOW)
                set_status(store, email, status, now=NOW)
        answers = {e: sign_up(app, e, "ar-news") for e in (
            "new@example.com", "active@example.com", "gone@example.com", "bounced@example.com")}
        assert len({(a[0], tuple(sorted(a[1].items())), a[2]) for a in answers.values()}) == 1
        assert sorted(r.rcpt for r in server.received) == sorted(answers)
        assert [subscriber(app, e).status for e in ("gone@example.com", "bounced@example.com")] == [
            "unsubscribed", "bounced"]

    @pytest.mark.parametrize("fields", [
        {"email": "not-an-address", "feed": "ar-news"}, {"email": "a@example.com"},
        {"email": "a@example.com", "feed": "all"}, {"email": "a@example.com", "feed": "sport"},
        {"email": "a@example.com", "feed": "ar-news", "name": "Eve\r\nBcc: x@example.com"}])
    def test_bad_forms_are_refused_and_send_nothing(self, app, server, fields) -> None:
        """A malformed address, no feed, a feed without digest or unknown, a name with a line break: 400."""
        assert call(app, "/subscribe", "POST", urlencode(fields).encode())[0] == 400
        assert server.received == []

    def test_without_a_mail_server_signing_up_is_unavailable(self, sample_pub) -> None:
        """With no MASTHEAD_SMTP_URL the form answers 503 for everyone and remembers nothing."""
        pub = load_publication(sample_pub)
        app = App(pub, load_secret(pub.state_dir), smtp=None, clock=Clock())
        assert sign_up(app, "new@example.com", "ar-news")[0] == 503
        with open_store(pub.state_dir) as store:
            assert store.scalar("SELECT count(*) FROM signup_events") == 0

    def test_get_without_a_token_shows_the_form(self, app) -> None:
        """GET /subscribe shows a form with a box per feed that sends a digest."""
        page = call(app, "/subscribe")[2].decode()
        assert 'name="email"' in page and 'value="ar-news"' in page and 'value="en-news"' in page
        assert 'value="all"' not in page


class TestSetting:
    def test_subscribe_url_defaults_to_the_unsubscribe_origin(self, sample_pub) -> None:
        """Without [email] subscribe_url the form posts to /subscribe on unsubscribe_url's server."""
        site = sample_pub / "feeds" / "site.toml"
        site.write_text(site.read_text(encoding="utf-8").replace(
            'unsubscribe_url = "https://news.example.org/unsubscribe"',
            'unsubscribe_url = "https://mail.example.org/app/unsubscribe?x=1"'), encoding="utf-8")
        assert load_publication(sample_pub).site.email.subscribe_url == "https://mail.example.org/subscribe"

    def test_bad_subscribe_url_names_the_key(self, sample_pub) -> None:
        """A subscribe_url that is not an http(s) URL is a ConfigError naming the key."""
        site = sample_pub / "feeds" / "site.toml"
        site.write_text(site.read_text(encoding="utf-8") + 'subscribe_url = "mailto:x@example.org"\n',
                        encoding="utf-8")
        with pytest.raises(ConfigError, match=r"email\.subscribe_url"):
            load_publication(sample_pub)


class TestFeedPages:
    def test_feed_page_form_signs_up_for_its_feed(self, app, server) -> None:
        """A built feed page carries a form for its feed; posting its fields sends the confirmation."""
        run(app.pub, now=NOW)
        pages = {name: (app.pub.output_dir / name / "index.html").read_text(encoding="utf-8")
                 for name in ("ar-news", "en-news", "all")}
        assert 'class="signup"' not in pages["all"]                     # no digest, no form
        assert 'lang="en"' in pages["en-news"] and ">Subscribe</button>" in pages["en-news"]
        page = pages["ar-news"]
        (action,) = re.findall(r'<form class="signup" method="post" action="([^"]+)">', page)
        hidden_fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
        assert (action, hidden_fields) == ("https://news.example.org/subscribe", {"feed": "ar-news"})
        assert ">اشترك</button>" in page
        fields = {**hidden_fields, "email": "reader@example.com", "name": ""}
        assert call(app, urlsplit(action).path, "POST", urlencode(fields).encode())[0] == 200
        drained(app)
        token = link_in(server).split("token=")[1]
        call(app, "/subscribe", "POST", f"token={token}&confirm=yes".encode())
        assert subscriber(app, "reader@example.com").feeds == ("ar-news",)


class TestServeCommand:
    def test_access_log_blots_out_confirmation_tokens(self, app, server) -> None:
        """masthead serve's access log shows /subscribe but never a confirmation token."""
        sign_up(app, "new@example.com", "ar-news")
        token = link_in(server).split("token=")[1]
        log = io.StringIO()
        httpd = make_server(app, "127.0.0.1", 0, log=log)
        threading.Thread(target=httpd.run, daemon=True).start()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{httpd.effective_port}/subscribe?token={token}") as answer:
                assert answer.status == 200
        finally:
            httpd.close()
        assert "/subscribe?token=…" in log.getvalue() and token not in log.getvalue()


class TestOverallLimit:
    def test_a_flood_of_addresses_stops_at_the_overall_limit(self, app, server, clock) -> None:
        """Past the overall limit per window nothing is queued and everyone is told to try later."""
        limits = SignupLimits(total=3, per_client=100, per_network=100)
        with open_store(app.pub.state_dir) as store:
            outcomes = []
            for i in range(4):
                try:
                    outcomes.append(request_signup(app.pub, store, app.site.secret,
                                                   check_form(app.pub, f"r{i}@example.com", "", ["ar-news"]),
                                                   now=clock(), client=f"192.0.2.{i}", limits=limits))
                except SignupUnavailable as exc:
                    outcomes.append(str(exc))
            later = request_signup(app.pub, store, app.site.secret,
                                   check_form(app.pub, "r3@example.com", "", ["ar-news"]),
                                   now=clock() + timedelta(minutes=11), client="192.0.2.9", limits=limits)
        assert outcomes[:3] == ["queued"] * 3 and "may be abused" in outcomes[3]
        assert later == "queued"
