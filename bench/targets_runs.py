"""Runs over many articles: what a run costs against a cold one, and how peak memory grows with size.

Each figure is one whole `masthead run` (or `masthead subscribers import`)
command in its own process, as cron would start it: the time is its wall
clock, start-up included, and the memory its peak resident set (ru_maxrss,
from os.wait4 on that process alone, started by a small launcher: see LAUNCH).

- unchanged / cold: a run with nothing changed since the last one, against a
  cold run (no state, no output) over the same publication;
- one new / cold: a run after one new article file appeared;
- peak 50k / 5k: a cold run over 50,000 articles against one over 5,000;
- import 100k / 10k: `subscribers import` of 100,000 CSV rows against 10,000.

The publication is generated (bench/job.py prints the same figures for one
size, once): two feeds, plain-text Arabic articles with dates in prose, an
article page each. --quick uses 1,000 articles for the runs, 500 / 5,000 for
memory and 1,000 / 10,000 rows for the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ratio import PYTHON, Result

MONTHS = ["يناير", "شباط", "مارس", "نيسان", "مايو/أيار", "حزيران", "تموز", "أغسطس", "أيلول",
          "تشرين الأول", "نوفمبر", "كانون الأول"]
NOW = datetime(2024, 1, 1, 6, tzinfo=timezone.utc)
MASTHEAD = str(Path(PYTHON).with_name("masthead"))


def article(i: int) -> str:
    day = datetime(2022, 1, 1) + timedelta(days=i % 700)
    return (f"خبر رقم {i} عن تطورات اقتصادية في المنطقة.\n"
            f"وقال المسؤول يوم {day.day} {MONTHS[day.month - 1]} {day.year} إن المؤشرات تتحسن.\n"
            "وأضاف أن الحكومة تعمل على خطط جديدة لدعم القطاعات المنتجة خلال السنوات المقبلة.\n"
            f"Photo : Agency {i % 7}\nالمصدر: وكالة {i % 5}\n")


def make_publication(root: Path, count: int) -> None:
    """A publication of ``count`` articles in two feeds, a thousand to a folder."""
    (root / "feeds").mkdir(parents=True)
    (root / "feeds" / "site.toml").write_text(
        'title = "Bench"\nbase_url = "https://bench.example.org/"\nlanguage = "ar"\n'
        'timezone = "Asia/Riyadh"\n', encoding="utf-8")
    for feed in ("one", "two"):
        folder = root / "feeds" / feed
        folder.mkdir()
        (folder / "feed.toml").write_text(f'title = "{feed}"\n', encoding="utf-8")
    for i in range(count):
        folder = root / "feeds" / ("one" if i % 2 else "two") / f"{i // 1000:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"a{i:06d}.txt").write_text(article(i), encoding="utf-8")


def _environment() -> dict[str, str]:
    """This environment without masthead's own settings: no SMTP server, the SQLite state."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}


# Started by a small launcher, not from this process: Linux counts in a child's ru_maxrss the resident
# set of the process it was started from, up to its exec, so a masthead started straight from a benchmark
# that grew large (building feeds in-process for another target) would report the benchmark's peak.
LAUNCH = """
import os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, flush=True)
sys.exit(1 if status else 0)
"""


def command(arguments: list[str]) -> tuple[float, float]:
    """Run one masthead command in its own process: (wall seconds, peak resident MiB).

    The seconds are the command's alone (from the launcher, around it)."""
    done = subprocess.run([PYTHON, "-c", LAUNCH, MASTHEAD, *arguments], capture_output=True, env=_environment(),
                          check=False)
    if done.returncode:
        raise SystemExit(f"masthead {' '.join(arguments)} failed:\n{done.stderr.decode()}")
    elapsed, peak = done.stdout.split()
    return float(elapsed), int(peak) / 1024          # Linux gives KiB


def run_once(root: Path, now: datetime) -> tuple[float, float]:
    return command(["run", "--project", str(root), "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ"), "--quiet"])


class Warm:
    """A publication that has run before: each run is a quarter of an hour after the last (as cron would)."""

    def __init__(self, pristine: Path, root: Path, count: int):
        shutil.copytree(pristine, root)
        self.root, self.count, self.runs = root, count, 0
        self.run()

    def run(self) -> float:
        self.runs += 1
        return run_once(self.root, NOW + timedelta(minutes=15 * self.runs))[0]

    def one_new(self) -> float:
        self.count += 1
        (self.root / "feeds" / "one" / f"new{self.count:06d}.txt").write_text(article(self.count), encoding="utf-8")
        return self.run()


def cold(pristine: Path, scratch: Path) -> tuple[float, float]:
    """A cold run over a fresh copy of ``pristine``: (seconds, peak MiB)."""
    root = scratch / "cold"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(pristine, root)
    try:
        return run_once(root, NOW)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def runs(rounds: int, count: int, tmp: Path) -> list[Result]:
    pristine = tmp / f"pub-{count}"
    make_publication(pristine, count)
    warm = Warm(pristine, tmp / "warm", count)
    colds: list[float] = []
    unchanged: list[float] = []
    one_new: list[float] = []
    for r in range(rounds):                           # the order turns every round
        steps = [lambda: colds.append(cold(pristine, tmp)[0]), lambda: unchanged.append(warm.run()),
                 lambda: one_new.append(warm.one_new())]
        for step in steps if r % 2 == 0 else steps[::-1]:
            step()
    size = f"{count:,} articles"
    return [Result(f"runs: nothing changed / cold, {size}", unchanged, colds, "<= 0.03", lambda x: x <= 0.03),
            Result(f"runs: one new article / cold, {size}", one_new, colds, "<= 0.06", lambda x: x <= 0.06)]


def memory(rounds: int, small: int, large: int, tmp: Path) -> Result:
    pristine = {n: tmp / f"pub-{n}" for n in (small, large)}
    for n, root in pristine.items():
        if not root.is_dir():
            make_publication(root, n)
    peaks: dict[int, list[float]] = {small: [], large: []}
    for r in range(rounds):
        for n in (large, small) if r % 2 else (small, large):
            peaks[n].append(cold(pristine[n], tmp)[1])
    return Result(f"memory: peak of a cold run, {large:,} / {small:,} articles", peaks[large], peaks[small],
                  "<= 2x", lambda x: x <= 2, unit="MiB",
                  note=f"{min(peaks[small]):.0f} / {min(peaks[large]):.0f} MiB")


def subscribers_import(rounds: int, small: int, large: int, pub: Path, tmp: Path) -> Result:
    files = {}
    for n in (small, large):
        files[n] = tmp / f"readers-{n}.csv"
        files[n].write_text("email,name,feeds\n" + "".join(f"reader{i:07d}@example.com,قارئ {i},ar-news\n"
                                                           for i in range(n)), encoding="utf-8")
    peaks: dict[int, list[float]] = {small: [], large: []}

    def once(n: int) -> float:
        root = tmp / "import"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(pub / "feeds", root / "feeds")
        try:
            return command(["subscribers", "import", "--project", str(root), str(files[n])])[1]
        finally:
            shutil.rmtree(root, ignore_errors=True)
    for r in range(rounds):
        for n in (large, small) if r % 2 else (small, large):
            peaks[n].append(once(n))
    return Result(f"memory: peak of subscribers import, {large:,} / {small:,} rows", peaks[large], peaks[small],
                  "<= 1.2x", lambda x: x <= 1.2, unit="MiB",
                  note=f"{min(peaks[small]):.0f} / {min(peaks[large]):.0f} MiB")


def measure(rounds: int, quick: bool, pub: Path) -> list[Result]:
    """Every line of this section: ``pub`` is a copy of the sample publication (for the import's feeds)."""
    count, (small, large), (few, many) = (1000, (500, 5000), (1000, 10_000)) if quick else \
        (10_000, (5000, 50_000), (10_000, 100_000))
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        results = runs(rounds, count, tmp)
        results.append(memory(rounds, small, large, tmp))
        results.append(subscribers_import(rounds, few, many, pub, tmp))
    return results
