"""What every state module talks to: ``Store``, one connection to SQLite or PostgreSQL.

The state modules write portable SQL with ``:name`` parameters (``?`` works
too) and read rows by position or by column name; ``Store`` runs it on either
engine (sqlite.py, postgres.py). It is a thin layer over the two DB-API
drivers, not a query builder: the SQL text is the modules' own, the engine
only translates the parameter style and maps the four column types of the
schema (INTEGER, TEXT, BLOB, REAL) in DDL.

Transactions behave alike on both engines. ``transaction()`` is a writer that
runs alone: SQLite's BEGIN IMMEDIATE, and on PostgreSQL a transaction holding
one database-wide advisory lock, so read-then-write code (count, then insert)
stays correct across processes and machines. ``transaction(serial=False)``
lets PostgreSQL run it beside other writers: for statements that are safe
under concurrency on their own (compare-and-set updates, SKIP LOCKED claims),
the hot path of the send workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from itertools import islice
from typing import Any, ClassVar, Protocol

Params = Mapping[str, Any] | Sequence[Any]
MANY = 1000         # rows per executemany when they come from an iterator


class Row(Protocol):
    """A result row: by position (``row[0]``, unpacking) or by column name (``row["email"]``)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Cursor(Protocol):
    """What ``Store.execute`` returns: rows to fetch or iterate, and how many rows changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Store:
    """One connection to the state database; an engine subclass makes it (see ``open_store``)."""

    engine: ClassVar[str]           # "sqlite" or "postgresql"
    skip_locked: ClassVar[str]      # appended to a claiming SELECT: rows other workers hold are skipped
    where: str                      # the database for messages: a path, or a URL without its password
    db: Any                         # the driver's connection

    def __init__(self) -> None:
        self._depth = 0
        self._serial = False
        # Held through every transaction when stores of one process take turns writing
        # (SQLite siblings: waiting here is quicker than SQLite's sleeping busy handler).
        self.writers: AbstractContextManager[object] = nullcontext()

    def another(self) -> Store:
        """A new connection to the same database, for another thread of this process (close it after)."""
        raise NotImplementedError

    # -- statements ------------------------------------------------------------------------
    def sql(self, text: str) -> str:
        """The statement as the driver takes it (the engine's parameter style)."""
        return text

    def guard(self) -> AbstractContextManager[object]:
        """Where the driver's errors that are the storage's fault become StorageErrors (engine's own)."""
        return nullcontext()

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        with self.guard():
            cursor: Cursor = self.db.execute(self.sql(sql), params)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """``sql`` once per row; rows from an iterator are made and sent MANY at a time (memory stays flat)."""
        if not isinstance(rows, Sequence):
            remaining = iter(rows)
            while batch := list(islice(remaining, MANY)):
                self.executemany(sql, batch)
            return
        if len(rows) == 1:          # one round trip, without the batching machinery
            self.execute(sql, rows[0])
        elif rows:
            with self.guard():
                self.db.cursor().executemany(self.sql(sql), rows)

    def one(self, sql: str, params: Params = ()) -> Row | None:
        with self.guard():
            row: Row | None = self.execute(sql, params).fetchone()
        return row

    def rows(self, sql: str, params: Params = ()) -> list[Row]:
        with self.guard():
            return self.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Params = ()) -> Any:
        with self.guard():
            row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def stream(self, sql: str, params: Params = (), *, size: int = 1000) -> Iterator[Row]:
        """The rows of a large result, a batch at a time (memory stays flat); inside snapshot()."""
        yield from self.execute(sql, params)

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, serial: bool = True) -> Iterator[Store]:
        """BEGIN ... COMMIT, rolled back on any error; nested calls join the outer one.

        ``serial`` (the default): no other serial writer runs at the same time,
        on any machine. ``serial=False``: only for statements that stay correct
        beside concurrent writers (PostgreSQL then runs them in parallel).
        """
        if self._depth:
            if serial and not self._serial:
                self._lock_writers()
                self._serial = True
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        with self.writers:
            with self.guard():
                self._begin(serial)
            self._depth, self._serial = 1, serial
            try:
                yield self
            except BaseException:
                self._depth = 0
                with self.guard():
                    self._rollback()
                raise
            self._depth = 0
            with self.guard():
                self._commit()

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """A read-only view of one moment of the whole database (for export)."""
        self._begin_snapshot()
        self._depth = 1
        try:
            yield self
        finally:
            self._depth = 0
            self._rollback()

    def _begin(self, serial: bool) -> None:
        raise NotImplementedError

    def _begin_snapshot(self) -> None:
        raise NotImplementedError

    def _lock_writers(self) -> None:
        """Inside a transaction begun with serial=False: become a serial writer."""

    def _commit(self) -> None:
        self.db.execute("COMMIT")

    def _rollback(self) -> None:
        self.db.execute("ROLLBACK")

    # -- schema ----------------------------------------------------------------------------
    def ddl(self, statement: str) -> str:
        """A CREATE or ALTER statement written with SQLite's types, as this engine takes it."""
        return statement

    def schema_version(self) -> int:
        raise NotImplementedError

    def set_schema_version(self, version: int) -> None:
        raise NotImplementedError

    def tables(self) -> list[str]:
        """Every table of the state, each after the tables its foreign keys point to."""
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        """The table's columns, in order."""
        raise NotImplementedError

    def after_import(self) -> None:
        """Bring generated keys past the imported rows (PostgreSQL's identity columns)."""

    # -- life ------------------------------------------------------------------------------
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dependency_order(tables: Sequence[str], parents: Mapping[str, set[str]]) -> list[str]:
    """``tables`` sorted by name, each after those it refers to (``parents``: table -> referenced)."""
    done: list[str] = []

    def visit(table: str, seen: tuple[str, ...]) -> None:
        if table in done or table in seen:
            return
        for parent in sorted(parents.get(table, ())):
            if parent in tables:
                visit(parent, (*seen, table))
        done.append(table)

    for table in sorted(tables):
        visit(table, ())
    return done
