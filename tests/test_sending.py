"""Sending over several SMTP connections at once, with PIPELINING where the server offers it.

A real aiosmtpd server on 127.0.0.1 (tests/mailserver.py) notes every RCPT:
when it came, on which connection, and whether DATA came with it.
"""

from __future__ import annotations

import email.policy
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest

from masthead.config import Publication, load_publication
from masthead.errors import ConfigError
from masthead.records import Recipient
from masthead.send.copies import Stencil
from masthead.send.message import build_message
from masthead.send.wire import wire_bytes
from masthead.state.db import Store
from masthead.state.roster import get as get_subscriber
from tests.mailserver import MailServer, make_digest
from tests.test_delivery import NOW, send, statuses, subscribe


def with_email(pub: Publication, settings: str) -> Publication:
    """The publication with ``settings`` added to its [email] table (the last one in site.toml)."""
    site = pub.root / "feeds" / "site.toml"
    site.write_text(site.read_text(encoding="utf-8") + settings, encoding="utf-8")
    return load_publication(pub.root)


@pytest.fixture
def pipelining() -> Iterator[MailServer]:
    srv = MailServer(pipelining=True).start()
    yield srv
    srv.stop()


@pytest.fixture
def plain() -> Iterator[MailServer]:
    srv = MailServer().start()
    yield srv
    srv.stop()


class TestConnections:
    def test_four_connections_send_each_subscriber_one_copy(self, pub: Publication, store: Store,
                                                            pipelining: MailServer, tmp_path: Path) -> None:
        """With connections = 4, 120 subscribers get exactly one copy each, over more than one connection."""
        four = with_email(pub, "connections = 4\n")
        emails = subscribe(store, four, 120, tmp_path)
        (report,) = send(four, store, pipelining)
        assert dict.fromkeys(emails, 1) == pipelining.copies()
        assert (report.sent, report.uncertain, statuses(store)) == (120, 0, {"sent": 120})
        assert 1 < len({rcpt.peer for rcpt in pipelining.rcpts}) <= 4

    def test_rate_limit_is_the_senders_not_each_connections(self, pub: Publication, store: Store,
                                                           plain: MailServer, tmp_path: Path) -> None:
        """rate_per_minute = 600 over 4 connections still starts one message every 0.1 s, not four."""
        limited = with_email(pub, "connections = 4\nrate_per_minute = 600\n")
        subscribe(store, limited, 6, tmp_path)
        send(limited, store, plain, sleep=time.sleep)
        moments = sorted(rcpt.moment for rcpt in plain.rcpts)
        assert len(moments) == 6
        assert moments[-1] - moments[0] >= 0.45     # five gaps of 0.1 s (less a little for the way there)

    @pytest.mark.parametrize("value", ["0", "33", '"4"', "true", "-1"])
    def test_bad_connections_value_names_the_file_and_key(self, pub: Publication, value: str) -> None:
        """connections must be a whole number from 1 to 32: anything else is a ConfigError naming the key."""
        with pytest.raises(ConfigError) as caught:
            with_email(pub, f"connections = {value}\n")
        assert "email.connections" in str(caught.value)
        assert "site.toml" in str(caught.value)


class TestPipelining:
    def test_envelope_goes_in_one_batch_when_offered(self, pub: Publication, store: Store,
                                                     pipelining: MailServer, tmp_path: Path) -> None:
        """A server offering PIPELINING gets MAIL, RCPT and DATA together for every copy."""
        subscribe(store, pub, 5, tmp_path)
        send(pub, store, pipelining)
        assert [True] * 5 == [rcpt.with_data for rcpt in pipelining.rcpts]

    def test_one_command_at_a_time_when_not_offered(self, pub: Publication, store: Store,
                                                    plain: MailServer, tmp_path: Path) -> None:
        """A server without PIPELINING gets each command after the answer to the one before."""
        subscribe(store, pub, 5, tmp_path)
        send(pub, store, plain)
        assert [False] * 5 == [rcpt.with_data for rcpt in plain.rcpts]
        assert 5 == len(plain.received)

    def test_refused_rcpt_in_a_batch_fails_and_suppresses_that_address(self, pub: Publication, store: Store,
                                                                        pipelining: MailServer,
                                                                        tmp_path: Path) -> None:
        """550 to a pipelined RCPT: that copy fails with the reply and the address is bounced; the rest go."""
        emails = subscribe(store, pub, 4, tmp_path)
        pipelining.faults.refuse[emails[1]] = "550 5.1.1 <reader0001@example.com>: no such user"
        (report,) = send(pub, store, pipelining)
        assert report.sent == 3
        assert [(emails[1], "550 5.1.1 <reader0001@example.com>: no such user")] == [
            (f.email, f.reply) for f in report.failed]
        assert get_subscriber(store, emails[1]).status == "bounced"
        assert sorted(set(emails) - {emails[1]}) == sorted(pipelining.copies())


class TestCopies:
    NAMES = (None, "Ann O'Neil", 'Bob "the" Builder', "Bob Smith", "a, b", "x" * 90, "قارئ 5", "محمد",
             "Émile Zola", "فاطمة الزهراء بنت محمد بن عبد الله الهاشمية القرشية", "日本語 名前 " * 5)
    ADDRESSES = ("r@example.com", "o'brien+x@ex-ample.org",
                 "a.very.long.address.name.that.goes.on.and.on.and.on.and.on@sub.domain.example.com")

    @pytest.mark.parametrize("utf8", [False, True])
    def test_copy_from_the_stencil_is_the_message_built_alone(self, pub: Publication, utf8: bool) -> None:
        """Each copy put together from the digest serialised once reads exactly as the message built for
        that reader alone: every byte the same but the encoding of To, whose name and address decode the same."""
        digest = make_digest()
        stencil = Stencil(pub, digest, date=NOW, utf8=utf8)
        for address in self.ADDRESSES:
            for name in self.NAMES:
                reader = Recipient(address, name, "https://news.example.org/unsubscribe?token=" + "Ab_-" * 30)
                alone = message_from_bytes(wire_bytes(build_message(pub, digest, reader, date=NOW), utf8=utf8),
                                           policy=email.policy.default)
                data, message_id = stencil.copy(reader)
                copy = message_from_bytes(data, policy=email.policy.default)
                assert (alone["To"].addresses, alone["Message-ID"]) == (copy["To"].addresses, message_id)
                del alone["To"], copy["To"]
                assert alone.as_bytes() == copy.as_bytes()
