"""Attack 10: two senders at once without the lock (a deleted lock file) repeated copies."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from masthead.config import load_publication
from masthead.send.delivery import deliver
from masthead.send.smtp import Connection
from masthead.state import sends
from masthead.state.db import open_store
from masthead.subscribers.csvimport import import_csv
from tests.mailserver import MailServer, make_digest

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)


def test_two_senders_racing_send_each_copy_once(sample_pub, tmp_path) -> None:
    """Two `deliver` runs at once on one state (no lock between them) send each of 150 copies exactly once."""
    pub = load_publication(sample_pub)
    readers = tmp_path / "readers.csv"
    readers.write_text("email,name,feeds\n" + "".join(f"r{i:03d}@example.com,,ar-news\n" for i in range(150)),
                       encoding="utf-8")
    with open_store(pub.state_dir) as store:
        import_csv(store, pub, readers, now=NOW)
    mail = MailServer().start()
    digest = make_digest(day=7)
    try:
        def send() -> None:
            with open_store(pub.state_dir) as store:
                deliver(pub, store, [digest], now=NOW, smtp=mail.settings, secret=b"s" * 32)

        senders = [threading.Thread(target=send) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(120)
    finally:
        mail.stop()
    assert {f"r{i:03d}@example.com": 1 for i in range(150)} == mail.copies()
    with open_store(pub.state_dir) as store:
        assert {"sent": 150} == sends.status_counts(store, digest.id)


def test_the_loser_of_a_claim_never_sends_the_dot(sample_pub) -> None:
    """A copy another sender claimed between our DATA and our dot is abandoned: the server keeps nothing."""
    pub = load_publication(sample_pub)
    mail = MailServer().start()
    try:
        connection = Connection(mail.settings, local_hostname="test")
        connection.open()
        outcome = connection.transmit("a@example.org", "b@example.org", b"Subject: x\r\n\r\nbody\r\n",
                                      lambda: False)
        connection.open()
        after = connection.transmit("a@example.org", "c@example.org", b"Subject: y\r\n\r\nbody\r\n", lambda: True)
        connection.close()
    finally:
        mail.stop()
    assert ("taken", "accepted") == (outcome.kind, after.kind)
    assert ["c@example.org"] == [r.rcpt for r in mail.received]
    assert pub.site.email.sender_address == "newsletter@news.example.org"


def test_a_state_change_never_undoes_another_senders_work(store) -> None:
    """A late 'pending' (a deferral) cannot overwrite a copy another sender already marked sent."""
    sends.plan(store, "d/daily/2022-05-07", ["a@example.com"], "{}", now=NOW)
    with store.transaction():
        assert sends.mark_sending(store, "d/daily/2022-05-07", "a@example.com", "<m@x>", now=NOW)
        assert not sends.mark_sending(store, "d/daily/2022-05-07", "a@example.com", "<m@x>", now=NOW)
        sends.update(store, [sends.Change("sent", "250 ok", NOW, True, "d/daily/2022-05-07", "a@example.com",
                                          "sending")])
        sends.update(store, [sends.Change("pending", "421 later", NOW, True, "d/daily/2022-05-07",
                                          "a@example.com", "pending")])
    assert {"sent": 1} == sends.status_counts(store, "d/daily/2022-05-07")


def test_a_run_starting_beside_a_sending_one_leaves_it_its_delivered_copy(store) -> None:
    """A second run that drops the claims of runs it takes for dead does not stop the live one recording 'sent'."""
    digest = "d/daily/2022-05-07"
    sends.plan(store, digest, ["a@example.com"], "{}", now=NOW)
    with store.transaction():
        assert ["a@example.com"] == sends.claim(store, digest, "run:first", after="", limit=10, now=NOW,
                                                until=NOW + timedelta(minutes=1))
        assert sends.mark_sending(store, digest, "a@example.com", "<m@x>", now=NOW, worker="run:first")
    with store.transaction():
        sends.drop_claims(store, digest, "run:")        # the second run starts: it holds the lock now
    with store.transaction():
        sends.update(store, [sends.Change("sent", "250 ok", NOW, True, digest, "a@example.com", "sending")],
                     worker="run:first")
    assert {"sent": 1} == sends.status_counts(store, digest)
