"""``masthead bounces``: read bounces and complaints from a mailbox and suppress who they name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import environment, now_option, parse_now, project_option, publication, secret_for, store_for

if TYPE_CHECKING:
    from ..subscribers.bounces import Outcome


@click.command()
@project_option
@now_option
@click.option("--mbox", type=click.Path(dir_okay=False, path_type=Path), default=None, help="An mbox file.")
@click.option("--maildir", type=click.Path(file_okay=False, path_type=Path), default=None, help="A Maildir folder.")
@click.option("--imap", metavar="URL", default=None,
              help="imaps://user@host/INBOX: its unread messages (password in MASTHEAD_IMAP_PASSWORD).")
@click.option("--trust-addresses", is_flag=True,
              help="Also act on reports without a return-path token, by the addresses they name.")
@click.option("--json", "as_json", is_flag=True, help="Print what each message did as JSON.")
@click.option("--webhook-url", is_flag=True,
              help="Print the URL to give Amazon SES (SNS), Postmark and Mailgun, then exit.")
def bounces(project: Path, now: str | None, mbox: Path | None, maildir: Path | None, imap: str | None,
            trust_addresses: bool, as_json: bool, webhook_url: bool) -> None:
    """Read bounces (DSNs) and complaints (ARF) and suppress the addresses they name.

    A hard bounce or a complaint suppresses the address at once; soft bounces
    after [email] soft_bounce_limit copies within soft_bounce_days. Reading
    the same mailbox again changes nothing. Messages that cannot be read are
    listed, never guessed.

    Example: masthead bounces --maildir ~/Maildir/.bounces
    """
    from ..state.lock import publication_lock
    from ..subscribers.bounces import process, read_imap, read_maildir, read_mbox
    from ..tokens import hook_password

    pub = publication(project)
    env = environment()
    secret = secret_for(pub, env)
    if webhook_url:
        base = pub.site.email.unsubscribe_url.split("://", 1)
        click.echo(f"Amazon SES (SNS HTTPS subscription), Mailgun: {base[0]}://{base[1].split('/')[0]}/hooks/bounce")
        click.echo(f"Postmark (basic auth in the URL): {base[0]}://masthead:{hook_password(secret)}@"
                   f"{base[1].split('/')[0]}/hooks/bounce")
        return
    chosen = [name for name, value in (("--mbox", mbox), ("--maildir", maildir), ("--imap", imap)) if value]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --mbox FILE, --maildir DIR or --imap URL")
    moment = parse_now(now)
    messages: Iterator[tuple[str, bytes]]
    if mbox:
        messages, source = read_mbox(mbox), "mbox"
    elif maildir:
        messages, source = read_maildir(maildir), "maildir"
    else:
        assert imap is not None
        messages, source = read_imap(imap, env.imap_password), "imap"
    outcomes: list[Outcome] = []
    with store_for(pub, env) as store, publication_lock(pub.state_dir, moment, wait=60, store=store):
        for where, raw in messages:
            outcomes.append(process(pub, store, secret, raw, where=where, source=source, now=moment,
                                    trust_addresses=trust_addresses))
    if as_json:
        click.echo(json.dumps([o.to_dict() for o in outcomes], ensure_ascii=False, indent=2))
    for line in summary(outcomes):
        click.echo(line, err=True)


def summary(outcomes: list[Outcome]) -> list[str]:
    """One line per address acted on and per message not acted on, then the totals."""
    lines = []
    for o in outcomes:
        for email, kind, digest, status in o.events:
            became = f", now {status}" if status else ""
            lines.append(f"{o.where}: {kind} {'bounce ' if kind != 'complaint' else ''}for {email}"
                         f"{' (' + digest + ')' if digest else ''}{became}")
        if o.problem and o.problem != "read before: nothing new":
            lines.append(f"{o.where}: {o.problem}")
    acted = sum(1 for o in outcomes if o.events)
    unreadable = sum(1 for o in outcomes if o.kind == "unreadable")
    lines.append(f"{len(outcomes)} messages: {acted} acted on, {unreadable} unreadable, "
                 f"{len(outcomes) - acted - unreadable} not applied or read before")
    return lines

