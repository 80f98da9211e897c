"""Per-feed unsubscribe: a digest's link leaves that feed only, through the real WSGI app."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from masthead.config import load_publication, parse_smtp_url
from masthead.pipeline import run
from masthead.serve import make_app
from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.csvimport import import_csv
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import load_secret, make_token, read_token
from masthead.web.app import App
from tests.mailserver import MailServer
from tests.test_delivery import send
from tests.test_serve import call

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)
ONE_CLICK = b"List-Unsubscribe=One-Click"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.fixture
def app(sample_pub: Path) -> App:
    pub = load_publication(sample_pub)
    with open_store(pub.state_dir) as store:
        add_subscriber(store, pub, "both@example.com", feeds=["ar-news", "en-news"], now=NOW)
        add_subscriber(store, pub, "other@example.com", feeds=["ar-news", "en-news"], now=NOW)
    return make_app(sample_pub)


def state(app: App, email: str) -> tuple[str, tuple[str, ...]]:
    with open_store(app.pub.state_dir) as store:
        s = get_subscriber(store, email)
        return s.status, s.feeds


def token(app: App, email: str, feed: str | None) -> str:
    return make_token(load_secret(app.pub.state_dir), email, feed)


class TestTokens:
    def test_feed_token_names_address_and_feed(self) -> None:
        """A feed token reads back as its address and feed; an older token as the address alone."""
        secret = b"k" * 32
        assert (read_token(secret, make_token(secret, "r@example.com", "ar-news")).feed,
                read_token(secret, make_token(secret, "r@example.com")).feed) == ("ar-news", None)

    def test_feed_token_cannot_be_moved(self) -> None:
        """Swapping the feed part, the address part, or dropping the feed breaks the signature."""
        secret = b"k" * 32
        address, feed, mac = make_token(secret, "r@example.com", "ar-news").split(".")
        assert [read_token(secret, t) for t in (
            f"{address}.{b64('en-news')}.{mac}", f"{b64('x@example.com')}.{feed}.{mac}",
            f"{address}.{mac}", f"{address}.{b64('')}.{mac}")] == [None] * 4


class TestOneClick:
    def test_one_click_leaves_that_feed_only(self, app) -> None:
        """One-click with an ar-news token: the reader keeps en-news and stays active."""
        status, _, body = call(app, f"/unsubscribe?token={token(app, 'both@example.com', 'ar-news')}",
                               "POST", ONE_CLICK)
        assert (status, state(app, "both@example.com")) == (200, ("active", ("en-news",)))
        assert state(app, "other@example.com") == ("active", ("ar-news", "en-news"))
        assert "أخبار العالم" in body.decode()       # the done page names the feed left

    def test_leaving_the_last_feed_unsubscribes(self, app) -> None:
        """Leaving the one remaining feed makes the address 'unsubscribed' (suppressed)."""
        for feed in ("ar-news", "en-news"):
            call(app, f"/unsubscribe?token={token(app, 'both@example.com', feed)}", "POST", ONE_CLICK)
        assert state(app, "both@example.com") == ("unsubscribed", ())

    def test_older_tokens_still_leave_everything(self, app) -> None:
        """A token from before per-feed links (address only) unsubscribes from every feed."""
        call(app, f"/unsubscribe?token={token(app, 'both@example.com', None)}", "POST", ONE_CLICK)
        assert state(app, "both@example.com")[0] == "unsubscribed"

    @pytest.mark.parametrize("forge", ["cross-feed", "other address", "feed dropped", "unknown key"])
    def test_forged_or_cross_feed_tokens_change_nothing(self, app, forge) -> None:
        """A token whose feed or address was altered, or signed with another key, gets 403."""
        address, _feed, mac = token(app, "both@example.com", "ar-news").split(".")
        forged = {"cross-feed": f"{address}.{b64('en-news')}.{mac}",
                  "other address": f"{b64('other@example.com')}.{b64('ar-news')}.{mac}",
                  "feed dropped": f"{address}.{mac}",
                  "unknown key": make_token(b"j" * 32, "both@example.com", "ar-news")}[forge]
        assert call(app, f"/unsubscribe?token={forged}", "POST", ONE_CLICK)[0] == 403
        assert [state(app, e) for e in ("both@example.com", "other@example.com")] == [
            ("active", ("ar-news", "en-news"))] * 2


class TestConfirmPage:
    def test_page_offers_this_feed_first_and_every_list_second(self, app) -> None:
        """GET changes nothing and offers "leave <feed>" (checked) and "leave every list"."""
        t = token(app, "both@example.com", "en-news")
        status, _, body = call(app, f"/unsubscribe?token={t}")
        page = body.decode()
        assert (status, state(app, "both@example.com")[1]) == (200, ("ar-news", "en-news"))
        assert 'lang="en" dir="ltr"' in page           # en-news is English: so is its page
        assert 'name="scope" value="feed" checked> Leave <bdi>World News</bdi> only' in page
        assert 'name="scope" value="all"> Leave every list' in page

    def test_arabic_feed_page_is_right_to_left(self, app) -> None:
        """The ar-news page is Arabic, RTL, with the address isolated left-to-right."""
        page = call(app, f"/unsubscribe?token={token(app, 'both@example.com', 'ar-news')}")[2].decode()
        assert 'lang="ar" dir="rtl"' in page and '<bdi dir="ltr">b•••@example.com</bdi>' in page
        assert "أوقف <bdi>أخبار العالم</bdi> فقط" in page

    @pytest.mark.parametrize(("scope", "expected"), [
        ("feed", ("active", ("ar-news",))), ("all", ("unsubscribed", ("ar-news", "en-news")))])
    def test_form_leaves_the_feed_or_every_list(self, app, scope, expected) -> None:
        """The form's default leaves the token's feed; "every list" unsubscribes the address."""
        t = token(app, "both@example.com", "en-news")
        status, _, _ = call(app, "/unsubscribe", "POST", f"token={t}&confirm=yes&scope={scope}".encode())
        assert (status, state(app, "both@example.com")) == (200, expected)


class TestSuppression:
    def test_import_does_not_bring_a_left_feed_back(self, app, tmp_path) -> None:
        """A feed left by one-click stays suppressed for that address; its other feeds import."""
        call(app, f"/unsubscribe?token={token(app, 'both@example.com', 'ar-news')}", "POST", ONE_CLICK)
        call(app, f"/unsubscribe?token={token(app, 'other@example.com', 'ar-news')}", "POST", ONE_CLICK)
        call(app, f"/unsubscribe?token={token(app, 'other@example.com', 'en-news')}", "POST", ONE_CLICK)
        csv_file = tmp_path / "r.csv"
        csv_file.write_text("both@example.com,,ar-news en-news\nnew@example.com,,ar-news\n", encoding="utf-8")
        with open_store(app.pub.state_dir) as store:
            report = import_csv(store, app.pub, csv_file, now=NOW)
            again = add_subscriber(store, app.pub, "both@example.com", feeds=["ar-news"], now=NOW,
                                   resubscribe=True)
        assert (report.added, report.unchanged, report.skipped) == (1, 1, ())
        assert again.feeds == ("ar-news", "en-news")
        assert state(app, "other@example.com") == ("unsubscribed", ())

    def test_resubscribing_a_suppressed_address_follows_what_it_asked_for(self, app) -> None:
        """After leaving every list, a resubscribe to en-news follows en-news alone."""
        call(app, f"/unsubscribe?token={token(app, 'both@example.com', None)}", "POST", ONE_CLICK)
        with open_store(app.pub.state_dir) as store:
            s = add_subscriber(store, app.pub, "both@example.com", feeds=["en-news"], now=NOW,
                               resubscribe=True)
        assert (s.status, s.feeds) == ("active", ("en-news",))

    def test_copy_planned_before_leaving_is_cancelled(self, app) -> None:
        """A digest planned before the reader left its feed does not reach them."""
        server = MailServer().start()
        try:
            with open_store(app.pub.state_dir) as store:
                send(app.pub, store, None)          # planned: both@ and other@ are recipients
                call(app, f"/unsubscribe?token={token(app, 'both@example.com', 'ar-news')}", "POST", ONE_CLICK)
                (report,) = send(app.pub, store, server, [])
        finally:
            server.stop()
        assert (report.sent, report.cancelled, server.copies()) == (1, 1, {"other@example.com": 1})


class TestThroughRealDigests:
    @pytest.mark.slow
    def test_reader_of_two_feeds_leaves_one_from_its_digest(self, sample_pub, monkeypatch) -> None:
        """masthead run mails both digests; one-click in the ar-news one stops ar-news, en-news still comes."""
        server = MailServer().start()
        monkeypatch.setenv("MASTHEAD_SMTP_URL", server.url)
        monkeypatch.delenv("MASTHEAD_SECRET", raising=False)
        try:
            pub = load_publication(sample_pub)
            with open_store(pub.state_dir) as store:
                add_subscriber(store, pub, "both@example.com", feeds=["ar-news", "en-news"], now=NOW)
                add_subscriber(store, pub, "other@example.com", feeds=["ar-news"], now=NOW)
            article(pub.root / "feeds" / "ar-news" / "may-8.md", "خبر الثامن من مايو", "2022-05-08T10:00:00+03:00")
            run(pub, now=datetime(2022, 5, 9, 6, 0, tzinfo=UTC), smtp=parse_smtp_url(server.url))
            mails = {(r.rcpt, r.message["List-Id"].split("<")[1].split(".")[0]): r.message for r in server.received}
            assert set(mails) == {("both@example.com", "ar-news"), ("both@example.com", "en-news"),
                                  ("other@example.com", "ar-news")}
            url = mails["both@example.com", "ar-news"]["List-Unsubscribe"].split(",")[0].strip("<> ")
            body = mails["both@example.com", "ar-news"].get_body(("html",)).get_content()
            assert url.replace("&", "&amp;") in body or url in body        # the visible link is the same

            app = make_app(pub.root)
            parts = urlsplit(url)
            genuine = parse_qs(parts.query)["token"][0]
            address, _feed, mac = genuine.split(".")
            for forged in (f"{address}.{b64('en-news')}.{mac}", f"{b64('other@example.com')}.{_feed}.{mac}"):
                assert call(app, f"{parts.path}?token={forged}", "POST", ONE_CLICK)[0] == 403
            assert call(app, f"{parts.path}?{parts.query}", "GET")[0] == 200
            assert state(app, "both@example.com") == ("active", ("ar-news", "en-news"))
            assert call(app, f"{parts.path}?{parts.query}", "POST", ONE_CLICK)[0] == 200

            server.received.clear()
            article(pub.root / "feeds" / "ar-news" / "may-15.md", "خبر الخامس عشر", "2022-05-15T10:00:00+03:00")
            article(pub.root / "feeds" / "en-news" / "may-11.md", "News of May 11", "2022-05-11T10:00:00+03:00")
            second = run(pub, now=datetime(2022, 5, 16, 6, 0, tzinfo=UTC), smtp=parse_smtp_url(server.url))
            assert {d.feed for d in second.deliveries if d.sent} == {"ar-news", "en-news"}
            got = sorted((r.rcpt, r.message["List-Id"].split("<")[1].split(".")[0]) for r in server.received)
            assert got == [("both@example.com", "en-news"), ("other@example.com", "ar-news")]
        finally:
            server.stop()


def article(path: Path, title: str, date: str) -> None:
    path.write_text(f'---\ntitle: "{title}"\ndate: {date}\n---\n\nنص الخبر.\n', encoding="utf-8")
