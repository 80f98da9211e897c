"""The W3C Feed Validation Service passes every RSS and Atom file of the sample publication.

Runs only when MASTHEAD_FEEDVALIDATOR names a checkout of w3c/feedvalidator
(the folder holding src/feedvalidator); skipped otherwise, as in CI. The
validator is not on PyPI and is never copied into this project: extract it
outside the repository, e.g.
``git --git-dir=/work/.mirror/w3c+feedvalidator/repo archive HEAD | tar -x -C /tmp/feedvalidator``,
install its html5lib dependency (in the ``test`` extra) and run
``MASTHEAD_FEEDVALIDATOR=/tmp/feedvalidator .venv/bin/python -m pytest tests/test_feeds_validator.py``.
It runs in a subprocess, each file validated with its public self URL as base;
errors and warnings both fail ("AA", the level of the online service).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedgen.feed import FeedGenerator

from masthead.config import load_publication
from masthead.pipeline import run

from .conftest import ROOT

VALIDATOR = os.environ.get("MASTHEAD_FEEDVALIDATOR")
pytestmark = pytest.mark.skipif(not VALIDATOR, reason="set MASTHEAD_FEEDVALIDATOR to a w3c/feedvalidator checkout")

# Reads [[path, base URL], ...] on stdin; prints {path: ["message", ...]} for errors and warnings.
SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import feedvalidator
from feedvalidator import compatibility
from feedvalidator.formatter.text_plain import Formatter
report = {}
for path, base in json.load(sys.stdin):
    try:
        events = feedvalidator.validateString(open(path, "rb").read(), firstOccurrenceOnly=1, base=base)["loggedEvents"]
    except feedvalidator.logging.ValidationFailure as failure:
        events = [failure.event]
    report[path] = list(Formatter(compatibility.AA(events)))
print(json.dumps(report, ensure_ascii=False))
"""


def validate(files: list[tuple[Path, str]]) -> dict[str, list[str]]:
    """The validator's errors and warnings for each (file, self URL)."""
    src = str(Path(VALIDATOR or "") / "src")
    done = subprocess.run([sys.executable, "-c", SCRIPT, src], input=json.dumps([[str(p), u] for p, u in files]),
                          capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout)


def test_every_rss_and_atom_file_has_no_errors_or_warnings(tmp_path: Path) -> None:
    """Each feed's RSS and Atom file and archive page, validated at its public URL, reports nothing at all."""
    shutil.copytree(ROOT / "feeds", tmp_path / "feeds")
    # two entries per document: ar-news gets full archive pages and a newest, empty one; two hubs (on this
    # machine, closed: the run's notifications go nowhere else)
    feed_toml = tmp_path / "feeds/ar-news/feed.toml"
    feed_toml.write_text(feed_toml.read_text("utf-8").replace("limit = 50", "limit = 2"), "utf-8")
    site_toml = tmp_path / "feeds/site.toml"
    site_toml.write_text(site_toml.read_text("utf-8").replace(
        "ttl = 60\n", 'ttl = 60\nhub = ["http://127.0.0.1:9/hub", "http://127.0.0.1:9/other"]\n'), "utf-8")
    run(load_publication(tmp_path), now=datetime(2023, 2, 1, 6, tzinfo=UTC))
    manifest = json.loads((tmp_path / "output/manifest.json").read_text("utf-8"))
    documents = list(manifest["feeds"]) + [a for f in manifest["feeds"] for a in f["archives"]]
    files = [(tmp_path / d["files"][k], d["urls"][k]) for d in documents for k in ("rss", "atom")]
    assert len(files) >= 6 + 6
    assert {str(p): [] for p, _ in files} == validate(files)


def test_the_check_catches_feedgens_enclosure_fault(tmp_path: Path) -> None:
    """Plain feedgen with an enclosure (the fault feeds.py works around) does get a complaint."""
    fg = FeedGenerator()
    fg.id("https://example.org/atom.xml")
    fg.title("t")
    fg.author({"name": "a"})
    fg.link(href="https://example.org/atom.xml", rel="self")
    fg.updated(datetime(2022, 5, 6, tzinfo=UTC))
    fe = fg.add_entry()
    fe.id("https://example.org/1")
    fe.title("one")
    fe.updated(datetime(2022, 5, 6, tzinfo=UTC))
    fe.link(href="https://example.org/1.html")
    fe.enclosure("https://example.org/1.jpg", 10, "image/jpeg")
    fe.content("x")
    path = tmp_path / "atom.xml"
    path.write_bytes(fg.atom_str(pretty=True))
    assert validate([(path, "https://example.org/atom.xml")])[str(path)]
