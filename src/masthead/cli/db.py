"""``masthead db``: the state database itself: upgrade its schema, export it, import it."""

from __future__ import annotations

from pathlib import Path

import click

from .common import environment, project_option, publication, store_for


@click.group()
def db() -> None:
    """The state database (.masthead/state.db, or MASTHEAD_DATABASE_URL's PostgreSQL database)."""


@db.command("upgrade")
@project_option
def upgrade_command(project: Path) -> None:
    """Bring the state's schema to this masthead's version (every command also does it on first use).

    Example: MASTHEAD_DATABASE_URL=postgresql://masthead@db.example.org/news masthead db upgrade
    """
    from ..state.db import open_store, upgrade

    pub = publication(project)
    with open_store(pub.state_dir, environment().database, migrate=False) as store:
        before, after = upgrade(store)
        where = store.where
    if before == after:
        click.echo(f"{where}: schema version {after}, nothing to do")
    else:
        click.echo(f"{where}: schema version {before} -> {after}")


@db.command("export")
@project_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(project: Path, file: Path) -> None:
    """Write the whole state (subscribers, suppressions, send records, digests, ...) to FILE.

    FILE holds subscriber addresses: it is written private (mode 0600).

    Example: masthead db export state.jsonl
    """
    from ..state.db import SCHEMA_VERSION
    from ..state.transfer import export_state

    pub = publication(project)
    with store_for(pub) as store:
        counts = export_state(store, file)
        where = store.where
    click.echo(f"{where}: exported {sum(counts.values())} rows of {len(counts)} tables to {file} "
               f"(schema version {SCHEMA_VERSION})")


@db.command("import")
@project_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a state that already holds rows.")
def import_command(project: Path, file: Path, replace: bool) -> None:
    """Load FILE (from 'masthead db export') into this publication's state, all or nothing.

    The state must be empty (a new database or state folder) unless --replace.

    Example: MASTHEAD_DATABASE_URL=postgresql://masthead@db.example.org/news masthead db import state.jsonl
    """
    from ..state.transfer import import_state

    pub = publication(project)
    with store_for(pub) as store:
        counts = import_state(store, file, replace=replace)
        where = store.where
    click.echo(f"{where}: imported {sum(counts.values())} rows of {len(counts)} tables from {file}")


COMMANDS = [db]
