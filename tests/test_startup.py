"""Start-up: `masthead --version` and `masthead --help` load none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = {"premailer", "feedgen", "lxml", "email_validator", "feedparser", "nh3", "jinja2", "sqlite3",
         "markdown_it", "yaml", "frontmatter", "hijridate", "dateutil", "smtplib", "cssutils", "regex",
         "extruct", "trafilatura", "cmarkgfm", "email"}


@pytest.mark.parametrize("argument", ["--version", "--help"])
def test_version_and_help_load_no_heavy_library(argument: str) -> None:
    """Only click and masthead's own light modules are imported to print the version or the help."""
    probe = (f"import sys\nfrom masthead.cli import main\ntry:\n    main([{argument!r}])\nexcept SystemExit:\n    pass\n"
             "print('LOADED', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(result.stdout.rpartition("LOADED ")[2].split())
    assert "masthead" in loaded
    assert set() == HEAVY & loaded


def test_the_collector_loads_the_page_extractors_only_for_pages() -> None:
    """Collecting files and feeds imports neither extruct nor trafilatura (seconds of start-up); reading an HTML page does."""
    probe = ("import sys\nfrom masthead.collect import read_entries\n"
             "read_entries(b'<rss version=\"2.0\"><channel><item><title>t</title></item></channel></rss>', 'a.xml', 'feed')\n"
             "before = {'extruct', 'trafilatura'} & {m.split('.')[0] for m in sys.modules}\n"
             "read_entries(b'<html><body><p>text</p></body></html>', 'a.html', 'html')\n"
             "after = {'extruct', 'trafilatura'} & {m.split('.')[0] for m in sys.modules}\n"
             "print(sorted(before), sorted(after))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "[] ['extruct', 'trafilatura']" == result.stdout.strip()


def test_the_help_lists_each_command_with_its_own_summary() -> None:
    """`masthead --help` lists every command with the first sentence of that command's own help."""
    import click

    from masthead.cli import COMMANDS, SUMMARIES, main

    context = click.Context(main)
    own = {name: main.get_command(context, name).get_short_help_str(limit=300) for name in COMMANDS}
    assert own == SUMMARIES
