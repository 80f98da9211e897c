"""Benchmark: a whole `masthead run` over a 10,000-article publication.

Prints a cold run, a run with nothing changed and a run with one new article,
with the ratios to the cold run: the cost of a run should grow with what
changed, not with the archive. Usage: .venv/bin/python bench/job.py [ARTICLES]
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from masthead import load_publication
from masthead.pipeline import run

MONTHS = ["يناير", "شباط", "مارس", "نيسان", "مايو/أيار", "حزيران", "تموز", "أغسطس", "أيلول",
          "تشرين الأول", "نوفمبر", "كانون الأول"]
NOW = datetime(2024, 1, 1, 6, tzinfo=timezone.utc)


def article(i: int) -> str:
    day = datetime(2022, 1, 1) + timedelta(days=i % 700)
    return (f"خبر رقم {i} عن تطورات اقتصادية في المنطقة.\n"
            f"وقال المسؤول يوم {day.day} {MONTHS[day.month - 1]} {day.year} إن المؤشرات تتحسن.\n"
            "وأضاف أن الحكومة تعمل على خطط جديدة لدعم القطاعات المنتجة خلال السنوات المقبلة.\n"
            f"Photo : Agency {i % 7}\nالمصدر: وكالة {i % 5}\n")


def make_publication(root: Path, count: int) -> None:
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


def timed(label: str, root: Path, now: datetime) -> float:
    tracemalloc.start()
    start = time.perf_counter()
    report = run(load_publication(root), now=now)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<22} {elapsed:8.2f} s   {len(report.collection.articles):6d} articles   "
          f"{len(report.changed_files):6d} files written   peak {peak / 2**20:6.1f} MiB")
    return elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pub"
        make_publication(root, count)
        print(f"masthead run over {count:,} articles (2 feeds, 3 formats each, article pages)")
        cold = timed("cold", root, NOW)
        unchanged = timed("nothing changed", root, NOW)
        (root / "feeds" / "one" / "new.txt").write_text(article(count + 1), encoding="utf-8")
        one_new = timed("one new article", root, NOW + timedelta(minutes=15))
        print(f"ratio nothing-changed / cold: {unchanged / cold:.3f}")
        print(f"ratio one-new / cold:         {one_new / cold:.3f}")


if __name__ == "__main__":
    main()
