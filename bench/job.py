"""Benchmark: whole `masthead run` commands over one generated publication, once each.

Prints a cold run, a run with nothing changed and a run with one new article,
each a `masthead run` in its own process (wall seconds, peak resident MiB),
with the ratios to the cold run: the cost of a run should grow with what
changed, not with the archive. The same publication and measurements as the
"runs" lines of bench/targets.py (bench/targets_runs.py), without the rounds.

Usage: .venv/bin/python bench/job.py [ARTICLES]      (10,000 by default)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from targets_runs import Warm, cold, make_publication


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        pristine = tmp / "pristine"
        make_publication(pristine, count)
        print(f"masthead run over {count:,} articles (2 feeds, 3 formats each, article pages)")
        first, peak = cold(pristine, tmp)
        print(f"{'cold':<16} {first:8.2f} s   peak {peak:6.1f} MiB")
        warm = Warm(pristine, tmp / "warm", count)
        unchanged = warm.run()
        print(f"{'nothing changed':<16} {unchanged:8.2f} s")
        one_new = warm.one_new()
        print(f"{'one new article':<16} {one_new:8.2f} s")
        print(f"ratio nothing-changed / cold: {unchanged / first:.3f}")
        print(f"ratio one-new / cold:         {one_new / first:.3f}")


if __name__ == "__main__":
    main()
