"""DKIM: keys made by `masthead dkim keygen`, every message signed as sent, verified by dkimpy against the printed record."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner

from masthead.cli import main
from masthead.config import load_publication
from masthead.send.dkim import key_from_pem, sign
from masthead.state.db import open_store
from masthead.subscribers.outbox import send_queued
from masthead.subscribers.roster import add_subscriber
from masthead.subscribers.signup import Signup, request_signup
from masthead.tokens import load_secret

from .mailserver import MailServer

NOW = "2022-05-07T06:00:00Z"


def keygen(root: Path, *args: str) -> str:
    """Run `masthead dkim keygen` and return the TXT record it prints."""
    result = CliRunner().invoke(main, ["dkim", "keygen", "--project", str(root), *args])
    assert 0 == result.exit_code, result.output
    return result.stdout.strip()


def use_selector(root: Path, selector: str, extra: str = "") -> None:
    site = root / "feeds" / "site.toml"
    site.write_text(site.read_text("utf-8") + f'dkim_selector = "{selector}"\n{extra}', "utf-8")


def dns_from(record: str):
    """A DNS answer for dkimpy built from the printed record only: its name and its quoted strings."""
    name, _, rest = record.partition(" TXT ")
    value = "".join(re.findall(r'"([^"]*)"', rest)).encode()

    def answer(qname: bytes, timeout: int = 5) -> bytes | None:
        return value if qname.decode().rstrip(".") == name else None

    return answer


@pytest.fixture
def server():
    mail = MailServer().start()
    yield mail
    mail.stop()


class TestSignedDigest:
    def test_a_digest_sent_over_smtp_verifies_and_a_changed_header_breaks_it(self, sample_pub, server) -> None:
        """Keygen, masthead run through a real SMTP server, dkimpy verifies the received bytes against the printed TXT record; a changed Subject fails."""
        record = keygen(sample_pub, "--selector", "mh1")
        assert record.startswith('mh1._domainkey.news.example.org TXT "v=DKIM1; k=rsa; p=')
        assert all(len(chunk) <= 255 for chunk in re.findall(r'"([^"]*)"', record))
        use_selector(sample_pub, "mh1")
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir) as store:
            add_subscriber(store, pub, "reader@example.com", name="سارة", feeds=["ar-news"],
                           now=datetime(2022, 5, 1, tzinfo=UTC))
        result = CliRunner().invoke(main, ["run", "--project", str(sample_pub), "--now", NOW],
                                    env={"MASTHEAD_SMTP_URL": server.url})
        assert 0 == result.exit_code, result.output
        [copy] = server.received
        signature = copy.message["DKIM-Signature"]
        signed = {h.strip().lower() for h in re.search(r"h=([^;]+)", re.sub(r"\s", "", str(signature))).group(1).split(":")}
        assert {"from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
                "list-unsubscribe-post", "mime-version", "content-type", "feedback-id"} <= signed
        assert "c=relaxed/relaxed" in re.sub(r"\s", "", str(signature))
        assert dkim.verify(copy.raw, dnsfunc=dns_from(record))
        tampered = re.sub(rb"(?m)^Subject: .*$", b"Subject: =?utf-8?q?changed?=", copy.raw, count=1)
        assert tampered != copy.raw
        assert not dkim.verify(tampered, dnsfunc=dns_from(record))

    def test_the_return_path_names_the_copy(self, sample_pub, server) -> None:
        """Each copy leaves from bounces+TOKEN@ the From domain: 24 base32 characters, different per address."""
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir) as store:
            for email in ("a@example.com", "b@example.com"):
                add_subscriber(store, pub, email, feeds=["ar-news"], now=datetime(2022, 5, 1, tzinfo=UTC))
        CliRunner().invoke(main, ["run", "--project", str(sample_pub), "--now", NOW], env={"MASTHEAD_SMTP_URL": server.url})
        senders = {r.rcpt: r.mail_from for r in server.received}
        assert {"a@example.com", "b@example.com"} == set(senders)
        assert all(re.fullmatch(r"bounces\+[a-z2-7]{24}@news\.example\.org", s) for s in senders.values())
        assert senders["a@example.com"] != senders["b@example.com"]


class TestKeys:
    def test_ed25519_keys_sign_and_verify(self, sample_pub) -> None:
        """An Ed25519 key (RFC 8463) from keygen signs a message that dkimpy verifies with its k=ed25519 record."""
        record = keygen(sample_pub, "--selector", "ed1", "--ed25519")
        assert 'k=ed25519; p=' in record
        pem = (sample_pub / ".masthead" / "dkim" / "ed1.pem").read_bytes()
        key = key_from_pem(pem, domain="news.example.org", selector="ed1", where="test")
        data = (b"From: a@news.example.org\r\nTo: b@example.com\r\nSubject: hi\r\nDate: Sat, 07 May 2022 06:00:00 +0000\r\n"
                b"Message-ID: <1@news.example.org>\r\n\r\nbody\r\n")
        assert dkim.verify(sign(data, key), dnsfunc=dns_from(record))

    def test_the_key_is_private_and_never_overwritten(self, sample_pub) -> None:
        """The key file is 0600 in .masthead/dkim/, and a second keygen with the same selector is refused."""
        keygen(sample_pub, "--selector", "s1")
        path = sample_pub / ".masthead" / "dkim" / "s1.pem"
        assert 0o600 == path.stat().st_mode & 0o777
        again = CliRunner().invoke(main, ["dkim", "keygen", "--project", str(sample_pub), "--selector", "s1"])
        assert 2 == again.exit_code
        assert "exists already" in again.output

    def test_a_key_from_the_environment_signs_confirmations(self, sample_pub, server) -> None:
        """MASTHEAD_DKIM_KEY_FILE's key (outside the publication) signs the sign-up confirmation mail too."""
        record = keygen(sample_pub, "--selector", "ops")
        outside = sample_pub.parent / "dkim.pem"
        (sample_pub / ".masthead" / "dkim" / "ops.pem").rename(outside)
        use_selector(sample_pub, "ops")
        pub = load_publication(sample_pub)
        from masthead.cli.common import smtp_for
        from masthead.config import read_environment

        env = read_environment({"MASTHEAD_SMTP_URL": server.url, "MASTHEAD_DKIM_KEY_FILE": str(outside)})
        now = datetime(2022, 5, 7, tzinfo=UTC)
        with open_store(pub.state_dir) as store:
            queued = request_signup(pub, store, load_secret(pub.state_dir),
                                    Signup("new@example.com", None, ("ar-news",)), now=now, client="192.0.2.1")
            sent = send_queued(pub, store, load_secret(pub.state_dir), smtp_for(pub, env), now=now)
        assert ("queued", 1) == (queued, sent)
        [copy] = server.received
        assert "bounces@news.example.org" == copy.mail_from
        assert dkim.verify(copy.raw, dnsfunc=dns_from(record))


class TestCheck:
    def test_check_warns_when_domains_do_not_align(self, sample_pub) -> None:
        """masthead check warns when the DKIM domain is not the From domain (nor a parent of it)."""
        keygen(sample_pub, "--selector", "k1")
        use_selector(sample_pub, "k1", 'dkim_domain = "mailer.example.net"\n')
        result = CliRunner().invoke(main, ["check", "--project", str(sample_pub)])
        assert 0 == result.exit_code
        assert "DKIM domain mailer.example.net does not align with the From domain news.example.org" in result.output

    def test_check_says_when_mail_is_unsigned(self, sample_pub) -> None:
        """Without a selector, masthead check says that mail goes unsigned and how to fix it."""
        result = CliRunner().invoke(main, ["check", "--project", str(sample_pub)])
        assert "not DKIM-signed" in result.output
