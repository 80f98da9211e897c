"""Collect: cold throughput against masthead as it was before these optimisations.

A feed of generated articles, one third Markdown with YAML front matter and
two thirds plain text in the seed's layout (bench/collect.py's generator),
is collected cold (a fresh state database each round) by this masthead and
by masthead at BASELINE_REV, checked out from git history into a
temporary folder; each in a fresh interpreter, rounds interleaved.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from pathlib import Path

from ratio import ROOT, Result, child, interleaved

BASELINE_REV = "d0a48a8"        # masthead before the stage packages and these optimisations

CODE = """
import json, shutil, sys, time
from datetime import datetime, timezone
from pathlib import Path
from masthead.config import load_publication
from masthead.collect import collect_publication
try:
    from masthead.state.db import open_store
except ImportError:                       # masthead before the state package
    from masthead.store import open_store
root = Path({root!r})
shutil.rmtree(root / ".masthead", ignore_errors=True)
pub = load_publication(root)
start = time.perf_counter()
with open_store(pub.state_dir) as store:
    found = collect_publication(pub, store, datetime(2024, 1, 1, 6, tzinfo=timezone.utc))
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "articles": len(found.articles)}}))
"""


def markdown(n: int, text: str, rng: random.Random) -> str:
    """The same article as Markdown with front matter: title, date, author, tags, summary; the body as paragraphs."""
    title, lead, *rest = text.splitlines()
    day = f"20{10 + n % 14:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}"
    tags = ", ".join(rng.sample(["اقتصاد", "سياسة", "طاقة", "زراعة", "صحة", "سياحة"], k=2))
    body = "\n\n".join([lead, "## " + rest[0][:40], *rest[1:]]) if rest else lead
    return (f"---\ntitle: \"{title}\"\ndate: {day}\nauthor: مراسل {n % 9}\ntags: [{tags}]\n"
            f"summary: \"{lead[:120]}\"\n---\n\n{body}\n")


def make_publication(root: Path, count: int) -> None:
    """bench/collect.py's publication of seed-shaped plain-text articles, every third one as Markdown instead."""
    import collect as generator  # bench/collect.py: the seed-shaped plain-text generator

    texts = generator.make_publication(root, count)
    rng = random.Random(2022)
    feed = root / "feeds" / "bench"
    for n in range(0, count, 3):
        plain = feed / f"{n % generator.FOLDERS:02d}" / f"{n:05d}.txt"
        plain.unlink()
        plain.with_suffix(".md").write_text(markdown(n, texts[n][0], rng), "utf-8")


def baseline_source(into: Path) -> Path:
    """masthead's src/ at BASELINE_REV, exported from this repository's history."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE_REV, "src"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def measure(rounds: int, quick: bool, pub: Path) -> list[Result]:
    count = 600 if quick else 3000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = work / "pub"
        make_publication(root, count)
        old = baseline_source(work)

        def cold(src: Path) -> float:
            got = child(CODE.format(root=str(root)), src=src)
            if got["articles"] != count:
                raise SystemExit(f"collect read {got['articles']} of {count} articles")
            return got["seconds"]

        ours, theirs = interleaved(rounds, lambda: cold(ROOT / "src"), lambda: cold(old))
    return [Result(f"collect: cold, {count:,} articles (1/3 Markdown), masthead {BASELINE_REV} / now",
                   theirs, ours, ">= 3x", lambda r: r >= 3)]
