"""Many senders: 'masthead run --no-send' plans, 'masthead send --worker' processes share the sending.

Workers run against a real SMTP server on 127.0.0.1, once with the state in
SQLite and once in PostgreSQL; the run lock across machines needs PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from masthead.config import Publication, load_publication
from masthead.pipeline import run
from masthead.send.claims import Claims
from masthead.send.worker import work
from masthead.state import sends
from masthead.state.db import Store, open_store, stamp

from .conftest import SECRET
from .mailserver import MailServer, make_digest
from .test_delivery import NOW, QUICK, subscribe
from .test_delivery import send as deliver_now

DIGEST = make_digest().id


@pytest.fixture
def server() -> Iterator[MailServer]:
    srv = MailServer().start()
    yield srv
    srv.stop()


def lease(seconds: float, batch: int = 100) -> Claims:
    return Claims.of_worker(batch=batch, lease=seconds)


def as_worker(pub: Publication, database: str | None, server: MailServer, **kwargs: object):
    """One worker with its own connection to the state, as a separate process would have."""
    with open_store(pub.state_dir, database) as store:
        return work(pub, store, smtp=server.settings, now=NOW, secret=SECRET.encode(), retry=QUICK, **kwargs)


def stamp_in(seconds: float) -> str:
    return stamp(datetime.now(UTC) + timedelta(seconds=seconds))


def copies(store: Store) -> dict[str, tuple[str, str | None]]:
    return sends.copy_states(store, DIGEST)


class TestWorkers:
    def test_run_no_send_plans_and_two_workers_share_the_copies(self, sample_pub: Path, database: str | None,
                                                                server: MailServer, tmp_path: Path) -> None:
        """'run --no-send' plans every copy and sends none; two workers at once then send each copy once."""
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir, database) as store:
            emails = subscribe(store, pub, 60, tmp_path)
        report = run(pub, now=datetime(2022, 5, 7, 6, 0, tzinfo=UTC), smtp=server.settings, database=database,
                     secret=SECRET.encode(), send=False)
        (planned,) = [d for d in report.deliveries if d.recipients]
        assert (60, 0, 60, []) == (planned.recipients, planned.sent, planned.pending, server.received)
        results = []
        threads = [threading.Thread(target=lambda: results.append(as_worker(pub, database, server,
                                                                            claims=lease(30, batch=7))))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert dict.fromkeys(emails, 1) == server.copies()
        sent = [sum(d.sent for d in r.deliveries) for r in results]
        assert (60, True) == (sum(sent), all(sent)), sent
        assert {(0, 0)} == {(d.pending, d.uncertain) for r in results for d in r.deliveries}

    def test_a_dead_workers_claims_are_taken_over_after_its_lease(self, pub: Publication, store: Store,
                                                                  database: str | None, server: MailServer,
                                                                  tmp_path: Path) -> None:
        """Copies claimed by a worker that died wait for its lease to run out, then another worker sends them."""
        emails = subscribe(store, pub, 12, tmp_path)
        deliver_now(pub, store, None)                               # planned, nothing sent
        wall = datetime.now(UTC)
        dead = sends.claim(store, DIGEST, "worker:gone", after="", limit=5, now=wall,
                           until=wall + timedelta(seconds=2))
        started = time.monotonic()
        (report,) = as_worker(pub, database, server, claims=lease(2)).deliveries
        assert dict.fromkeys(emails, 1) == server.copies()
        assert (12, 0) == (report.sent, report.pending)
        assert time.monotonic() - started >= 1.0                    # it waited for the lease
        assert {"worker:gone"} != {copies(store)[e][0] for e in dead}

    def test_a_copy_taken_over_before_its_dot_is_not_sent_by_the_loser(self, pub: Publication, store: Store,
                                                                       database: str | None, server: MailServer,
                                                                       tmp_path: Path) -> None:
        """A worker whose copy another sender took over meanwhile hangs up before the dot; it sends the copy
        only after the other one's lease ran out: one copy in all."""
        emails = subscribe(store, pub, 6, tmp_path)
        deliver_now(pub, store, None)
        victim = sorted(emails)[2]
        seen_by_server: list[str] = []

        def steal(count: int) -> None:        # at the third RCPT, another sender claims the copy for 1 s and dies
            if count == 3:
                with open_store(pub.state_dir, database) as other:
                    sends.release(other, DIGEST, "nobody")
                    other.execute("UPDATE sends SET claimed_by = 'worker:thief', claimed_until = :until "
                                  "WHERE email = :email", {"email": victim, "until": stamp_in(1)})
                seen_by_server.extend(server.copies())

        server.faults.on_rcpt = steal
        first = as_worker(pub, database, server, claims=lease(30))
        server.faults.on_rcpt = None
        assert 2 == len(seen_by_server)                               # the victim was on the wire...
        assert (6, 1) == (first.deliveries[0].sent, first.taken_over)  # ...abandoned, then sent after the lease
        assert dict.fromkeys(emails, 1) == server.copies()

    def test_sigterm_finishes_the_copy_at_hand_and_frees_the_rest(self, pub: Publication, store: Store,
                                                                  database: str | None, server: MailServer,
                                                                  tmp_path: Path, cli_env: dict[str, str]) -> None:
        """A worker told to stop (SIGTERM) ends after the copy at hand, exits 0 and frees its claims at once."""
        emails = subscribe(store, pub, 30, tmp_path)
        deliver_now(pub, store, None)
        server.faults.on_accept = lambda count: time.sleep(0.05)    # a slow server: time to ask it to stop
        env = {**os.environ, "MASTHEAD_SMTP_URL": server.url, "MASTHEAD_SECRET": SECRET, **cli_env}
        proc = subprocess.Popen([sys.executable, "-m", "masthead", "send", "--worker", "--forever",
                                 "--project", str(pub.root)], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(server.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        server.faults.on_accept = None
        assert (0, True) == (proc.returncode, "stopped on request" in err), err
        states = copies(store)
        assert 0 < len(server.received) < 30
        assert {"sent"} == {states[e][0] for e in server.copies()}
        assert [] == store.rows("SELECT email FROM sends WHERE status = 'pending' AND claimed_by IS NOT NULL")
        (report,) = as_worker(pub, database, server, claims=lease(30)).deliveries
        assert (dict.fromkeys(emails, 1), 0) == (server.copies(), report.pending)


class TestOneRunAcrossMachines:
    def test_second_machine_exits_3_and_waits_with_wait(self, sample_pub: Path, tmp_path: Path,
                                                        pg_server, pg_template: str, server: MailServer) -> None:
        """Two publication folders (two machines) on one database: while one runs, the other exits 3
        naming the holder; with --wait it runs after and finds nothing left to do."""
        import shutil

        with pg_server.fresh_database(pg_template) as url:
            env = {**os.environ, "MASTHEAD_SMTP_URL": server.url, "MASTHEAD_SECRET": SECRET,
                   "MASTHEAD_DATABASE_URL": url}
            machines = [tmp_path / "one", tmp_path / "two", tmp_path / "three"]
            for folder in machines:
                shutil.copytree(sample_pub, folder)
            with open_store(machines[0] / ".masthead", url) as store:
                subscribe(store, load_publication(machines[0]), 3, tmp_path)
            release, stalled = threading.Event(), threading.Event()

            def stall(count: int) -> None:
                if count == 1:
                    stalled.set()
                    release.wait(60)

            server.faults.on_accept = stall
            cmd = [sys.executable, "-m", "masthead", "run", "--now", "2022-05-07T06:00:00Z", "--project"]
            first = subprocess.Popen([*cmd, str(machines[0])], env=env, stderr=subprocess.PIPE, text=True)
            assert stalled.wait(120), "the first run never reached sending"
            second = subprocess.run([*cmd, str(machines[1])], env=env, capture_output=True, text=True, timeout=120)
            waiting = subprocess.Popen([*cmd, str(machines[2]), "--wait", "120"], env=env, stderr=subprocess.PIPE,
                                       text=True)
            time.sleep(1)
            release.set()
            _, err = first.communicate(timeout=120)
            assert 0 == first.returncode, err
            assert 3 == second.returncode
            assert "another masthead run holds the lock (masthead pid" in second.stderr, second.stderr
            _, err = waiting.communicate(timeout=120)
            assert 0 == waiting.returncode, err
            assert {"reader0000@example.com": 1, "reader0001@example.com": 1, "reader0002@example.com": 1} == \
                server.copies()
