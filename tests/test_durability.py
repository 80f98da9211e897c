"""A run makes what it wrote durable with one fsync per file and one per folder it wrote into.

``os.fsync`` is wrapped only to count its calls (the real fsync still runs,
the files are really written): each call is on a folder or a file, told by
``fstat``. Files must stay whole whatever stops the job (tests/test_kill.py);
here: no folder is fsynced twice in a run, and every folder that took a new
file is fsynced.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from masthead.config import load_publication
from masthead.pipeline import run
from masthead.state.atomic import Folders, atomic_write

NOW = datetime(2022, 5, 7, 6, tzinfo=UTC)
NEW_ARTICLE = "خبر جديد عن الطقس\nقالت الهيئة يوم 6 مايو 2022 إن الحرارة ترتفع.\nالمصدر: واس\n"


class Fsyncs:
    """What os.fsync was called on during a run: folders (by device and inode) and how many files."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folders: Counter[tuple[int, int]] = Counter()
        self.files = 0
        real = os.fsync

        def counting(fd: int) -> None:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                self.folders[(info.st_dev, info.st_ino)] += 1
            else:
                self.files += 1
            real(fd)
        monkeypatch.setattr(os, "fsync", counting)


def identity(folder: Path) -> tuple[int, int]:
    info = folder.stat()
    return info.st_dev, info.st_ino


def test_cold_run_fsyncs_each_folder_once(sample_pub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first run writes hundreds of files but fsyncs each folder it wrote into exactly once."""
    fsyncs = Fsyncs(monkeypatch)
    report = run(load_publication(sample_pub), now=NOW)
    written = {(sample_pub / path).parent for path in report.changed_files}
    assert len(report.changed_files) > 3 * len(written)          # many files per folder: the case that matters
    assert [] == [key for key, count in fsyncs.folders.items() if count > 1]
    assert set() == {identity(folder) for folder in written} - set(fsyncs.folders)
    assert len(report.changed_files) <= fsyncs.files


def test_rerun_with_a_new_article_fsyncs_each_folder_once(sample_pub: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A run after one new article fsyncs only folders it wrote into, each once."""
    run(load_publication(sample_pub), now=NOW)
    (sample_pub / "feeds" / "ar-news" / "weather.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    fsyncs = Fsyncs(monkeypatch)
    report = run(load_publication(sample_pub), now=NOW)
    written = {identity((sample_pub / path).parent) for path in report.changed_files}
    assert written and set(fsyncs.folders) == written
    assert [] == [key for key, count in fsyncs.folders.items() if count > 1]


def test_batched_write_waits_for_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written in a batch are whole at once; their new folders are fsynced, once, by sync."""
    fsyncs = Fsyncs(monkeypatch)
    folders = Folders()
    recorded: list[int] = []
    for n in range(5):
        assert atomic_write(tmp_path / "site" / "feed" / f"{n}.xml", b"<x/>", folders=folders)
    folders.then(lambda: recorded.append(len(fsyncs.folders)))
    assert (5, 0, []) == (fsyncs.files, len(fsyncs.folders), recorded)
    assert b"<x/>" == (tmp_path / "site" / "feed" / "3.xml").read_bytes()
    assert 3 == folders.sync()          # feed/ took the files, site/ took feed/, tmp_path took site/
    assert {identity(tmp_path), identity(tmp_path / "site"), identity(tmp_path / "site" / "feed")} == set(
        fsyncs.folders)
    assert [3] == recorded              # what waited for the folders ran after them
