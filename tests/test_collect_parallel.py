"""A cold collect of many files reads them on every core: the same records, and no worker outlives a killed run."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from masthead.collect.parallel import PARALLEL_MIN

MONTHS = ["يناير", "شباط", "مارس", "نيسان", "مايو/أيار", "حزيران", "تموز", "أغسطس", "أيلول", "تشرين الأول",
          "نوفمبر", "كانون الأول"]

# Collects the publication at argv[1] with argv[2] worker processes in a process of its own (one thread: the
# workers may be forked) and prints every article and problem, and whether worker processes were reading.
COLLECT = """
import json, multiprocessing, sys
from datetime import UTC, datetime
from pathlib import Path
from masthead.collect import collect_publication
from masthead.collect.cache import article_to_dict
from masthead.config import load_publication
from masthead.state.db import open_store

pub = load_publication(Path(sys.argv[1]))
helpers = []
with open_store(pub.state_dir) as store:
    found = collect_publication(pub, store, datetime(2024, 1, 1, 6, tzinfo=UTC), workers=int(sys.argv[2]),
                                progress=lambda done, total, path: helpers.append(len(multiprocessing.active_children())))
print(json.dumps({"articles": [article_to_dict(a) for a in found.articles],
                  "problems": [[p.where, p.message, p.fatal] for p in found.problems],
                  "workers": max(helpers)}, ensure_ascii=False))
"""


def seed_text(n: int) -> str:
    """An article in the seed's layout: title line, a lead with the date in Arabic prose, body, source."""
    return (f"خبر رقم {n} عن تطورات اقتصادية في المنطقة.\n"
            f"وقال المسؤول يوم {1 + n % 28} {MONTHS[n % 12]} {2015 + n % 8} إن المؤشرات تتحسن.\n"
            "وأضاف أن الحكومة تعمل على خطط جديدة لدعم القطاعات المنتجة.\n"
            f"المصدر: وكالة {n % 5}\n")


def archive(root: Path, count: int) -> Path:
    """Plain-text and Markdown articles; some with a note worth reporting, some that cannot be read at all."""
    (root / "feeds" / "news").mkdir(parents=True)
    (root / "feeds" / "site.toml").write_text(
        'title = "Archive"\nbase_url = "https://archive.example.org/"\nlanguage = "ar"\n', "utf-8")
    (root / "feeds" / "news" / "feed.toml").write_text('title = "News"\n', "utf-8")
    for n in range(count):
        folder = root / "feeds" / "news" / f"{n % 7}"
        folder.mkdir(exist_ok=True)
        if n % 50 == 7:
            (folder / f"a{n:04d}.md").write_text("---\ntitle: [unclosed\n---\n\nنص.\n", "utf-8")   # bad YAML
        elif n % 50 == 8:
            (folder / f"a{n:04d}.txt").write_bytes(b"\x00\x01binary")
        elif n % 3:
            (folder / f"a{n:04d}.txt").write_text(seed_text(n), "utf-8")
        else:
            extra = "colour: red\n" if n % 10 == 0 else ""
            (folder / f"a{n:04d}.md").write_text(
                f"---\ntitle: مقال رقم {n}\ndate: 2023-0{1 + n % 9}-1{n % 10}\n{extra}---\n\n"
                f"نص المقال {n}[^1].\n\n[^1]: حاشية.\n", "utf-8")
    return root


def collected(root: Path, workers: int) -> dict:
    out = subprocess.run([sys.executable, "-c", COLLECT, str(root), str(workers)], capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def test_reading_on_two_cores_gives_the_records_one_core_gives(tmp_path: Path) -> None:
    """The articles and problems of a cold collect on two worker processes equal those read one by one."""
    count = PARALLEL_MIN * 3 + 10
    one = collected(archive(tmp_path / "one", count), workers=1)
    two = collected(archive(tmp_path / "two", count), workers=2)
    assert 0 == one["workers"] and 2 == two["workers"]
    assert count - 2 * (count // 50 + 1) <= len(one["articles"]) < count
    assert any("not valid YAML" in message for _, message, _ in one["problems"])
    assert any("binary" in message for _, message, _ in one["problems"])
    assert (one["articles"], one["problems"]) == (two["articles"], two["problems"])


def test_files_touched_but_unchanged_are_taken_from_the_cache_by_workers_too(tmp_path: Path) -> None:
    """Every file's time changes, not its bytes: the second collect on workers gives what the first gave."""
    root = archive(tmp_path / "pub", PARALLEL_MIN * 2)
    first = collected(root, workers=2)
    for path in (root / "feeds" / "news").rglob("a*.*"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    again = collected(root, workers=2)
    assert (first["articles"], first["problems"]) == (again["articles"], again["problems"])


def descendants(pid: int) -> set[int]:
    """Every process started, directly or not, by ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def test_a_run_killed_while_workers_read_leaves_no_worker_and_no_lock_behind(tmp_path: Path) -> None:
    """kill -9 of `masthead run` in the middle of a parallel collect: its workers exit, and the next run starts."""
    root = archive(tmp_path / "pub", PARALLEL_MIN * 30)
    command = [sys.executable, "-m", "masthead", "run", "--project", str(root), "--now", "2024-01-01T06:00:00Z"]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while time.monotonic() < deadline and run.poll() is None and len(workers) < 2:
        workers = descendants(run.pid)
        time.sleep(0.02)
    assert len(workers) >= 2, "the run never started its reader processes"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    with (root / ".masthead" / "lock").open("rb") as lock:     # free at once: no worker kept the run's copy
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(lock, fcntl.LOCK_UN)
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)   # no wait for the lock
    assert 0 == rerun.returncode, rerun.stderr
    deadline = time.monotonic() + 15
    while running(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set() == running(workers)
