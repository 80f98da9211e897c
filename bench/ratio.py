"""What every target section of bench/targets.py shares: a ratio result, interleaved rounds, child processes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Result:
    name: str
    ours: list[float]
    theirs: list[float]
    target: str
    holds: Callable[[float], bool]
    unit: str = "s"
    note: str = ""

    def ratios(self) -> tuple[float, float]:
        return min(self.ours) / min(self.theirs), statistics.median(self.ours) / statistics.median(self.theirs)


def interleaved(rounds: int, ours: Callable[[], float], theirs: Callable[[], float]) -> tuple[list[float], list[float]]:
    """Run both sides ``rounds`` times, alternating which goes first; each returns a measurement."""
    a: list[float] = []
    b: list[float] = []
    for r in range(rounds):
        if r % 2:
            b.append(theirs())
            a.append(ours())
        else:
            a.append(ours())
            b.append(theirs())
    return a, b


def wall(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    return time.perf_counter() - start


def child(code: str, *, src: Path = ROOT / "src", cwd: Path | None = None) -> dict:
    """Run ``code`` in a fresh interpreter with masthead from ``src``; it prints one JSON object."""
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env, cwd=cwd)
    if out.returncode:
        raise SystemExit(f"a measurement failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(results: list[Result]) -> bool:
    width = max(len(r.name) for r in results)
    every = True
    for r in results:
        low, middle = r.ratios()
        holds = r.holds(low) and r.holds(middle)
        every &= holds
        print(f"{r.name:<{width}}  min {low:8.3f}x  median {middle:8.3f}x  target {r.target:<8} "
              f"{'holds' if holds else 'MISSED'}{'  (' + r.note + ')' if r.note else ''}")
    return every


