"""What came back, per digest: run --json and the summary count sent, bounced, complained, unsubscribed; masthead report draws it privately."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from masthead.cli import main
from masthead.config import load_publication
from masthead.serve import make_app
from masthead.state.db import open_store
from masthead.subscribers.bounces import process
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import load_secret, make_token

from .conftest import ROOT
from .mailserver import MailServer
from .test_serve import call

DATA = ROOT / "tests" / "data" / "bounces"
DIGEST = "ar-news/daily/2022-05-06"
READERS = ("bounce@example.com", "complain@example.com", "leave@example.com", "stay@example.com")


@pytest.fixture
def sent(sample_pub):
    """The sample publication after its first run mailed the Arabic digest to four readers over SMTP."""
    pub = load_publication(sample_pub)
    with open_store(pub.state_dir) as store:
        for email in READERS:
            add_subscriber(store, pub, email, feeds=["ar-news"], now=datetime(2022, 5, 1, tzinfo=UTC))
    server = MailServer().start()
    try:
        result = CliRunner().invoke(main, ["run", "--project", str(sample_pub), "--now", "2022-05-07T06:00:00Z"],
                                    env={"MASTHEAD_SMTP_URL": server.url})
        assert 0 == result.exit_code, result.output
    finally:
        server.stop()
    return pub, {r.rcpt: r for r in server.received}


def test_numbers_per_digest_in_run_json_and_summary(sent) -> None:
    """A DSN to one copy's return path, a complaint quoting another's, a one-click unsubscribe: the next run counts 4 sent, 1 bounced, 1 complained, 1 unsubscribed."""
    pub, received = sent
    secret = load_secret(pub.state_dir)
    when = datetime(2022, 5, 7, 9, tzinfo=UTC)
    bounce = f"Delivered-To: {received['bounce@example.com'].mail_from}\n".encode() + \
        (DATA / "exchange/lhost-exchange2007-01.eml").read_bytes()
    complaint = (DATA / "arf/arf-01.eml").read_bytes().replace(
        b"Return-Path: <support@example.ed.jp>", f"Return-Path: <{received['complain@example.com'].mail_from}>".encode())
    with open_store(pub.state_dir) as store:
        for raw in (bounce, complaint):
            process(pub, store, secret, raw, where="test", source="maildir", now=when)
    app = make_app(pub.root)
    token = make_token(secret, "leave@example.com", "ar-news")
    assert 200 == call(app, f"/unsubscribe?token={token}", "POST", b"List-Unsubscribe=One-Click")[0]

    result = CliRunner().invoke(main, ["run", "--project", str(pub.root), "--now", "2022-05-08T06:00:00Z", "--json"])
    report = json.loads(result.stdout)
    [mail] = [m for m in report["mail"] if m["digest"] == DIGEST]
    assert {"recipients": 4, "sent": 4, "bounced": 1, "complained": 1, "unsubscribed": 1} == \
        {k: mail[k] for k in ("recipients", "sent", "bounced", "complained", "unsubscribed")}
    assert "mail ar-news/daily/2022-05-06: 4 sent, 1 bounced, 1 complained, 1 unsubscribed" in result.stderr
    listing = {s["email"]: s["status"] for s in json.loads(CliRunner().invoke(
        main, ["subscribers", "list", "--project", str(pub.root), "--json"]).stdout)}
    assert {"bounce@example.com": "bounced", "complain@example.com": "complained",
            "leave@example.com": "unsubscribed", "stay@example.com": "active"} == listing


def test_the_report_page_is_private_and_drawn(sent) -> None:
    """masthead report writes an owner-only page under .masthead/ with an SVG chart per series group, nothing under output/."""
    pub, _ = sent
    result = CliRunner().invoke(main, ["report", "--project", str(pub.root), "--now", "2022-05-08T06:00:00Z"])
    assert 0 == result.exit_code, result.output
    path = pub.state_dir / "report.html"
    assert str(path) == result.stdout.strip()
    assert 0o600 == path.stat().st_mode & 0o777
    page = path.read_text("utf-8")
    assert 6 == page.count("<svg")                      # two charts for each of the three digest feeds
    assert 'lang="ar" dir="rtl"' in page
    assert re.search(r"<td>4</td><td>4</td><td>0</td><td>0</td><td>0</td>", page)   # the Arabic digest's row
    assert "@" not in page                              # no address on the page
    assert not any("report" in p.name for p in pub.output_dir.rglob("*"))


def test_digest_copies_carry_a_feedback_id(sent) -> None:
    """Every copy has Gmail's Feedback-ID: issue, feed, cadence, sender."""
    _, received = sent
    assert "2022-05-06:ar-news:daily:news.example.org" == str(received["stay@example.com"].message["Feedback-ID"])
