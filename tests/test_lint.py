"""The code stays lint-clean under the project's ruff settings (pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import ROOT


@pytest.mark.skipif(shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(),
                    reason="ruff is not installed (it comes with the test extra)")
def test_ruff_finds_nothing() -> None:
    """`ruff check` over src, tests and bench reports no problem."""
    ruff = str(ROOT / ".venv/bin/ruff") if (ROOT / ".venv/bin/ruff").exists() else "ruff"
    result = subprocess.run([ruff, "check", "src", "tests", "bench"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert 0 == result.returncode, result.stdout


@pytest.mark.skipif(not (ROOT / ".venv/bin/mypy").exists() and shutil.which("mypy") is None,
                    reason="mypy is not installed (it comes with the test extra)")
def test_mypy_finds_nothing() -> None:
    """`mypy` (settings in pyproject.toml) finds no type error in src/."""
    mypy = str(ROOT / ".venv/bin/mypy") if (ROOT / ".venv/bin/mypy").exists() else "mypy"
    result = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True, check=False)
    assert 0 == result.returncode, result.stdout
