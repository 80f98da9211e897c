"""Attacks 2 and 11: the sign-up form as a spam cannon, replayed and cross-site confirmation links."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from masthead.config import load_publication
from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.outbox import send_queued
from masthead.subscribers.signup import check_form, request_signup
from masthead.tokens import load_secret
from tests.mailserver import MailServer

from .conftest import Served


def link(mail: MailServer, index: int = -1) -> str:
    text = mail.received[index].message.get_body(("plain",)).get_content()
    (url,) = re.findall(r"^(https://\S+)\s*$", text, re.M)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


class TestLimits:
    def test_one_client_cannot_close_sign_up_for_everyone(self, served: Served, mail: MailServer) -> None:
        """One client posting 40 addresses gets 5 mails sent and then 429; a reader elsewhere still signs up."""
        answers = [served.sign_up(f"target{i}@example.net", client="203.0.113.7").status for i in range(40)]
        reader = served.sign_up("reader@example.org", client="198.51.100.20")
        served.drained()
        assert [200] * 5 + [429] * 35 == answers
        assert 200 == reader.status
        assert 6 == len(mail.received) and "reader@example.org" in {r.rcpt for r in mail.received}

    def test_a_network_shares_one_limit(self, served: Served, mail: MailServer) -> None:
        """Addresses in one IPv4 /24 (or IPv6 /64) count together: the 21st sign-up from it is 429."""
        v4 = [served.sign_up(f"n{i}@example.net", client=f"203.0.113.{i + 1}").status for i in range(21)]
        v6 = [served.sign_up(f"s{i}@example.net", client=f"2001:db8:1:2::{i + 1:x}").status for i in range(21)]
        assert ([200] * 20 + [429], [200] * 20 + [429]) == (v4, v6)

    def test_one_domain_cannot_be_mailed_in_bulk(self, served: Served, mail: MailServer) -> None:
        """50 confirmations per window go to one domain, from however many clients; then 503 for it only."""
        answers = [served.sign_up(f"d{i}@victim.example", client=f"100.{i}.0.1")
                   for i in range(51)]
        other = served.sign_up("someone@example.org", client="198.18.0.1")
        assert ([200] * 50 + [503], 200) == ([a.status for a in answers], other.status)

    def test_the_same_answer_for_every_address(self, served: Served, mail: MailServer) -> None:
        """New, repeated (limited) and bot-filled (honeypot) sign-ups get byte-identical 200 pages."""
        first = served.sign_up("new@example.com")
        again = served.sign_up("new@example.com")
        bot = served.sign_up("victim@example.com", website="https://spam.example")
        served.drained()
        assert first.body == again.body == bot.body and 200 == first.status == again.status == bot.status
        assert ["new@example.com"] == [r.rcpt for r in mail.received]

    def test_the_honeypot_is_in_every_form_and_hidden(self, served: Served) -> None:
        """The sign-up page carries the bot trap off-screen, out of the tab order and hidden from screen readers."""
        page = served.request("GET", "/subscribe").text
        assert re.search(r'aria-hidden="true">[^<]*<input type="text" name="website" tabindex="-1"', page)

    def test_a_client_address_header_from_an_untrusted_peer_is_ignored(self, sample_pub: Path) -> None:
        """Without [serve] trusted proxies, X-Forwarded-For is the client's own claim and counts for nothing."""
        from masthead.web.site import Site
        pub = load_publication(sample_pub)
        site = Site(pub, b"k" * 32)
        assert "198.51.100.1" == site.client({"REMOTE_ADDR": "198.51.100.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"})

    def test_signing_up_never_waits_on_the_mail_server(self, served: Served, mail: MailServer) -> None:
        """While the SMTP server hangs for 3 s on each recipient, the form still answers at once."""
        mail.faults.on_rcpt = lambda count: time.sleep(3)
        started = time.monotonic()
        answers = [served.sign_up(f"w{i}@example.com").status for i in range(3)]
        elapsed = time.monotonic() - started
        mail.faults.on_rcpt = None
        assert [200, 200, 200] == answers and elapsed < 2.0


def test_two_senders_never_mail_one_confirmation_twice(sample_pub: Path) -> None:
    """Two processes' senders draining one queue at once mail each confirmation exactly once."""
    pub = load_publication(sample_pub)
    secret = load_secret(pub.state_dir)
    now = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)
    with open_store(pub.state_dir) as store:
        for i in range(40):
            request_signup(pub, store, secret, check_form(pub, f"q{i}@example.com", "", ["ar-news"]),
                           now=now, client=f"2001:db8:{i}::1")
    mail = MailServer().start()
    try:
        def drain() -> None:
            with open_store(pub.state_dir) as own:
                send_queued(pub, own, secret, mail.settings, now=now)

        senders = [threading.Thread(target=drain) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(60)
    finally:
        mail.stop()
    assert {f"q{i}@example.com": 1 for i in range(40)} == mail.copies()


class TestConfirmLinks:
    def test_a_link_works_once(self, served: Served, mail: MailServer) -> None:
        """The confirm POST subscribes; replayed after the reader left, it changes nothing (410)."""
        served.sign_up("reader@example.com")
        served.drained()
        path, query = link(mail).split("?")
        token = query.removeprefix("token=")
        assert 200 == served.post(path, {"token": token, "confirm": "yes"}).status
        with open_store(served.pub.state_dir) as store:
            from masthead.state.roster import set_status
            set_status(store, "reader@example.com", "unsubscribed", now=datetime.now(UTC))
        replay = served.post(path, {"token": token, "confirm": "yes"})
        with open_store(served.pub.state_dir) as store:
            assert (410, "unsubscribed") == (replay.status, get_subscriber(store, "reader@example.com").status)

    def test_other_sites_cannot_post_the_forms(self, served: Served, mail: MailServer) -> None:
        """Confirm, sign-up and unsubscribe-form POSTs carrying another site's Origin or Referer (or Origin
        null) get 403 and change nothing; our own public origin is accepted."""
        served.sign_up("reader@example.com")
        served.drained()
        path, query = link(mail).split("?")
        fields = {"token": query.removeprefix("token="), "confirm": "yes"}
        foreign = [{"Origin": "https://evil.example"}, {"Origin": "null"},
                   {"Referer": "https://evil.example/page"}, {"Origin": "http://news.example.org"}]
        statuses = [served.post(path, fields, headers=h).status for h in foreign]
        signup = served.post("/subscribe", {"email": "x@example.com", "feed": "ar-news"},
                             headers={"Origin": "https://evil.example"}).status
        with open_store(served.pub.state_dir) as store:
            assert get_subscriber(store, "reader@example.com") is None
        ours = served.post(path, fields, headers={"Origin": "https://news.example.org"})
        assert ([403] * 4, 403, 200) == (statuses, signup, ours.status)
