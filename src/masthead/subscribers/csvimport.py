"""``masthead subscribers import``: subscribers from a CSV file, in one transaction."""

from __future__ import annotations

import csv
import hashlib
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

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


class _Seen:
    """The addresses of the rows read so far, as 8-byte digests in one open-addressed array.

    A file of 100,000 rows would need 8 MiB as a set of digests (a bytes
    object and a table slot each); here it is 1 MiB, one 64-bit number each at
    most three quarters full.
    """

    __slots__ = ("_count", "_slots")

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * 1024))
        self._count = 0

    def add(self, address: str) -> bool:
        """Note ``address``; False when it was noted before."""
        digest = hashlib.blake2b(address.encode("utf-8"), digest_size=8).digest()
        key = int.from_bytes(digest, "little") or 1          # 0 marks an empty slot
        if not self._place(self._slots, key):
            return False
        self._count += 1
        if self._count * 4 > len(self._slots) * 3:
            grown = array("Q", bytes(16 * len(self._slots)))
            for held in self._slots:
                if held:
                    self._place(grown, held)
            self._slots = grown
        return True

    @staticmethod
    def _place(slots: array[int], key: int) -> bool:
        mask = len(slots) - 1
        at = key & mask
        while held := slots[at]:
            if held == key:
                return False
            at = (at + 1) & mask
        slots[at] = key
        return True


def _lines(path: Path, binary: BinaryIO) -> Iterator[str]:
    """The file's lines as text, one at a time: UTF-8 (a BOM is fine), or InputError naming the bad line."""
    for number, raw in enumerate(binary, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text", where=f"{path}:{number}",
                             hint="save it as 'CSV UTF-8' (in Excel: Save As > CSV UTF-8) "
                                  "and import again") from None


def import_csv(store: Store, pub: Publication, path: Path, *, now: datetime) -> ImportReport:
    """Add the subscribers listed in a CSV file, in one transaction, reading it a row at a time.

    Columns: ``email`` (required), ``name`` and ``feeds`` (names separated by
    spaces, commas or semicolons; all digest feeds when empty). Without a
    header row, the columns are taken in that order. Rows with a malformed
    address, a name with a line break, an unknown feed, an address already seen
    in the file, or a suppressed address are skipped and listed in the report;
    feeds an address left earlier are left out of its row. A byte that is not
    UTF-8 anywhere stops the import with nothing changed, naming its line.
    """
    try:
        binary = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", where=str(path)) from None
    with binary, store.transaction():
        return _import_rows(store, pub, csv.reader(_lines(path, binary)), now)


def _import_rows(store: Store, pub: Publication, reader: Any, now: datetime) -> ImportReport:
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    skipped: list[SkippedRow] = []
    seen = _Seen()                 # the addresses so far: a 100,000-row file stays small
    columns = ["email", "name", "feeds"]
    line = 1
    for cells in reader:
        first, line = line, reader.line_num + 1
        if first == 1 and "email" in (header := [c.strip().lower() for c in cells]):
            columns = header
            continue
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
            skipped.append(SkippedRow(first, raw, reason))
            continue
        if not seen.add(address):
            skipped.append(SkippedRow(first, raw, "duplicate: the address is on an earlier row"))
            continue
        outcome = roster.upsert(store, address, name, feeds, now, resubscribe=False)
        if outcome in roster.SUPPRESSED:
            skipped.append(SkippedRow(first, raw, f"suppressed: {roster.SUPPRESSED[outcome]}"))
        elif outcome == "left":
            skipped.append(SkippedRow(first, raw, "suppressed: the address left these feeds earlier"))
        else:
            counts[outcome] += 1
    return ImportReport(skipped=tuple(skipped), **counts)
