"""Attacks 1, 8 and 9: forged mail through names, names that break every later copy, a From of two addresses."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from masthead.cli import main
from masthead.config import load_publication
from masthead.errors import ConfigError, InputError
from masthead.send.delivery import deliver
from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.csvimport import import_csv
from masthead.subscribers.roster import add_subscriber
from tests.mailserver import MailServer, make_digest

from .conftest import Served

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)
FORGED_NAMES = [
    "=?utf-8?q?Friend=0D=0ASubject:_Urgent=0D=0A=0D=0APay_now?=",     # the reported attack
    "=?UTF-8?B?RnJpZW5kDQpCY2M6IGFsbEBleGFtcGxlLmNvbQ==?=",           # the same in base64: CRLF Bcc:
    "Eve =?iso-8859-1?q?=0ABcc=3A_x=40evil=2Eexample?= Smith",        # inside a longer name
    "Eve\r\nBcc: all@example.com", "Eve\nBcc: all@example.com",
    "Eve\u2028Bcc: all@example.com", "Eve\u2029x", "Eve\x85Bcc: all@example.com",
    "Eve\x0bx", "Eve\x00x", "Eve\x1b[31m",
    "E" * 8000,                                                       # attacker text in bulk
]


@pytest.mark.parametrize("name", FORGED_NAMES, ids=range(len(FORGED_NAMES)))
def test_forged_names_are_refused_by_the_form(served: Served, mail: MailServer, name: str) -> None:
    """Encoded-words, controls, line and paragraph separators and huge names get 400 and no mail goes."""
    answer = served.sign_up("victim@example.com", name=name)
    served.drained()
    assert (400, []) == (answer.status, mail.received)
    assert "<html" in answer.text and "Traceback" not in answer.text


def test_the_confirmation_carries_no_text_of_the_stranger(served: Served, mail: MailServer) -> None:
    """A name the form accepts still never reaches the confirmation mail: only the address does."""
    answer = served.sign_up("victim@example.com", name="Buy cheap pills at spam.example")
    served.drained()
    [received] = mail.received
    raw = received.raw.decode("utf-8", "replace")
    assert 200 == answer.status and "spam.example" not in raw and "pills" not in raw
    assert "victim@example.com" == received.message["To"]


@pytest.mark.parametrize("name", FORGED_NAMES[:8], ids=range(8))
def test_forged_names_are_refused_by_subscribers_add_and_import(pub, store, tmp_path: Path, name: str) -> None:
    """`subscribers add --name` refuses them with a message; a CSV row holding one is skipped with its line."""
    with pytest.raises(InputError, match="cannot be used"):
        add_subscriber(store, pub, "a@example.com", name=name, now=NOW)
    csv = tmp_path / "readers.csv"
    csv.write_text('email,name\n"b@example.com","' + name.replace('"', "'") + '"\n', encoding="utf-8")
    report = import_csv(store, pub, csv, now=NOW)
    assert (0, [2]) == (report.added, [row.line for row in report.skipped])
    assert get_subscriber(store, "a@example.com") is None and get_subscriber(store, "b@example.com") is None


def test_a_name_stored_earlier_is_caught_at_message_build_once(pub, store) -> None:
    """A forged name already in the state (from an older masthead) is refused before SMTP, reported once,
    and its address suppressed: the next digest goes to the others and the run is clean."""
    add_subscriber(store, pub, "good@example.com", feeds=["ar-news"], now=NOW)
    add_subscriber(store, pub, "old@example.com", feeds=["ar-news"], now=NOW)
    store.execute("UPDATE subscribers SET name = ? WHERE email = ?", (FORGED_NAMES[0], "old@example.com"))
    mail = MailServer().start()
    try:
        first = deliver(pub, store, [make_digest(day=7)], now=NOW, smtp=mail.settings)
        second = deliver(pub, store, [make_digest(day=8)], now=NOW, smtp=mail.settings)
    finally:
        mail.stop()
    assert ["old@example.com"] == [f.email for f in first[0].failed]
    assert (0, "refused") == (len(second[0].failed), get_subscriber(store, "old@example.com").status)
    assert ["good@example.com", "good@example.com"] == [r.rcpt for r in mail.received]
    assert all("Bcc" not in r.raw.decode() and "Urgent" not in r.raw.decode() for r in mail.received)


def test_an_article_title_with_an_encoded_word_stays_text_in_the_subject(pub, store) -> None:
    """A digest subject holding '=?...?=' (from an upstream title) arrives as the same text, no header added."""
    add_subscriber(store, pub, "good@example.com", feeds=["ar-news"], now=NOW)
    digest = make_digest(day=7)
    subject = "News =?utf-8?q?x=0D=0ABcc:_all@example.com?="
    digest = type(digest)(**{**{f: getattr(digest, f) for f in digest.__dataclass_fields__}, "subject": subject})
    mail = MailServer().start()
    try:
        deliver(pub, store, [digest], now=NOW, smtp=mail.settings)
    finally:
        mail.stop()
    [received] = mail.received
    assert (subject, None) == (received.message["Subject"], received.message["Bcc"])


class TestFrom:
    def test_a_title_with_a_comma_gives_one_sender(self, sample_pub: Path) -> None:
        """The default From of a site titled 'News, Today' is one address, and MAIL FROM is that address."""
        site = sample_pub / "feeds" / "site.toml"
        text = site.read_text(encoding="utf-8").replace('title = "مرصد الأخبار"', 'title = "News, Today"')
        site.write_text(text.replace('from = "مرصد الأخبار <newsletter@news.example.org>"\n', ""), "utf-8")
        settings = load_publication(sample_pub).site.email
        header = email.policy.default.header_factory("From", settings.sender)
        assert [("News, Today", "newsletter@news.example.org")] == [
            (a.display_name, a.addr_spec) for a in header.addresses]
        assert "newsletter@news.example.org" == settings.sender_address

    @pytest.mark.parametrize("value", ["News, Today <newsletter@news.example.org>", "News",
                                       "a@example.org, b@example.org", "=?utf-8?q?A=0D=0AB?= <a@example.org>"])
    def test_a_from_that_is_not_one_address_is_a_config_error(self, sample_pub: Path, value: str) -> None:
        """email.from must parse as exactly one address; masthead check says so and exits 2."""
        site = sample_pub / "feeds" / "site.toml"
        site.write_text(site.read_text(encoding="utf-8").replace(
            'from = "مرصد الأخبار <newsletter@news.example.org>"', f"from = '{value}'"), "utf-8")
        with pytest.raises(ConfigError, match=r"email\.from"):
            load_publication(sample_pub)
        result = CliRunner().invoke(main, ["check", "--project", str(sample_pub)])
        assert 2 == result.exit_code and "email.from" in result.output

    def test_titles_with_separators_are_config_errors(self, sample_pub: Path) -> None:
        """A site title holding U+2028 (it would go in From and List-Id) stops the run with exit 2."""
        site = sample_pub / "feeds" / "site.toml"
        site.write_text(site.read_text(encoding="utf-8").replace(
            'title = "مرصد الأخبار"', 'title = "News\\u2028Bcc: x@example.org"'), "utf-8")
        with pytest.raises(ConfigError, match="title"):
            load_publication(sample_pub)


def test_digest_to_header_is_parsed_back_as_one_address(pub, store, database) -> None:
    """Every delivered copy's To header holds exactly the subscriber's address and name."""
    add_subscriber(store, pub, "x@example.com", name='Ann "The Boss", Jr. <admin@example.com>',
                   feeds=["ar-news"], now=NOW)
    mail = MailServer().start()
    try:
        deliver(pub, store, [make_digest(day=7)], now=NOW, smtp=mail.settings)
    finally:
        mail.stop()
    message = email.message_from_bytes(mail.received[0].raw, policy=email.policy.default)
    assert ["x@example.com"] == [a.addr_spec for a in message["To"].addresses]
    with open_store(pub.state_dir, database) as other:
        assert "active" == get_subscriber(other, "x@example.com").status
