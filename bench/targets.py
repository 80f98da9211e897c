"""Every speed and memory target of masthead, measured side by side in one run.

Run: .venv/bin/python bench/targets.py [--rounds 5] [--quick]

Each line is a ratio between masthead and a fair baseline measured in the same
run, both sides interleaved (the order alternates every round), printed as
min and median over the rounds beside its target. Baselines are what a user
would do without masthead (plain smtplib on one reused connection, plain
feedgen, dateparser, python -c "import click"), or masthead itself on another
input size (memory, unchanged runs), or masthead as it was before these
optimisations (collect), checked out from git history into a temporary folder.

--quick uses smaller inputs (for trying the command, not for the figures).

masthead's modules are byte-compiled first and every command measured may
write bytecode (PYTHONDONTWRITEBYTECODE is dropped), as for a masthead that
``pip install`` put in place: no run compiles its own source.
"""

from __future__ import annotations

import argparse
import compileall
import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ratio import PYTHON, ROOT, Result, child, interleaved, report, wall

# Sections that live in their own module bench/targets_NAME.py, each with
# ``measure(rounds: int, quick: bool, pub: Path) -> list[Result]``.
MODULES: tuple[str, ...] = ("sending", "collect", "feeds", "runs")


# -- sections ------------------------------------------------------------------------------------

def startup(rounds: int) -> list[Result]:
    masthead = str(Path(PYTHON).with_name("masthead"))
    click = [PYTHON, "-c", "import click"]
    results = []
    for argument in ("--version", "--help"):
        ours, theirs = interleaved(rounds, lambda a=argument: wall([masthead, a]), lambda: wall(click))
        results.append(Result(f"start-up: masthead {argument} / python -c 'import click'", ours, theirs,
                              "<= 1.5x", lambda r: r <= 1.5))
    return results


DATES_CODE = """
import json, random, sys, time, warnings
sys.path.insert(0, {bench!r})
import collect as generator
from masthead.collect.dates import find_date
from masthead.collect import read_articles
from masthead.config import load_publication
rng = random.Random(2022)
pairs = [generator.article(n, rng) for n in range({count})]
from pathlib import Path
pub = load_publication(Path({pub!r})); feed = pub.feeds[0]
mode = {mode!r}
start = time.perf_counter()
if mode == "find_date":
    right = sum((f.day if (f := find_date(t)) else None) == e for t, e in pairs)
elif mode == "normalise":
    for i, (t, _) in enumerate(pairs):
        read_articles(t.encode(), f"feeds/bench/{{i}}.txt", "text", feed, pub.site)
    right = len(pairs)
else:
    from dateparser.search import search_dates
    settings = {{"RELATIVE_BASE": __import__("datetime").datetime(2024, 1, 1)}}
    search_dates(pairs[0][0], languages=["ar", "en"], settings=settings)
    start = time.perf_counter()
    right = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, e in pairs:
            found = search_dates(t, languages=["ar", "en"], settings=settings) or []
            right += e in {{v.date() for _, v in found}}
print(json.dumps({{"seconds": (time.perf_counter() - start) / len(pairs), "right": right, "count": len(pairs)}}))
"""


def dates(rounds: int, pub: Path, quick: bool) -> list[Result]:
    count, sample = (300, 20) if quick else (3000, 100)

    def measure(mode: str, n: int) -> float:
        return child(DATES_CODE.format(bench=str(ROOT / "bench"), count=n, pub=str(pub), mode=mode))["seconds"]

    ours, theirs = interleaved(rounds, lambda: measure("find_date", count), lambda: measure("dateparser", sample))
    right = child(DATES_CODE.format(bench=str(ROOT / "bench"), count=count, pub=str(pub), mode="find_date"))
    dated = Result("dates: dateparser.search_dates / find_date, per article", theirs, ours, ">= 50x",
                   lambda r: r >= 50, note=f"find_date right on {right['right']}/{right['count']} generated texts")
    normal, theirs2 = interleaved(rounds, lambda: measure("normalise", count), lambda: measure("dateparser", sample))
    whole = Result("dates: dateparser date search alone / whole per-file normalising", theirs2, normal, ">= 20x",
                   lambda r: r >= 20)
    return [dated, whole]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="",
                        help="comma-separated sections: startup, dates, " + ", ".join(MODULES))
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)        # inherited by every command measured
    compileall.compile_dir(ROOT / "src" / "masthead", quiet=1)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        pub = Path(tmp) / "pub"
        shutil.copytree(ROOT / "feeds", pub / "feeds")
        sections: dict[str, Callable[[], list[Result]]] = {
            "startup": lambda: startup(args.rounds),
            "dates": lambda: dates(args.rounds, pub, args.quick),
        }
        for module in MODULES:
            sections[module] = lambda m=module: importlib.import_module(f"targets_{m}").measure(
                args.rounds, args.quick, pub)
        for name, section in sections.items():
            if not only or name in only:
                print(f"measuring {name}...", file=sys.stderr)
                results += section()
    print()
    every = report(results)
    raise SystemExit(0 if every else 1)


if __name__ == "__main__":
    main()
