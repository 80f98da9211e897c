"""``masthead subscribers``: add, remove, list and import the people digests go to."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import now_option, parse_now, project_option, publication, store_for


@click.group()
def subscribers() -> None:
    """Manage subscribers (kept in .masthead/state.db, never under output/)."""


@subscribers.command("add")
@project_option
@now_option
@click.argument("email")
@click.option("--name", default=None, help="The name used in the greeting and the To header.")
@click.option("--feed", "feeds", multiple=True, metavar="FEED",
              help="A feed to follow (repeat for several); default: every feed with a digest.")
@click.option("--resubscribe", is_flag=True,
              help="Subscribe an address that unsubscribed, bounced or complained (only if they asked again).")
def add(project: Path, now: str | None, email: str, name: str | None, feeds: tuple[str, ...],
        resubscribe: bool) -> None:
    """Subscribe EMAIL to digests.

    Example: masthead subscribers add reader@example.com --name "سارة" --feed ar-news
    """
    from ..subscribers.roster import add_subscriber, status_of

    pub = publication(project)
    with store_for(pub) as store:
        before = status_of(store, email) if resubscribe else None
        s = add_subscriber(store, pub, email, name=name, feeds=feeds, now=parse_now(now),
                           resubscribe=resubscribe)
    if before is not None and before[0] != "active":
        why = f": {before[2]}" if before[2] else ""
        click.echo(f"warning: {s.email} had {before[0]} on {before[1]}{why}. Mailing an address that bounced "
                   "or complained again hurts the reputation of all your mail; do it only if this person asked.",
                   err=True)
    click.echo(f"{s.email} follows {', '.join(s.feeds) or 'no feed'}")


@subscribers.command("remove")
@project_option
@now_option
@click.argument("email")
@click.option("--forget", is_flag=True,
              help="Erase every record of the address (an erasure request) instead of suppressing it.")
def remove(project: Path, now: str | None, email: str, forget: bool) -> None:
    """Stop sending to EMAIL; it stays suppressed so imports do not bring it back.

    Example: masthead subscribers remove reader@example.com
    """
    from ..subscribers.roster import remove_subscriber

    pub = publication(project)
    with store_for(pub) as store:
        found = remove_subscriber(store, email, now=parse_now(now), forget=forget)
    if not found:
        raise click.ClickException(f"{email} is not a subscriber")
    click.echo(f"{email} {'forgotten' if forget else 'unsubscribed'}")


@subscribers.command("list")
@project_option
@click.option("--status", type=click.Choice(["active", "unsubscribed", "bounced", "complained", "refused"]),
              default=None,
              help="Only subscribers in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_(project: Path, status: str | None, as_json: bool) -> None:
    """List subscribers, their state and feeds.

    Example: masthead subscribers list --status active --json
    """
    from ..subscribers.roster import list_subscribers, status_of

    pub = publication(project)
    with store_for(pub) as store:
        rows = list(list_subscribers(store, status=status))
        notes = {s.email: status_of(store, s.email) or (s.status, s.updated, "") for s in rows}
    if as_json:
        click.echo(json.dumps([{"email": s.email, "name": s.name, "status": s.status,
                                "feeds": list(s.feeds), "created": s.created, "updated": s.updated,
                                "status_since": notes[s.email][1], "status_reason": notes[s.email][2]}
                               for s in rows], ensure_ascii=False, indent=2))
        return
    for s in rows:
        name = f" ({s.name})" if s.name else ""
        click.echo(f"{s.email}{name}\t{s.status}\t{','.join(s.feeds)}")
    click.echo(f"{len(rows)} subscriber{'s' if len(rows) != 1 else ''}", err=True)


@subscribers.command("import")
@project_option
@now_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def import_(project: Path, now: str | None, file: Path) -> None:
    """Add subscribers from a UTF-8 CSV with columns email, name, feeds.

    Rows with a malformed address, an unknown feed, a duplicate or a suppressed
    address are skipped and listed.

    Example: masthead subscribers import readers.csv
    """
    from ..subscribers.csvimport import import_csv

    pub = publication(project)
    with store_for(pub) as store:
        report = import_csv(store, pub, file, now=parse_now(now))
    click.echo(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(report.skipped)} skipped")
    for row in report.skipped:
        click.echo(f"  line {row.line}: {row.value or '(empty)'}: {row.reason}", err=True)
