"""Delivery over a real SMTP server (aiosmtpd on 127.0.0.1): each copy exactly once."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from masthead.cli import main
from masthead.config import Publication, load_publication, parse_smtp_url
from masthead.errors import ConfigError
from masthead.pipeline import run
from masthead.send.delivery import RetryPolicy, deliver
from masthead.serve import make_app
from masthead.state.db import Store, open_store
from masthead.state.roster import get as get_subscriber
from masthead.state.roster import set_status
from masthead.state.sends import pending_digest_ids, resend_uncertain
from masthead.subscribers.csvimport import import_csv
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import load_secret, verify_token
from tests.mailserver import MailServer, free_port, make_digest

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)
QUICK = RetryPolicy(attempts=4, first_delay=0.0, max_delay=0.0)


@pytest.fixture
def server() -> Iterator[MailServer]:
    srv = MailServer().start()
    yield srv
    srv.stop()


def subscribe(store: Store, pub: Publication, count: int, tmp_path: Path) -> list[str]:
    """Import ``count`` subscribers of ar-news from a CSV; returns their addresses."""
    emails = [f"reader{i:04d}@example.com" for i in range(count)]
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text("email,name,feeds\n" + "".join(f"{e},قارئ {i},ar-news\n" for i, e in enumerate(emails)),
                        encoding="utf-8")
    report = import_csv(store, pub, csv_file, now=NOW)
    assert (count, ()) == (report.added, report.skipped)
    return emails


def send(pub: Publication, store: Store, server: MailServer | str | None, digests=None, **kwargs):
    url = server.url if isinstance(server, MailServer) else server
    smtp = parse_smtp_url(url) if url else None
    kwargs.setdefault("retry", QUICK)
    kwargs.setdefault("sleep", lambda _seconds: None)
    return deliver(pub, store, [make_digest()] if digests is None else digests, now=NOW, smtp=smtp, **kwargs)


def statuses(store: Store) -> dict[str, int]:
    return {r[0]: r[1] for r in store.rows("SELECT status, count(*) FROM sends GROUP BY status")}


class TestSmtpSettings:
    def test_unset_or_empty_means_no_server(self) -> None:
        """No MASTHEAD_SMTP_URL, or an empty one, means there is no server to send with."""
        assert (parse_smtp_url(""), parse_smtp_url(" ")) == (None, None)

    def test_submission_url_uses_starttls_and_decodes_the_password(self) -> None:
        """smtp://user:pass@host:587 asks for STARTTLS and keeps the credentials out of reports."""
        s = parse_smtp_url("smtp://news%40example.org:p%40ss:w@mail.example.org:587")
        assert (
            s.host, s.port, s.security, s.username, s.password) == ("mail.example.org", 587, "starttls", "news@example.org", "p@ss:w")
        assert "p@ss" not in s.describe() + repr(s)

    def test_smtps_and_local_urls(self) -> None:
        """smtps:// is TLS on 465; a loopback smtp:// may be plain."""
        tls = parse_smtp_url("smtps://mail.example.org")
        local = parse_smtp_url("smtp://127.0.0.1:8025")
        assert [(tls.security, tls.port), (local.security, local.port)] == [("tls", 465), ("local", 8025)]

    def test_bad_url_names_the_variable(self) -> None:
        """An unusable URL is a ConfigError naming MASTHEAD_SMTP_URL and the expected forms."""
        with pytest.raises(ConfigError, match="MASTHEAD_SMTP_URL") as info:
            parse_smtp_url("http://mail.example.org")
        assert "smtps://" in info.value.hint


class TestExactlyOnce:
    def test_two_hundred_subscribers_get_one_copy_each(self, pub, store, server, tmp_path) -> None:
        """200 subscribers each get the digest once, each with an unsubscribe URL for them alone."""
        emails = subscribe(store, pub, 200, tmp_path)
        (report,) = send(pub, store, server)
        assert (report.recipients, report.sent, report.pending, report.failed) == (200, 200, 0, ())
        assert dict.fromkeys(emails, 1) == server.copies()
        secret = load_secret(pub.state_dir)
        urls = set()
        for item in server.received:
            header = item.raw.split(b"\r\nList-Unsubscribe: ")[1].split(b"\r\nList-Unsubscribe-Post")[0]
            assert b"=?" not in header          # a plain URL, not an RFC 2047 encoded word
            url = item.message["List-Unsubscribe"].split(",")[0].strip("<> ")
            token = parse_qs(urlsplit(url).query)["token"][0]
            assert item.rcpt == verify_token(secret, token)
            assert url in item.message.get_body(("plain",)).get_content()
            urls.add(url)
        assert len(urls) == 200

    def test_second_run_sends_nothing(self, pub, store, server, tmp_path) -> None:
        """Running again with the same digest sends nothing and reports nothing to do."""
        subscribe(store, pub, 5, tmp_path)
        send(pub, store, server)
        assert send(pub, store, server) == ()
        assert len(server.received) == 5

    def test_without_a_server_nothing_is_sent_until_one_is_set(self, pub, store, server, tmp_path) -> None:
        """With no SMTP URL the digest is reported 'not sent'; a later run with a server sends it."""
        subscribe(store, pub, 3, tmp_path)
        (report,) = send(pub, store, None)
        assert (report.sent, report.pending) == (0, 3)
        assert "MASTHEAD_SMTP_URL" in report.not_sent
        assert pending_digest_ids(store) == ["ar-news/daily/2022-05-07"]
        (report,) = send(pub, store, server, [])       # as 'masthead send' does: the planned content
        assert (report.sent, report.not_sent, pending_digest_ids(store)) == (3, None, [])

    def test_later_subscribers_do_not_get_old_digests(self, pub, store, server, tmp_path) -> None:
        """Recipients are fixed when a digest is first planned; a newcomer gets the next one."""
        subscribe(store, pub, 2, tmp_path)
        send(pub, store, None)
        add_subscriber(store, pub, "late@example.com", feeds=["ar-news"], now=NOW)
        send(pub, store, server)
        assert "late@example.com" not in server.copies()
        send(pub, store, server, [make_digest(day=8)])
        assert server.copies()["late@example.com"] == 1

    @pytest.mark.slow
    @pytest.mark.parametrize("where", ["after the server stored message 7", "at RCPT 7"])
    def test_killed_run_then_rerun_leaves_one_copy_each(self, pub, store, server, tmp_path, where,
                                                        cli_env) -> None:
        """'masthead send' killed with SIGKILL part-way, then run again, leaves one copy each."""
        emails = subscribe(store, pub, 20, tmp_path)
        send(pub, store, None)                       # planned by a run without a server
        proc = subprocess.Popen(
            [sys.executable, "-m", "masthead", "send", "--project", str(pub.root)],
            env={**os.environ, "MASTHEAD_SMTP_URL": server.url, **cli_env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

        def kill_at(count: int) -> None:
            if count == 7:
                os.kill(proc.pid, signal.SIGKILL)

        if where.startswith("after"):
            server.faults.on_accept = kill_at
        else:
            server.faults.on_rcpt = kill_at
        assert proc.wait(timeout=60) == -signal.SIGKILL
        server.faults.on_accept = server.faults.on_rcpt = None
        assert len(server.received) < 20
        (report,) = send(pub, store, server)
        assert dict.fromkeys(emails, 1) == server.copies()
        # Each connection leaves at most one copy 'sending' (uncertain): the one on the wire,
        # or the last one accepted, whose 'sent' rides with the next commit. None is sent again...
        assert report.already_sent + report.sent + report.uncertain == 20
        assert 1 <= report.uncertain <= pub.site.email.connections
        # ...unless someone asks for them on purpose.
        assert resend_uncertain(store, report.digest_id, now=NOW) == report.uncertain
        send(pub, store, server)
        assert max(server.copies().values()) == 2


class TestFaults:
    def test_451_for_a_while_still_delivers_once(self, pub, store, server, tmp_path) -> None:
        """Temporary refusals at RCPT and after DATA are retried with backoff; one copy each."""
        emails = subscribe(store, pub, 6, tmp_path)
        server.faults.rcpt_replies = ["451 4.7.1 greylisted, try later"] * 2
        server.faults.data_replies = ["451 4.3.0 queue full"] * 3
        sleeps: list[float] = []
        (report,) = send(pub, store, server, sleep=sleeps.append,
                         retry=RetryPolicy(attempts=6, first_delay=1.0, max_delay=8.0))
        assert dict.fromkeys(emails, 1) == server.copies()
        assert (report.sent, report.pending) == (6, 0)
        assert sleeps == [1.0, 2.0, 4.0, 8.0, 8.0]

    def test_421_closes_the_session_and_the_copy_goes_on_a_new_one(self, pub, store, server, tmp_path) -> None:
        """421 (the server closing) at RCPT: reconnect, send, one copy each."""
        emails = subscribe(store, pub, 3, tmp_path)
        server.faults.rcpt_replies = ["", "421 4.3.2 shutting down"]
        (report,) = send(pub, store, server)
        assert dict.fromkeys(emails, 1) == server.copies()
        assert report.sent == 3

    @pytest.mark.parametrize("lines", [0, 1, 20])
    def test_dropped_connection_mid_message_still_delivers_once(self, pub, store, server, tmp_path,
                                                                 lines) -> None:
        """The server cutting the connection inside DATA twice: reconnect, resend, one copy each."""
        emails = subscribe(store, pub, 5, tmp_path)
        server.faults.drop_mid_data = 2
        server.faults.drop_after_lines = lines
        (report,) = send(pub, store, server)
        assert dict.fromkeys(emails, 1) == server.copies()
        assert (server.dropped, report.sent) == (2, 5)

    def test_550_fails_one_recipient_and_the_rest_go_out(self, pub, store, server, tmp_path) -> None:
        """550 for one address: failed with the server's reply, bounced, others delivered."""
        emails = subscribe(store, pub, 4, tmp_path)
        server.faults.refuse[emails[1]] = "550 5.1.1 <reader0001@example.com>: no such user"
        (report,) = send(pub, store, server)
        assert report.sent == 3
        assert [(emails[1], "550 5.1.1 <reader0001@example.com>: no such user")] == [
            (f.email, f.reply) for f in report.failed]
        assert get_subscriber(store, emails[1]).status == "bounced"
        send(pub, store, server, [make_digest(day=8)])
        assert server.copies().get(emails[1], 0) == 0

    def test_refused_connection_leaves_everything_pending(self, pub, store, tmp_path) -> None:
        """Nothing listening: the run ends without an exception, reports why, and keeps the work."""
        subscribe(store, pub, 3, tmp_path)
        (report,) = send(pub, store, f"smtp://127.0.0.1:{free_port()}")
        assert (report.sent, report.pending) == (0, 3)
        assert "cannot reach smtp://127.0.0.1" in report.not_sent

    def test_hang_up_before_the_answer_is_retried_with_the_same_message_id(
            self, pub, store, server, tmp_path) -> None:
        """A server that hangs up after the dot is tried again; a twin keeps the Message-ID."""
        emails = subscribe(store, pub, 3, tmp_path)

        def vanish(count: int) -> None:
            if count == 2:
                server.controller.smtpd.transport.close()

        server.faults.on_accept = vanish
        (report,) = send(pub, store, server)
        assert (report.sent, report.uncertain, report.pending) == (3, 0, 0)
        twins = [r.message["Message-ID"] for r in server.received if r.rcpt == emails[1]]
        assert len(twins) == 2 and twins[0] == twins[1]

    def test_header_with_line_break_is_refused_before_smtp(self, pub, store, server, tmp_path) -> None:
        """A name holding a line break (e.g. edited into the database) fails that copy only."""
        emails = subscribe(store, pub, 3, tmp_path)
        with store.transaction() as db:
            db.execute("UPDATE subscribers SET name = ? WHERE email = ?", ("Eve\r\nBcc: x@evil.test", emails[0]))
        (report,) = send(pub, store, server)
        assert report.sent == 2
        assert report.failed[0].reply.startswith("refused before SMTP")
        assert emails[0] not in server.copies()

    @pytest.mark.parametrize("smtputf8", [True, False])
    def test_international_addresses(self, pub, store, tmp_path, smtputf8) -> None:
        """With SMTPUTF8 addresses go as they are; without, an IDN domain goes in punycode
        (RCPT and To alike) and an Arabic local part fails with the reason."""
        for email in ("سارة@مثال.السعودية", "x@bücher.de"):
            add_subscriber(store, pub, email, feeds=["ar-news"], now=NOW)
        server = MailServer(enable_SMTPUTF8=smtputf8).start()
        try:
            (report,) = send(pub, store, server)
        finally:
            server.stop()
        to = {r.rcpt: r.raw.split(b"\r\nTo: ")[1].split(b"\r\n")[0].decode() for r in server.received}
        if smtputf8:
            assert to == {"سارة@مثال.السعودية": "سارة@مثال.السعودية", "x@bücher.de": "x@bücher.de"}
        else:
            assert to == {"x@xn--bcher-kva.de": "x@xn--bcher-kva.de"}
            assert [f.email for f in report.failed] == ["سارة@مثال.السعودية"]
            assert "SMTPUTF8" in report.failed[0].reply

    def test_digest_of_a_removed_feed_waits_and_the_others_go(self, pub, store, server, tmp_path) -> None:
        """A pending digest whose feed left the settings is reported, and does not block the rest."""
        subscribe(store, pub, 2, tmp_path)
        add_subscriber(store, pub, "en@example.com", feeds=["en-news"], now=NOW)
        send(pub, store, None, [make_digest(), make_digest(feed="en-news")])
        shutil.rmtree(pub.root / "feeds" / "ar-news")
        shutil.rmtree(pub.root / "feeds" / "all")          # the aggregate that included it
        reports = {r.feed: r for r in send(load_publication(pub.root), store, server, [])}
        assert "no feed named 'ar-news'" in reports["ar-news"].not_sent
        assert (reports["ar-news"].sent, reports["ar-news"].pending, reports["en-news"].sent) == (0, 2, 1)

    def test_subject_with_a_line_break_fails_nobody(self, pub, store, server, tmp_path) -> None:
        """A digest whose subject cannot be a header is not sent; its copies wait, none 'failed'."""
        subscribe(store, pub, 2, tmp_path)
        broken = replace(make_digest(), subject="نشرة\nBcc: all@example.com")
        (report,) = send(pub, store, server, [broken])
        assert (report.sent, report.pending, report.failed) == (0, 2, ())
        assert "line break" in report.not_sent and not server.received

    def test_unsubscribed_before_sending_gets_nothing(self, pub, store, server, tmp_path) -> None:
        """An address that unsubscribes after planning but before sending is cancelled."""
        emails = subscribe(store, pub, 3, tmp_path)
        send(pub, store, None)
        set_status(store, emails[2], "unsubscribed", now=NOW)
        (report,) = send(pub, store, server)
        assert (report.sent, report.cancelled) == (2, 1)
        assert emails[2] not in server.copies()

    def test_rate_limit_spaces_messages(self, pub, store, server, tmp_path) -> None:
        """rate_per_minute = 120 waits half a second between messages (on an injected clock)."""
        site = pub.root / "feeds" / "site.toml"
        site.write_text(site.read_text(encoding="utf-8") + "rate_per_minute = 120\n", encoding="utf-8")
        limited = load_publication(pub.root)
        subscribe(store, limited, 3, tmp_path)
        clock = [100.0]
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            clock[0] += seconds

        send(limited, store, server, sleep=sleep, clock=lambda: clock[0])
        assert sleeps == [0.5, 0.5]
        assert statuses(store) == {"sent": 3}


class TestEndToEnd:
    @pytest.mark.slow
    def test_run_unsubscribe_run_and_nothing_personal_under_output(self, sample_pub, server,
                                                                  monkeypatch) -> None:
        """masthead run sends; POST to a message's URL stops the next digest; GET and forgeries don't."""
        monkeypatch.setenv("MASTHEAD_SMTP_URL", server.url)
        monkeypatch.delenv("MASTHEAD_SECRET", raising=False)
        pub = load_publication(sample_pub)
        people = ["amal@example.com", "badr@example.com", "camil@example.com"]
        with open_store(pub.state_dir) as s:
            for email in people:
                add_subscriber(s, pub, email, name="قارئ", feeds=["ar-news"], now=NOW)
        first = run(pub, now=datetime(2022, 5, 7, 6, 0, tzinfo=UTC), smtp=parse_smtp_url(server.url))
        (delivery,) = [d for d in first.deliveries if d.feed == "ar-news"]
        assert (delivery.recipients, delivery.sent) == (3, 3)
        urls = {r.rcpt: r.message["List-Unsubscribe"].split(",")[0].strip("<> ") for r in server.received}

        app = make_app(pub.root)

        def request(url: str, method: str, body: bytes = b"") -> int:
            parts = urlsplit(url)
            environ = {"REQUEST_METHOD": method, "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
                       "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
            setup_testing_defaults(environ)
            seen = []
            b"".join(app(environ, lambda status, headers: seen.append(int(status.split()[0]))))
            return seen[0]

        camil_token = parse_qs(urlsplit(urls["camil@example.com"]).query)["token"][0]
        badr_part = base64.urlsafe_b64encode(b"badr@example.com").rstrip(b"=").decode()
        forged = urls["camil@example.com"].replace(camil_token, f"{badr_part}.{camil_token.split('.')[1]}")
        assert request(urls["amal@example.com"], "POST", b"List-Unsubscribe=One-Click") == 200
        assert request(urls["badr@example.com"], "GET") == 200
        assert request(forged, "POST", b"List-Unsubscribe=One-Click") == 403

        (pub.root / "feeds" / "ar-news" / "next-day.md").write_text(
            '---\ntitle: "خبر اليوم التالي"\ndate: 2022-05-07T10:00:00+03:00\n---\n\nنص الخبر.\n',
            encoding="utf-8")
        server.received.clear()
        second = run(pub, now=datetime(2022, 5, 8, 6, 0, tzinfo=UTC), smtp=parse_smtp_url(server.url))
        assert [d.digest_id for d in second.deliveries if d.sent] == ["ar-news/daily/2022-05-07"]
        assert server.copies() == {"badr@example.com": 1, "camil@example.com": 1}

        secret = load_secret(pub.state_dir)
        needles = [e.encode() for e in people] + [secret] + [
            parse_qs(urlsplit(u).query)["token"][0].encode() for u in urls.values()]
        for path in pub.output_dir.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                assert not [n for n in needles if n in content], path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Path:
    """A self-signed certificate for 127.0.0.1 (cert and key in one PEM folder)."""
    folder = tmp_path_factory.mktemp("tls")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return folder


class TestTls:
    def _server(self, certificate: Path, **options: object) -> MailServer:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
        server: MailServer

        def authenticate(_server, _session, _envelope, mechanism, data):
            server.logins.append((data.login.decode(), data.password.decode()))
            return AuthResult(success=data.password == b"p@ss word", handled=False)

        implicit = options.pop("implicit", False)
        # aiosmtpd only knows STARTTLS as "TLS" for auth_require_tls; smtps is TLS throughout
        options = {("ssl_context" if implicit else "tls_context"): context,
                   "authenticator": authenticate, "auth_require_tls": not implicit, **options}
        server = MailServer(**options).start()
        return server

    def test_starttls_then_login(self, pub, store, tmp_path, certificate, monkeypatch) -> None:
        """smtp://user:pass@... upgrades with STARTTLS, then logs in with the decoded password."""
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate / "cert.pem"))
        server = self._server(certificate, require_starttls=True)
        try:
            emails = subscribe(store, pub, 2, tmp_path)
            (report,) = send(pub, store, f"smtp://news:p%40ss%20word@127.0.0.1:{server.port}")
            assert report.sent == 2
            assert {("news", "p@ss word")} == set(server.logins)     # on each connection it used
            assert dict.fromkeys(emails, 1) == server.copies()
        finally:
            server.stop()

    def test_smtps_and_a_refused_login(self, pub, store, tmp_path, certificate, monkeypatch) -> None:
        """smtps:// speaks TLS from the start; a wrong password stops the run, nothing is sent."""
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate / "cert.pem"))
        server = self._server(certificate, implicit=True)
        try:
            subscribe(store, pub, 2, tmp_path)
            (refused,) = send(pub, store, f"smtps://news:wrong@127.0.0.1:{server.port}")
            (report,) = send(pub, store, f"smtps://news:p%40ss%20word@127.0.0.1:{server.port}")
            assert "refused the login" in refused.not_sent and refused.pending == 2
            assert "wrong" not in refused.not_sent
            assert (report.sent, report.pending) == (2, 0)
        finally:
            server.stop()

    def test_untrusted_certificate_is_not_used(self, pub, store, tmp_path, certificate) -> None:
        """Without trusting the server's certificate nothing is sent, and the report says TLS."""
        server = self._server(certificate, implicit=True)
        try:
            subscribe(store, pub, 1, tmp_path)
            (report,) = send(pub, store, f"smtps://127.0.0.1:{server.port}")
            assert (report.sent, report.pending) == (0, 1)
            assert "TLS" in report.not_sent
        finally:
            server.stop()


class TestSendCommand:
    def test_send_reports_and_exits_by_outcome(self, pub, store, server, tmp_path, monkeypatch, cli_env) -> None:
        """'masthead send' exits 4 without a server, then sends, then has nothing to do."""
        subscribe(store, pub, 2, tmp_path)
        send(pub, store, None)
        for name, value in cli_env.items():
            monkeypatch.setenv(name, value)
        runner = CliRunner()
        monkeypatch.delenv("MASTHEAD_SMTP_URL", raising=False)
        without = runner.invoke(main, ["send", "--project", str(pub.root)])
        monkeypatch.setenv("MASTHEAD_SMTP_URL", server.url)
        sent = runner.invoke(main, ["send", "--project", str(pub.root), "--json"])
        again = runner.invoke(main, ["send", "--project", str(pub.root)])
        assert [without.exit_code, sent.exit_code, again.exit_code] == [4, 0, 0]
        assert "no SMTP server" in without.output
        assert json.loads(sent.stdout)[0]["sent"] == 2
        assert "nothing to send" in again.output
