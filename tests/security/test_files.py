"""Attacks 3, 5, 12, 13 and 14: symlinked articles, live markup in RSS, colliding pages, readable
private state, storage failures ending in tracebacks."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from masthead.config import load_publication
from masthead.errors import StorageError
from masthead.pipeline import run
from masthead.state.db import open_store

NOW = "2022-05-07T06:00:00Z"
WHEN = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)


def masthead(pub: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "masthead", *args, "--project", str(pub)],
                          capture_output=True, text=True, timeout=120, check=False)


def output_bytes(pub: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((pub / "output").rglob("*")) if p.is_file())


class TestSymlinks:
    def test_links_out_of_feeds_are_refused_and_nothing_of_them_is_published(self, sample_pub: Path) -> None:
        """Links to the signing key, to output/, outside the publication, and a linked folder: each a
        problem naming it; the key appears nowhere under output/."""
        pub = load_publication(sample_pub)
        secret = pub.state_dir / "secret"
        secret.parent.mkdir(mode=0o700)
        secret.write_text("a-very-secret-signing-key-0123456789\n", encoding="ascii")
        outside = sample_pub.parent / "elsewhere"
        outside.mkdir()
        (outside / "leak.txt").write_text("Leaked text from outside.\n", encoding="utf-8")
        news = sample_pub / "feeds" / "ar-news"
        (news / "x.txt").symlink_to("../../.masthead/secret")
        (news / "out.md").symlink_to(outside / "leak.txt")
        (news / "folder").symlink_to(outside)
        (news / "inside.txt").symlink_to("maghreb-budget.txt")       # inside feeds/: fine, read once
        report = run(pub, now=WHEN)
        named = {p.where: p.message for p in report.all_problems}
        assert {"feeds/ar-news/x.txt", "feeds/ar-news/out.md", "feeds/ar-news/folder"} <= set(named)
        assert all("outside feeds/" in named[w] for w in ("feeds/ar-news/x.txt", "feeds/ar-news/out.md"))
        published = output_bytes(sample_pub)
        assert b"a-very-secret-signing-key" not in published and b"Leaked text" not in published


def test_rss_description_is_html_made_from_text(sample_pub: Path) -> None:
    """A summary holding markup reaches an RSS reader (which renders description as HTML) as text."""
    article = sample_pub / "feeds" / "en-news" / "xss.md"
    article.write_text('---\ntitle: "<b>Bold</b> claim"\ndate: 2022-05-06\nsummary: "<img src=x onerror=alert(1)>'
                       ' & more"\n---\n\nBody.\n', encoding="utf-8")
    run(load_publication(sample_pub), now=WHEN)
    rss = (sample_pub / "output" / "en-news" / "rss.xml").read_bytes()
    parsed = feedparser.parse(rss, sanitize_html=False)
    entry = next(e for e in parsed.entries if "claim" in e.title)
    assert b"&lt;img src=x onerror=alert(1)&gt; &amp; more" not in rss     # escaped once only: live in readers
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" == entry.summary
    for name in ("atom.xml", "rss.xml"):
        title = next(e.title for e in feedparser.parse((sample_pub / "output" / "en-news" / name).read_bytes()).entries
                     if "claim" in e.title)
        assert "<b>Bold</b> claim" == title


def test_colliding_pages_are_problems(sample_pub: Path) -> None:
    """slug: index (the feed's own page), and two articles whose URLs differ only after '#' (one page
    path), are reported; the feed page stays."""
    news = sample_pub / "feeds" / "en-news"
    for name, title, key in (("a.md", "First", "slug: index"), ("b.md", "Second", "slug: same"),
                             ("c.md", "Third", "url: https://news.example.org/en-news/same.html#third")):
        (news / name).write_text(f"---\ntitle: {title}\ndate: 2022-05-06\n{key}\n---\n\nText {title}.\n",
                                 encoding="utf-8")
    report = run(load_publication(sample_pub), now=WHEN)
    messages = [str(p) for p in report.all_problems if "its page" in p.message]
    page = (sample_pub / "output" / "en-news" / "index.html").read_text(encoding="utf-8")
    assert 2 == len(messages)
    assert any("feeds/en-news/a.md" in m and "the page of feed en-news" in m for m in messages)
    assert any("output/en-news/same.html" in m for m in messages)
    assert "Central bank holds rates steady" in page and "Text Third." in page     # the feed page, listing all


def test_private_state_is_private_and_loose_modes_are_fixed(sample_pub: Path) -> None:
    """After a run .masthead/ is 0700 and its files 0600; loosened ones are tightened on the next run."""
    pub = load_publication(sample_pub)
    run(pub, now=WHEN)
    state = pub.state_dir
    os.chmod(state, 0o755)
    os.chmod(state / "state.db", 0o644)
    (state / "old.eml").write_bytes(b"x")
    os.chmod(state / "old.eml", 0o644)
    run(pub, now=WHEN)
    modes = {str(p.relative_to(state)): stat.S_IMODE(p.stat().st_mode) for p in [state, *state.rglob("*")]}
    assert {k: v for k, v in modes.items() if v != (0o700 if (state / k).is_dir() else 0o600)} == {}
    assert {"state.db", "lock", "old.eml"} <= set(modes)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of our own (needs root, as CI has), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


class TestStorage:
    def test_a_full_disk_is_exit_5_with_one_line_and_the_next_run_completes(self, sample_pub: Path,
                                                                              tmpfs: Path) -> None:
        """output/ on a full disk: exit 5, one line naming a path and what to do; after freeing space the
        rerun completes with the same output as a run that never failed."""
        pub = tmpfs / "pub"
        subprocess.run(["cp", "-a", str(sample_pub), str(pub)], check=True)
        assert 0 == masthead(pub, "run", "--now", NOW).returncode
        before = output_bytes(pub)
        (pub / "feeds" / "en-news" / "new.md").write_text("---\ntitle: New\ndate: 2022-05-06\n---\n\nNew.\n", "utf-8")
        filler = tmpfs / "filler"
        with filler.open("wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
            except OSError:
                pass
        failed = masthead(pub, "run", "--now", NOW)
        lines = failed.stderr.strip().splitlines()
        assert 5 == failed.returncode and 1 == len(lines) and "Traceback" not in failed.stderr
        assert "full" in lines[0] and ("output/" in lines[0] or "state.db" in lines[0])
        assert before == output_bytes(pub)                     # nothing half-written
        filler.unlink()
        assert 0 == masthead(pub, "run", "--now", NOW).returncode
        assert b"New." in output_bytes(pub)

    def test_a_read_only_output_is_exit_5(self, sample_pub: Path, tmpfs: Path) -> None:
        """output/ mounted read-only: exit 5, one line naming the file and saying to make it writable."""
        subprocess.run(["cp", "-a", str(sample_pub / "feeds"), str(tmpfs)], check=True)
        pub = sample_pub.parent / "ro"
        pub.mkdir()
        (pub / "feeds").symlink_to(tmpfs / "feeds")
        (tmpfs / "output").mkdir()
        (pub / "output").symlink_to(tmpfs / "output")
        subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
        failed = masthead(pub, "run", "--now", NOW)
        assert (5, 1) == (failed.returncode, len(failed.stderr.strip().splitlines()))
        assert "read-only" in failed.stderr and "Traceback" not in failed.stderr

    def test_a_damaged_state_database_is_exit_5(self, sample_pub: Path) -> None:
        """state.db overwritten with garbage: exit 5, one line naming it and how to recover."""
        state = sample_pub / ".masthead"
        state.mkdir()
        (state / "state.db").write_bytes(b"this is not a database at all " * 200)
        failed = masthead(sample_pub, "run", "--now", NOW)
        assert (5, 1) == (failed.returncode, len(failed.stderr.strip().splitlines()))
        assert "state.db" in failed.stderr and "backup" in failed.stderr and "Traceback" not in failed.stderr

    def test_a_locked_state_database_is_a_storage_error(self, pub) -> None:
        """Another process holding the database's write lock past the timeout: a StorageError naming it."""
        with open_store(pub.state_dir):
            pass
        holder = sqlite3.connect(pub.state_dir / "state.db", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StorageError, match="locked by another process") as caught, \
                    open_store(pub.state_dir, timeout=0.2) as store, store.transaction():
                pass
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert 5 == caught.value.exit_code and "state.db" in str(caught.value)
