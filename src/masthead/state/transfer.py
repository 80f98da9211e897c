"""Moving house: the whole state to one file and back, between SQLite and PostgreSQL.

``export_state`` writes every table the database holds (found in its
catalogue, not from a list here, so a table added later is carried too) as
JSON Lines: a header line with the schema version, then per table a line
naming it and its columns followed by one line per row (a JSON array; bytes
as ``{"base64": ...}``), and a last line counting the rows of each table, so
a cut-off file is refused. Rows are read in one snapshot and in a fixed
order: the same state gives the same file, whichever engine held it.

``import_state`` loads such a file into a state of the same schema version,
in one transaction: all of it or nothing. The target must be empty (a new
database, or a new state folder) unless ``replace`` is asked for.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError
from .db import SCHEMA_VERSION, Store

FORMAT = "masthead-state"
CHUNK = 1000


def _value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _unvalue(value: Any) -> Any:
    if isinstance(value, dict):
        return base64.b64decode(value["base64"])
    return value


def _line(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_lines(store: Store) -> Iterator[str]:
    """The export, line by line."""
    with store.snapshot():
        tables = store.tables()
        yield _line({"format": FORMAT, "schema_version": store.schema_version(), "tables": tables})
        counts: dict[str, int] = {}
        for table in tables:
            columns = store.columns(table)
            yield _line({"table": table, "columns": columns})
            quoted = ", ".join(f'"{c}"' for c in columns)
            order = ", ".join(str(i + 1) for i in range(len(columns)))
            count = 0
            for row in store.stream(f'SELECT {quoted} FROM "{table}" ORDER BY {order}'):
                yield _line([_value(v) for v in row])
                count += 1
            counts[table] = count
        yield _line({"end": counts})


def export_state(store: Store, path: Path) -> dict[str, int]:
    """Write the whole state to ``path`` (private: mode 0600; replaced only when complete); rows per table."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    last = ""
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for line in export_lines(store):
                out.write(line)
                last = line
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    counts: dict[str, int] = json.loads(last)["end"]
    return counts


class _Reader:
    """The lines of an export file, with their numbers for error messages."""

    def __init__(self, lines: IO[str], where: str):
        self.lines = enumerate(lines, 1)
        self.where = where
        self.number = 0

    def fail(self, message: str) -> ConfigError:
        return ConfigError(message, where=f"{self.where}, line {self.number}",
                           hint="use a file written by 'masthead db export', whole")

    def next(self) -> Any:
        try:
            self.number, text = next(self.lines)
        except StopIteration:
            raise self.fail("the file ends early (no final count line): it was cut off") from None
        try:
            return json.loads(text)
        except ValueError:
            raise self.fail("this line is not JSON") from None


def import_state(store: Store, path: Path, *, replace: bool = False) -> dict[str, int]:
    """Load an export into ``store`` (empty unless ``replace``), all or nothing; rows per table."""
    with path.open(encoding="utf-8") as lines, store.transaction():
        reader = _Reader(lines, str(path))
        header = reader.next()
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise reader.fail("this is not a masthead state export")
        version = header.get("schema_version")
        if version != SCHEMA_VERSION:
            newer = isinstance(version, int) and version > SCHEMA_VERSION
            raise ConfigError(
                f"the export has schema version {version}; this masthead's is {SCHEMA_VERSION}",
                where=str(path),
                hint="upgrade masthead first" if newer else
                "open the old state with this masthead (masthead db upgrade), then export it again")
        tables = store.tables()
        _make_room(store, tables, replace=replace)
        counts: dict[str, int] = {}
        item = reader.next()
        while isinstance(item, dict) and "table" in item:
            table, columns = item["table"], item.get("columns")
            if table not in tables:
                raise reader.fail(f"this state has no table {table!r}")
            if not isinstance(columns, list) or set(columns) != set(store.columns(table)):
                raise reader.fail(f"the columns of {table!r} differ from this state's: {columns}")
            counts[table], item = _load(store, table, columns, reader)
        if not isinstance(item, dict) or "end" not in item:
            raise reader.fail("expected a table or the final count line")
        if item["end"] != counts:
            raise reader.fail(f"the final count line says {item['end']}, the file held {counts}")
        missing = [t for t in tables if t not in counts]
        if missing:
            raise ConfigError(f"the export has no rows section for {', '.join(missing)}", where=str(path),
                              hint="export again with this masthead")
        store.after_import()
    return counts


def _make_room(store: Store, tables: list[str], *, replace: bool) -> None:
    filled = [t for t in tables if store.scalar(f'SELECT count(*) FROM "{t}"')]
    if filled and not replace:
        raise ConfigError(f"the target state is not empty ({', '.join(filled)} hold rows)", where=store.where,
                          hint="import into a new database or state folder, or pass --replace to "
                               "overwrite what it holds")
    for table in reversed(tables):
        store.execute(f'DELETE FROM "{table}"')


def _load(store: Store, table: str, columns: list[str], reader: _Reader) -> tuple[int, Any]:
    """Insert the rows that follow, in chunks; (how many, the first line after them)."""
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in columns)})'
    count, chunk = 0, []
    item = reader.next()
    while isinstance(item, list):
        if len(item) != len(columns):
            raise reader.fail(f"a row of {table!r} has {len(item)} values for {len(columns)} columns")
        chunk.append([_unvalue(v) for v in item])
        count += 1
        if len(chunk) == CHUNK:
            store.executemany(sql, chunk)
            chunk = []
        item = reader.next()
    store.executemany(sql, chunk)
    return count, item


def table_counts(store: Store, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Rows per table."""
    return {t: int(store.scalar(f'SELECT count(*) FROM "{t}"')) for t in (tables or store.tables())}
