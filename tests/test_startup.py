"""Start-up: `masthead --version` and `masthead --help` load none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = {"premailer", "feedgen", "lxml", "email_validator", "feedparser", "nh3", "jinja2", "sqlite3",
         "markdown_it", "yaml", "frontmatter", "hijridate", "dateutil", "smtplib", "cssutils", "regex"}


@pytest.mark.parametrize("argument", ["--version", "--help"])
def test_version_and_help_load_no_heavy_library(argument: str) -> None:
    """Only click and masthead's own light modules are imported to print the version or the help."""
    probe = (f"import sys\nfrom masthead.cli import main\ntry:\n    main([{argument!r}])\nexcept SystemExit:\n    pass\n"
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(result.stdout.split()[-200:])
    assert "masthead" in loaded
    assert set() == HEAVY & loaded
