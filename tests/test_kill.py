"""kill -9 at many points of `masthead run`: outputs stay whole, the rerun finishes, one copy each.

The run goes over the sample publication with a new article and a daily digest
sent to 40 subscribers through a real SMTP server on 127.0.0.1. The job is
killed with SIGKILL at different moments: while collecting and writing (timed
kills) and in the middle of sending (from the SMTP server, after N messages).
After each kill every output file is either the old version or the new one,
never a mix; the restarted job finishes and leaves output identical to a run
that was never killed, and every subscriber holds exactly one copy. The same
holds for send workers on PostgreSQL, killed at random while others go on.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import feedparser
import pytest

from masthead.config import load_publication

from .mailserver import MailServer

BEFORE = "2022-05-06T06:00:00Z"   # the first run: the seed's day is not over yet
NOW = "2022-05-07T06:00:00Z"      # the killed run: makes the digest of 6 May
SUBSCRIBERS = [f"reader{i:02d}@example.com" for i in range(40)]
NEW_ARTICLE = """أعلنت الهيئة العامة للأرصاد عن موجة حر تبدأ نهاية الأسبوع.
وقالت في بيان يوم الجمعة 6 مايو/أيار 2022 إن درجات الحرارة قد تتجاوز 45 درجة.
المصدر: واس
"""


def job(pub: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "masthead", *args, "--project", str(pub)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes]) -> int:
    _, err = proc.communicate(timeout=180)
    assert b"Traceback" not in err, err.decode()
    return proc.returncode


def outputs(pub: Path, *, temps: bool = True) -> dict[str, bytes]:
    """Every file under output/; ``temps=False`` leaves out a killed write's hidden temp file."""
    return {str(p.relative_to(pub)): p.read_bytes() for p in sorted((pub / "output").rglob("*"))
            if p.is_file() and (temps or not p.name.startswith("."))}


def prepare(source: Path, target: Path, env: dict[str, str]) -> None:
    """A publication after one earlier run, with subscribers and a new article waiting."""
    shutil.copytree(source, target)
    readers = target.parent / f"{target.name}-readers.csv"
    readers.write_text("email,name,feeds\n" + "".join(f"{a},,ar-news\n" for a in SUBSCRIBERS), "utf-8")
    assert finish(job(target, "subscribers", "import", str(readers), env=env)) == 0
    assert finish(job(target, "run", "--now", BEFORE, env=env)) == 0
    (target / "feeds" / "ar-news" / "heatwave.txt").write_text(NEW_ARTICLE, encoding="utf-8")


@pytest.fixture
def server():
    mail = MailServer().start()
    yield mail
    mail.stop()


def test_sigkill_anywhere_then_rerun(sample_pub: Path, tmp_path: Path, server: MailServer) -> None:
    """After a SIGKILL at any point, files are old-or-new, and the rerun completes with one copy each."""
    env = {**os.environ, "MASTHEAD_SMTP_URL": server.url, "MASTHEAD_SECRET": "kill-test-secret"}
    reference = tmp_path / "reference"
    prepare(sample_pub, reference, env)
    old = outputs(reference)
    assert finish(job(reference, "run", "--now", NOW, env=env)) == 0
    new = outputs(reference)
    assert sorted(SUBSCRIBERS) == sorted(server.copies())
    assert {new[k] for k in new if k.endswith("atom.xml")} != {old.get(k) for k in new if k.endswith("atom.xml")}

    kill_points: list[tuple[str, float | int]] = [("after seconds", s) for s in (0.3, 0.8, 1.2, 1.6, 2.0)]
    kill_points += [("after messages", n) for n in (1, 7, 20, 39)]
    for number, (kind, point) in enumerate(kill_points):
        server.received.clear()
        pub = tmp_path / f"pub{number}"
        prepare(sample_pub, pub, env)
        proc = job(pub, "run", "--now", NOW, env=env)
        if kind == "after messages":
            server.faults.on_accept = lambda count, n=point, p=proc: (
                os.kill(p.pid, signal.SIGKILL) if count == n else None)
        else:
            time.sleep(point)
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=180)
        server.faults.on_accept = None
        for path, content in outputs(pub, temps=False).items():
            assert content in (old.get(path), new.get(path)), f"{kind} {point}: {path} is a mix"
            if path.endswith((".xml", ".json")) and "/" in path[len("output/"):]:
                if path.endswith(".json"):
                    json.loads(content)
                else:
                    assert not feedparser.parse(content).bozo, path
        assert finish(job(pub, "run", "--now", NOW, env=env)) == 0, f"{kind} {point}: rerun failed"
        assert new == outputs(pub), f"{kind} {point}: rerun output differs from an unkilled run"
        copies = server.copies()
        assert dict.fromkeys(SUBSCRIBERS, 1) == copies, f"{kind} {point}: copies {copies}"


def test_two_runs_started_at_once(sample_pub: Path, tmp_path: Path, server: MailServer) -> None:
    """Two real runs at once: one works, the other exits 3; with --wait it waits and finds nothing to do."""
    env = {**os.environ, "MASTHEAD_SMTP_URL": server.url, "MASTHEAD_SECRET": "kill-test-secret"}
    pub = tmp_path / "concurrent"
    prepare(sample_pub, pub, env)
    release = threading.Event()
    stalled = threading.Event()

    def stall(count: int) -> None:  # hold the first run inside its sending, lock held
        if count == 1:
            stalled.set()
            release.wait(60)

    server.faults.on_accept = stall
    first = job(pub, "run", "--now", NOW, env=env)
    assert stalled.wait(120), "the first run never reached sending"
    second = job(pub, "run", "--now", NOW, env=env)
    _, err = second.communicate(timeout=120)
    waiting = job(pub, "run", "--now", NOW, "--wait", "120", env=env)
    time.sleep(1)
    release.set()
    assert finish(first) == 0
    assert second.returncode == 3
    assert b"another masthead run holds the lock" in err
    assert finish(waiting) == 0
    assert dict.fromkeys(SUBSCRIBERS, 1) == server.copies()
    for path in (pub / "output").rglob("*.xml"):
        assert not feedparser.parse(path.read_bytes()).bozo, path


@pytest.mark.slow
def test_three_workers_killed_at_random_moments_on_postgresql(sample_pub: Path, tmp_path: Path,
                                                              server: MailServer, pg_server,
                                                              pg_template: str) -> None:
    """3 send workers on PostgreSQL, 2,000 subscribers, random workers SIGKILLed at random moments and
    restarted: every subscriber gets a copy, at most one repeat per kill and connection (reported uncertain
    first, then resent on request), and a repeat carries the same Message-ID."""
    seed = int(time.time())
    rng = random.Random(seed)
    readers = [f"reader{i:04d}@example.com" for i in range(2000)]
    site = sample_pub / "feeds" / "site.toml"
    site.write_text(site.read_text(encoding="utf-8") + "claim_lease = 2\n", encoding="utf-8")
    with pg_server.fresh_database(pg_template) as url:
        env = {**os.environ, "MASTHEAD_SMTP_URL": server.url, "MASTHEAD_SECRET": "kill-test-secret-shared",
               "MASTHEAD_DATABASE_URL": url}
        csv = tmp_path / "readers.csv"
        csv.write_text("email,name,feeds\n" + "".join(f"{a},,ar-news\n" for a in readers), "utf-8")
        assert finish(job(sample_pub, "subscribers", "import", str(csv), env=env)) == 0
        assert finish(job(sample_pub, "run", "--no-send", "--now", NOW, env=env)) == 0
        assert [] == server.received
        logs = tmp_path / "workers"
        logs.mkdir()

        def worker() -> subprocess.Popen[bytes]:
            with (logs / f"{len(list(logs.iterdir()))}.log").open("wb") as log:
                return subprocess.Popen([sys.executable, "-m", "masthead", "send", "--worker", "--batch", "50",
                                         "--project", str(sample_pub)], env=env, stdout=log, stderr=log)

        workers = [worker() for _ in range(3)]
        kills = 0
        # Each kill lands while mail flows: once the server has taken a random number of messages,
        # after a random fraction of a message's time, on a random live worker, which is restarted.
        for mark in sorted(rng.sample(range(30, 1700), 6)):
            while len(server.received) < mark and any(w.poll() is None for w in workers):
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.02))
            alive = [w for w in workers if w.poll() is None]
            if not alive:
                break
            victim = rng.choice(alive)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills += 1
            workers[workers.index(victim)] = worker()
        for w in workers:
            w.wait(timeout=300)
        for log in logs.iterdir():
            assert b"Traceback" not in log.read_bytes(), f"seed {seed}: {log.read_text()}"
        assert kills >= 3, f"seed {seed}: the workers finished before enough kills ({kills})"

        def states() -> dict[str, int]:
            with_db = subprocess.run([sys.executable, "-c", (
                "import json, sys; from pathlib import Path; from masthead.state.db import open_store\n"
                f"with open_store(Path('.'), {url!r}) as s:\n"
                "    print(json.dumps({r[0]: r[1] for r in s.rows('SELECT status, count(*) FROM sends GROUP BY status')}))"
            )], capture_output=True, text=True, check=True)
            return json.loads(with_db.stdout)

        first = states()
        copies = server.copies()
        uncertain = first.get("sending", 0)
        assert (first.get("pending", 0), first.get("failed", 0)) == (0, 0), f"seed {seed}: {first}"
        lanes = load_publication(sample_pub).site.email.connections    # each has its copy at the dot
        assert uncertain <= kills * lanes, f"seed {seed}: {uncertain} uncertain after {kills} kills"
        assert [] == [a for a, n in copies.items() if n > 1], f"seed {seed}: a copy went twice"
        assert len(set(readers) - set(copies)) <= uncertain, f"seed {seed}: copies lost"

        digest = "ar-news/daily/2022-05-06"
        again = job(sample_pub, "send", "--worker", "--resend-uncertain", digest, env=env)
        assert finish(again) == 0
        copies = server.copies()
        repeats = {a: n for a, n in copies.items() if n > 1}
        assert set(readers) == set(copies), f"seed {seed}: {len(set(readers) - set(copies))} never arrived"
        assert sum(n - 1 for n in repeats.values()) <= kills * lanes, f"seed {seed}: {repeats} after {kills} kills"
        for address in repeats:
            ids = {r.message["Message-ID"] for r in server.received if r.rcpt == address}
            assert 1 == len(ids), f"seed {seed}: {address} got {ids}"
        assert {"sent": 2000} == states(), f"seed {seed}"
