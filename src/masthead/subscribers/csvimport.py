"""``masthead subscribers import``: subscribers from a CSV file, in one transaction."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..config import Publication
from ..errors import ConfigError, InputError
from ..state import roster
from ..state.db import Store
from .roster import check_feeds, check_name, normalise_address

_FEED_SEPARATORS = re.compile(r"[\s,;|]+")


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A CSV row an import left out, and why."""

    line: int
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    skipped: tuple[SkippedRow, ...]


def read_csv_text(path: Path) -> str:
    """The CSV's text: UTF-8 (a BOM is fine), or InputError naming the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", where=str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", where=f"{path}:{line}",
                         hint="save it as 'CSV UTF-8' (in Excel: Save As > CSV UTF-8) "
                              "and import again") from None


def import_csv(store: Store, pub: Publication, path: Path, *, now: datetime) -> ImportReport:
    """Add the subscribers listed in a CSV file, in one transaction.

    Columns: ``email`` (required), ``name`` and ``feeds`` (names separated by
    spaces, commas or semicolons; all digest feeds when empty). Without a
    header row, the columns are taken in that order. Rows with a malformed
    address, a name with a line break, an unknown feed, an address already seen
    in the file, or a suppressed address are skipped and listed in the report;
    feeds an address left earlier are left out of its row.
    """
    rows = list(csv.reader(io.StringIO(read_csv_text(path), newline="")))
    header = [c.strip().lower() for c in rows[0]] if rows else []
    if "email" in header:
        columns, body, first_line = header, rows[1:], 2
    else:
        columns, body, first_line = ["email", "name", "feeds"], rows, 1
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    skipped: list[SkippedRow] = []
    seen: set[str] = set()
    with store.transaction():
        for line, cells in enumerate(body, start=first_line):
            if not any(c.strip() for c in cells):
                continue
            record = dict(zip(columns, cells, strict=False))  # short rows leave keys out
            raw = record.get("email", "").strip()
            try:
                address = normalise_address(raw)
                name = check_name(record.get("name"))
                feeds = check_feeds(pub, _FEED_SEPARATORS.split(record.get("feeds") or ""))
            except (InputError, ConfigError) as exc:   # ConfigError: an unknown feed
                reason = f"{exc.message}; {exc.hint}" if isinstance(exc, ConfigError) else exc.message
                skipped.append(SkippedRow(line, raw, reason))
                continue
            if address in seen:
                skipped.append(SkippedRow(line, raw, "duplicate: the address is on an earlier row"))
                continue
            seen.add(address)
            outcome = roster.upsert(store, address, name, feeds, now, resubscribe=False)
            if outcome in roster.SUPPRESSED:
                skipped.append(SkippedRow(line, raw, f"suppressed: {roster.SUPPRESSED[outcome]}"))
            elif outcome == "left":
                skipped.append(SkippedRow(line, raw, "suppressed: the address left these feeds earlier"))
            else:
                counts[outcome] += 1
    return ImportReport(skipped=tuple(skipped), **counts)
