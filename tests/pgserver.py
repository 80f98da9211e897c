"""A throwaway PostgreSQL server on 127.0.0.1 for tests, started and removed by the tests.

``PgServer`` finds the server binaries, ``initdb``s a cluster in a new folder,
starts it with ``pg_ctl`` on 127.0.0.1 and a free port (its unix socket in that
folder too), and ``close()`` stops it and deletes the folder. A cluster made by
Debian's package (port 5432, /var/lib/postgresql) is never used, running or not.

    with PgServer() as server:                       # PgNotFound without binaries
        with server.fresh_database() as url:         # postgresql://masthead@127.0.0.1:PORT/t_1
            ...                                      # dropped on exit

A new database is a copy of a template (``template1``, empty, by default), so a
suite can fill one template with its schema once and copy it per test.

- As root (initdb refuses root) the cluster belongs to ``MASTHEAD_PG_USER``,
  else ``postgres`` (made by Debian's package), else ``nobody``.
- For tests only: ``trust`` authentication; fsync, synchronous_commit and
  full_page_writes off. Locale C, UTF-8: text sorts by bytes, as in SQLite.
- The folder goes in /dev/shm when that is a tmpfs with 1 GiB free (a new
  database takes ~20 ms there, ~200 ms on this disk even with fsync off), else
  in the temp dir; ``MASTHEAD_PG_TMP`` names another. A test process killed
  outright leaves the server running: ``pg_ctl stop -D <folder>/data`` ends it.
- Admin statements go through psycopg 3, imported when first needed.
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NOT_FOUND = "PostgreSQL server binaries not found: apt-get install postgresql, or set MASTHEAD_PG_BIN"
SUPERUSER = "masthead"
DATABASE = "masthead"
SETTINGS = {  # for tests: no durability, nothing to wait for
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
}
_NEEDED = ("initdb", "pg_ctl", "postgres")


class PgNotFound(RuntimeError):
    """No folder holding initdb, pg_ctl and postgres was found."""


def find_bindir() -> Path | None:
    """The folder of the server binaries: $MASTHEAD_PG_BIN, else PATH, else /usr/lib/postgresql/*/bin, newest first."""
    def complete(folder: Path) -> bool:
        return all(os.access(folder / name, os.X_OK) for name in _NEEDED)

    named = os.environ.get("MASTHEAD_PG_BIN")
    if named:
        return Path(named) if complete(Path(named)) else None
    on_path = shutil.which("initdb")
    if on_path and complete(Path(on_path).resolve().parent):  # Debian's links lead to the real folder
        return Path(on_path).resolve().parent

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", folder.parent.name))

    found = [f for f in Path("/usr/lib/postgresql").glob("*/bin") if complete(f)]
    return max(found, key=version, default=None)


def base_dir() -> Path:
    """Where the cluster's folder goes: $MASTHEAD_PG_TMP, else a roomy /dev/shm, else the temp dir."""
    named = os.environ.get("MASTHEAD_PG_TMP")
    if named:
        return Path(named)
    try:
        shm = os.statvfs("/dev/shm")
        if shm.f_bavail * shm.f_frsize >= 1 << 30 and os.access("/dev/shm", os.W_OK | os.X_OK):
            return Path("/dev/shm")
    except OSError:
        pass
    return Path(tempfile.gettempdir())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    """A PostgreSQL cluster in a temp folder, running from ``start()`` (or ``with``) to ``close()``."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            named = os.environ.get("MASTHEAD_PG_BIN")
            raise PgNotFound(NOT_FOUND + (f" (MASTHEAD_PG_BIN={named} lacks {', '.join(_NEEDED)})" if named else ""))
        self.bindir = found
        self.port = 0
        self.folder: Path | None = None
        self._owner: pwd.struct_passwd | None = None
        self._admin: Any = None  # psycopg.Connection to the "postgres" database, autocommit
        self._names = itertools.count(1)

    @property
    def url(self) -> str:
        """The URL of the database made at start (``masthead``)."""
        return self.url_for(DATABASE)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> PgServer:
        """initdb a new cluster, start it, create the ``masthead`` database; on failure leave nothing behind."""
        if os.geteuid() == 0:
            self._owner = _plain_user()
        self.folder = Path(tempfile.mkdtemp(prefix="masthead-pg-", dir=base_dir()))  # parent open to the owner
        try:
            self._start(self.folder)
        except BaseException:
            self.close()
            raise
        return self

    def _start(self, folder: Path) -> None:
        if self._owner:
            os.chown(folder, self._owner.pw_uid, self._owner.pw_gid)
        data = folder / "data"
        self._run("initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")
        lines = [f"{k} = {v}" for k, v in SETTINGS.items()] + [f"unix_socket_directories = '{folder}'"]
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# masthead tests\n" + "\n".join(lines) + "\n")
        for attempt in range(3):  # another process may take the free port before the server does
            self.port = free_port()
            try:
                self._run("pg_ctl", "start", "-D", data, "-l", folder / "server.log", "-w", "-t", "60",
                          "-o", f"-p {self.port}")
                break
            except RuntimeError:
                if attempt == 2 or "already in use" not in self.log():
                    raise
        self.admin().execute(f'CREATE DATABASE "{DATABASE}"')

    def admin(self) -> Any:
        """An autocommit psycopg connection to the ``postgres`` database, opened once."""
        if self._admin is None:
            import psycopg

            self._admin = psycopg.connect(self.url_for("postgres"), autocommit=True)
        return self._admin

    def create_database(self, template: str = "template1") -> str:
        """A new database, a copy of ``template`` (a name or URL; no one may be connected to it); its URL."""
        name = f"t_{next(self._names)}"
        self.admin().execute(f'CREATE DATABASE "{name}" TEMPLATE "{_dbname(template)}"')
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url`` (or name), closing any connection still open to it."""
        self.admin().execute(f'DROP DATABASE IF EXISTS "{_dbname(url)}" WITH (FORCE)')

    @contextmanager
    def fresh_database(self, template: str = "template1") -> Iterator[str]:
        """The URL of a new database, dropped on exit."""
        url = self.create_database(template)
        try:
            yield url
        finally:
            self.drop_database(url)

    def log(self) -> str:
        """What the server wrote to its log so far."""
        path = self.folder / "server.log" if self.folder else None
        return path.read_text(encoding="utf-8", errors="replace") if path and path.exists() else ""

    def close(self) -> None:
        """Stop the server (immediately: nothing is kept) and delete its folder. Safe to call twice."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.folder is None:
            return
        if (self.folder / "data" / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "stop", "-D", self.folder / "data", "-m", "immediate", "-w")
            except RuntimeError:
                pass  # already gone: nothing to stop
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, program: str, *args: str | Path) -> None:
        """Run a server binary as the cluster's owner; RuntimeError with its output when it fails."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # no stray PGDATA, PGPORT
        owner = self._owner
        if owner:
            env.update(HOME=str(self.folder), USER=owner.pw_name, LOGNAME=owner.pw_name)
        result = subprocess.run([str(self.bindir / program), *map(str, args)], cwd=self.folder, env=env,
                                user=owner.pw_uid if owner else None, group=owner.pw_gid if owner else None,
                                extra_groups=[] if owner else None,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n"
                               f"server log:\n{self.log()[-3000:]}")


def _dbname(url_or_name: str) -> str:
    return url_or_name.rsplit("/", 1)[-1]


def _plain_user() -> pwd.struct_passwd:
    """The user that owns the cluster when we run as root."""
    named = os.environ.get("MASTHEAD_PG_USER")
    for name in [named] if named else ["postgres", "nobody"]:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"running as root and no user {named or 'postgres or nobody'} to own the PostgreSQL cluster")
