"""Shared fixtures: the sample publication copied to a temp folder, golden files, the state on both engines.

``store`` (and ``database``) run a test once with the state in SQLite and once
in PostgreSQL: a throwaway server for the whole session (tests/pgserver.py)
and, per test, a new database copied from a template that already holds the
schema (~40 ms). Without the server binaries the PostgreSQL half is skipped,
saying why (or fails, when MASTHEAD_PG_REQUIRED is set, as CI does).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from masthead.config import Publication, load_publication
from masthead.state.db import Store, open_store

from .pgserver import PgNotFound, PgServer

# Shared 2-core machines are noisy: no per-example deadline, no "too slow" health check.
settings.register_profile("masthead", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("masthead")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "samples"
GOLDEN = Path(__file__).resolve().parent / "golden"
SEED = ROOT / "feeds" / "ar-news" / "000_dc9ff0ee3f199e80.txt"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the current output instead of comparing")


@pytest.fixture
def sample_pub(tmp_path: Path) -> Path:
    """A fresh copy of the repository's sample publication (feeds/ and templates/)."""
    root = tmp_path / "pub"
    shutil.copytree(ROOT / "feeds", root / "feeds")
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", root / "templates")
    return root


@pytest.fixture
def pub(sample_pub: Path) -> Publication:
    """The sample publication's settings, loaded from its fresh copy."""
    return load_publication(sample_pub)


ENGINES = ("sqlite", "postgresql")
SECRET = "test-secret-shared-by-every-machine"   # MASTHEAD_SECRET for commands on a shared database


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Where the state lives: None (SQLite in the state folder) or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        yield None
        return
    server: PgServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("pg_template")
    with server.fresh_database(template) as url:
        yield url


@pytest.fixture
def store(pub: Publication, database: str | None) -> Iterator[Store]:
    """The sample publication's state, open for the test (once on SQLite, once on PostgreSQL)."""
    with open_store(pub.state_dir, database) as s:
        yield s


@pytest.fixture
def cli_env(database: str | None) -> dict[str, str]:
    """What a command needs in its environment to use the test's state (and a shared key with PostgreSQL)."""
    return {"MASTHEAD_DATABASE_URL": database, "MASTHEAD_SECRET": SECRET} if database else {}


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """golden(name, content): compare bytes with tests/golden/name, or rewrite it."""
    update = request.config.getoption("--update-golden")

    def check(name: str, content: bytes) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            return
        assert path.exists(), f"no golden file {path}; run pytest --update-golden"
        assert path.read_bytes() == content, f"{name} differs from its golden file"

    return check


def pg_or_skip() -> PgServer:
    """A PgServer, not started; the test is skipped when no server binaries are found,
    or fails when MASTHEAD_PG_REQUIRED is set (CI sets it: a missing install must not pass quietly)."""
    try:
        return PgServer()
    except PgNotFound as missing:
        if os.environ.get("MASTHEAD_PG_REQUIRED"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway PostgreSQL server on 127.0.0.1 for the whole run (tests/pgserver.py)."""
    with pg_or_skip() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database holding masthead's schema, made once: each test's database is a copy of it."""
    url = pg_server.create_database()
    open_store(tmp_path_factory.mktemp("unused"), url).close()
    return url


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new, empty database on ``pg_server``, dropped after the test."""
    with pg_server.fresh_database() as url:
        yield url
