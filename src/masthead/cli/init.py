"""``masthead init`` and ``masthead check``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .common import environment, project_option, publication


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="My Publication", show_default=True, help="The site's title.")
@click.option("--base-url", default="https://example.org/", show_default=True,
              help="Public URL where output/ will be served.")
@click.option("--language", default="en", show_default=True, help="Default language code (ar, en, ...).")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. Asia/Riyadh.")
def init(directory: Path, title: str, base_url: str, language: str, timezone: str) -> None:
    """Start a new publication in DIRECTORY, ready for `masthead run`.

    Example: masthead init mypub --language ar --timezone Asia/Riyadh && masthead run --project mypub
    """
    from ..scaffold import init_publication

    written = init_publication(directory, title=title, base_url=base_url, language=language,
                               timezone=timezone, today=date.today())
    publication(directory)  # what init writes must load
    click.echo(f"created {directory} ({len(written)} files); next: masthead run --project {directory}")


@click.command()
@project_option
def check(project: Path) -> None:
    """Check the settings and templates without building anything.

    Exits 0 when all is well, 2 with a message naming the file and key (or
    line) otherwise. Warns when mail is not DKIM-signed, or signed for a
    domain that does not align with the From domain, and names the values
    still left from `masthead init` (the base URL, the sender, the example
    article) and a missing postal address while digests are on.

    Example: masthead check --project mypub
    """
    from ..check import check_publication, mail_warnings, placeholders

    pub = publication(project)
    checked = check_publication(pub)
    for warning in placeholders(pub) + mail_warnings(pub, environment().dkim_key_file):
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"ok: {len(pub.feeds)} feeds, {len(checked)} templates checked")
