"""kill -9 at many points of `masthead run`: outputs stay whole, the rerun finishes, one copy each.

The run goes over the sample publication with a new article and a daily digest
sent to 40 subscribers through a real SMTP server on 127.0.0.1. The job is
killed with SIGKILL at different moments: while collecting and writing (timed
kills) and in the middle of sending (from the SMTP server, after N messages).
After each kill every output file is either the old version or the new one,
never a mix; the restarted job finishes and leaves output identical to a run
that was never killed, and every subscriber holds exactly one copy.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import feedparser
import pytest

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
