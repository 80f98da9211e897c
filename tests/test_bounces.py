"""Bounces and complaints: real DSN and ARF samples read right, tied to the right subscriber, acted on by policy.

The samples (tests/data/bounces/, from sisimai's set-of-emails corpus, BSD-2-Clause,
see SOURCES.md there) each have what a correct reader gets in EXPECTED.json.
"""

from __future__ import annotations

import json
import mailbox
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from masthead.cli import main
from masthead.config import load_publication
from masthead.state import feedback, sends
from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.bounces import process
from masthead.subscribers.dsn import read_report
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import load_secret, return_token

from .conftest import ROOT
from .imapserver import ImapServer

DATA = ROOT / "tests" / "data" / "bounces"
EXPECTED = json.loads((DATA / "EXPECTED.json").read_text("utf-8"))
NOW = datetime(2022, 5, 20, 6, 0, tzinfo=UTC)
DIGEST = "ar-news/daily/2022-05-06"


def what_was_read(raw: bytes) -> tuple[str, list[str], dict[str, str]]:
    """(kind as EXPECTED.json says it, recipients, recipient -> hard/soft)."""
    report = read_report(raw)
    if report.kind != "bounce":
        return report.kind, list(report.complained), {}
    kinds = {f.kind for f in report.failures}
    return (kinds.pop() if len(kinds) == 1 else "mixed", [f.recipient for f in report.failures],
            {f.recipient: f.kind for f in report.failures})


def sent_copy(store, secret: bytes, email: str, digest: str = DIGEST) -> str:
    """Record that ``digest`` went to ``email`` as delivery does; returns its return-path token."""
    sends.plan(store, digest, [email], "{}", now=NOW - timedelta(days=1))
    token = return_token(secret, digest, email)
    with store.transaction():
        sends.mark_sending(store, digest, email, f"<{token}@news.example.org>", now=NOW - timedelta(days=1))
        feedback.remember_return(store, token, digest, email)
    return token


@pytest.mark.parametrize("sample", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_every_sample_reads_as_expected(sample) -> None:
    """Each real sample gives the expected kind, recipients, per-recipient verdicts and DSN status."""
    raw = (DATA / sample["file"]).read_bytes()
    kind, recipients, per = what_was_read(raw)
    assert (sample["kind"], sorted(a.lower() for a in sample["recipients"])) == (kind, sorted(recipients))
    if sample["kind"] == "mixed":
        assert {p["recipient"].lower(): p["kind"] for p in sample["per_recipient"]} == per
    if sample["status_source"] == "dsn" and sample["status"]:
        assert {sample["status"]} == {f.status for f in read_report(raw).failures}


@pytest.mark.parametrize("sample", [e for e in EXPECTED if e["recipients"] and e["kind"] != "unreadable"],
                         ids=lambda e: e["file"])
def test_each_sample_suppresses_the_subscribers_it_names(sample, pub, store) -> None:
    """Read with --trust-addresses, a sample suppresses exactly the subscribers it names: hard -> bounced, complaint -> complained, soft stays active."""
    secret = load_secret(pub.state_dir)
    for address in sample["recipients"]:
        add_subscriber(store, pub, address, feeds=["ar-news"], now=NOW - timedelta(days=9))
    add_subscriber(store, pub, "bystander@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
    outcome = process(pub, store, secret, (DATA / sample["file"]).read_bytes(), where=sample["file"],
                      source="maildir", now=NOW, trust_addresses=True)
    kinds = {p["recipient"].lower(): p["kind"] for p in sample.get("per_recipient", [])}
    want = {a.lower(): kinds.get(a.lower(), sample["kind"]) for a in sample["recipients"]}
    assert want == {email: kind for email, kind, _, _ in outcome.events}
    status = {"hard": "bounced", "complaint": "complained", "soft": "active"}
    assert {a: status[k] for a, k in want.items()} == {a: get_subscriber(store, a).status for a in want}
    assert "active" == get_subscriber(store, "bystander@example.com").status


class TestReturnPath:
    def test_a_bounce_that_names_another_address_maps_through_its_token(self, pub, store) -> None:
        """Postfix's alias-expanded DSN names other addresses; the Delivered-To token ties it to our subscriber and digest."""
        secret = load_secret(pub.state_dir)
        add_subscriber(store, pub, "reader@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
        token = sent_copy(store, secret, "reader@example.com")
        raw = (f"Delivered-To: bounces+{token}@news.example.org\n".encode()
               + (DATA / "postfix/lhost-postfix-01.eml").read_bytes())
        outcome = process(pub, store, secret, raw, where="t", source="maildir", now=NOW)
        assert (("reader@example.com", "hard", DIGEST, "bounced"),) == outcome.events

    def test_a_bounce_quoting_nothing_maps_through_its_token(self, pub, store) -> None:
        """qmail's queue-expiry notice quotes nothing of the message: the token alone names the copy (soft)."""
        secret = load_secret(pub.state_dir)
        add_subscriber(store, pub, "reader@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
        token = sent_copy(store, secret, "reader@example.com")
        raw = (f"Delivered-To: bounces+{token}@news.example.org\n".encode()
               + (DATA / "qmail/lhost-qmail-07.eml").read_bytes())
        outcome = process(pub, store, secret, raw, where="t", source="maildir", now=NOW)
        assert (("reader@example.com", "soft", DIGEST, None),) == outcome.events

    def test_a_redacted_complaint_maps_through_the_enclosed_return_path(self, pub, store) -> None:
        """An ARF report with the recipient redacted still names the copy in the enclosed message's Return-Path."""
        secret = load_secret(pub.state_dir)
        add_subscriber(store, pub, "reader@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
        token = sent_copy(store, secret, "reader@example.com")
        raw = (DATA / "arf/arf-01.eml").read_bytes().replace(
            b"Return-Path: <support@example.ed.jp>", f"Return-Path: <bounces+{token}@news.example.org>".encode())
        outcome = process(pub, store, secret, raw, where="t", source="maildir", now=NOW)
        assert (("reader@example.com", "complaint", DIGEST, "complained"),) == outcome.events

    def test_a_forged_bounce_without_a_token_changes_nothing(self, pub, store) -> None:
        """A made-up DSN naming a subscriber, with no token of ours, is reported and not acted on."""
        secret = load_secret(pub.state_dir)
        add_subscriber(store, pub, "kijitora@example.org", feeds=["ar-news"], now=NOW - timedelta(days=9))
        outcome = process(pub, store, secret, (DATA / "postfix/lhost-postfix-01.eml").read_bytes(),
                          where="t", source="maildir", now=NOW)
        assert () == outcome.events
        assert "no return-path token" in (outcome.problem or "")
        assert "active" == get_subscriber(store, "kijitora@example.org").status

    def test_a_token_made_without_the_key_maps_to_nobody(self, pub, store) -> None:
        """A token of the right shape that the key did not make is ignored."""
        secret = load_secret(pub.state_dir)
        add_subscriber(store, pub, "reader@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
        sent_copy(store, secret, "reader@example.com")
        forged = return_token(b"another key entirely", DIGEST, "reader@example.com")
        raw = (f"Delivered-To: bounces+{forged}@news.example.org\n".encode()
               + (DATA / "postfix/lhost-postfix-01.eml").read_bytes())
        assert () == process(pub, store, secret, raw, where="t", source="maildir", now=NOW).events


class TestPolicy:
    def test_soft_bounces_suppress_after_the_limit(self, pub, store) -> None:
        """Two soft-bounced copies leave the address active; the third within 30 days makes it bounced, with why."""
        secret = load_secret(pub.state_dir)
        add_subscriber(store, pub, "full@example.com", feeds=["ar-news"], now=NOW - timedelta(days=40))
        sample = (DATA / "postfix/lhost-postfix-63.eml").read_bytes()   # 5.2.2 mailbox full
        statuses = []
        for day in (6, 7, 8):
            token = sent_copy(store, secret, "full@example.com", f"ar-news/daily/2022-05-0{day}")
            fresh = re.sub(rb"(?m)^Date: .*$", f"Date: {day} May 2022 09:00:00 +0000".encode(), sample, count=1)
            raw = f"Delivered-To: bounces+{token}@news.example.org\n".encode() + fresh
            process(pub, store, secret, raw, where="t", source="maildir", now=NOW)
            statuses.append(get_subscriber(store, "full@example.com").status)
        assert ["active", "active", "bounced"] == statuses


class TestCommand:
    def test_maildir_mbox_and_the_listing(self, sample_pub) -> None:
        """masthead bounces reads a Maildir, lists what it could not read, changes nothing the second time; subscribers list --json says when and why."""
        pub = load_publication(sample_pub)
        secret = load_secret(pub.state_dir)
        with open_store(pub.state_dir) as store:
            add_subscriber(store, pub, "gone@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
            token = sent_copy(store, secret, "gone@example.com")
        box = mailbox.Maildir(sample_pub / "Maildir", create=True)
        box.add(f"Delivered-To: bounces+{token}@news.example.org\n".encode()
                + (DATA / "sendmail/lhost-sendmail-01.eml").read_bytes())
        box.add((DATA / "not-bounce/is-not-bounce-01.eml").read_bytes())
        args = ["bounces", "--project", str(sample_pub), "--maildir", str(sample_pub / "Maildir"),
                "--now", "2022-05-20T06:00:00Z"]
        first = CliRunner().invoke(main, args)
        assert 0 == first.exit_code, first.output
        assert "hard bounce for gone@example.com (ar-news/daily/2022-05-06), now bounced" in first.output
        assert "not read: no failed recipient found" in first.output
        second = CliRunner().invoke(main, args)
        assert "0 acted on" in second.output
        listing = json.loads(CliRunner().invoke(main, ["subscribers", "list", "--project", str(sample_pub),
                                                       "--json"]).stdout)
        [entry] = listing
        assert ("bounced", "2022-05-20T06:00:00Z") == (entry["status"], entry["status_since"])
        assert "5.1.1" in entry["status_reason"]
        back = CliRunner().invoke(main, ["subscribers", "add", "gone@example.com", "--project", str(sample_pub),
                                         "--resubscribe"])
        assert 0 == back.exit_code
        assert "warning: gone@example.com had bounced on 2022-05-20T06:00:00Z" in back.output

    def test_mbox(self, sample_pub, tmp_path: Path) -> None:
        """An mbox file of bounces is read message by message."""
        pub = load_publication(sample_pub)
        secret = load_secret(pub.state_dir)
        with open_store(pub.state_dir) as store:
            add_subscriber(store, pub, "gone@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
            token = sent_copy(store, secret, "gone@example.com")
        box = mailbox.mbox(tmp_path / "bounces.mbox")
        box.add(f"Delivered-To: bounces+{token}@news.example.org\n".encode()
                + (DATA / "exim/lhost-exim-05.eml").read_bytes())
        box.close()
        result = CliRunner().invoke(main, ["bounces", "--project", str(sample_pub), "--mbox",
                                           str(tmp_path / "bounces.mbox"), "--json"])
        assert [{"email": "gone@example.com", "kind": "hard", "digest": DIGEST, "status": "bounced"}] == \
            json.loads(result.stdout)[0]["events"]

    def test_imap(self, sample_pub) -> None:
        """--imap reads the folder's unread messages with MASTHEAD_IMAP_PASSWORD, marks them read, and a wrong password is a clear error."""
        pub = load_publication(sample_pub)
        secret = load_secret(pub.state_dir)
        with open_store(pub.state_dir) as store:
            add_subscriber(store, pub, "gone@example.com", feeds=["ar-news"], now=NOW - timedelta(days=9))
            token = sent_copy(store, secret, "gone@example.com")
        bounce = f"Delivered-To: bounces+{token}@news.example.org\r\n".encode() + \
            (DATA / "postfix/lhost-postfix-63.eml").read_bytes()
        with ImapServer([bounce, (DATA / "not-bounce/is-not-bounce-02.eml").read_bytes()]) as imap:
            args = ["bounces", "--project", str(sample_pub), "--imap", imap.url]
            wrong = CliRunner().invoke(main, args, env={"MASTHEAD_IMAP_PASSWORD": "guess"})
            assert 2 == wrong.exit_code
            assert "cannot read 127.0.0.1" in wrong.output
            first = CliRunner().invoke(main, args, env={"MASTHEAD_IMAP_PASSWORD": "s3cret"})
            assert 0 == first.exit_code, first.output
            assert "soft bounce for gone@example.com (ar-news/daily/2022-05-06)" in first.output
            assert {1, 2} == imap.seen
            again = CliRunner().invoke(main, args, env={"MASTHEAD_IMAP_PASSWORD": "s3cret"})
            assert "0 messages" in again.output
