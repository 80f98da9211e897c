"""``masthead report``: a private HTML page of every digest sent and what came back."""

from __future__ import annotations

from pathlib import Path

import click

from .common import now_option, parse_now, project_option, publication, store_for

REPORT_FILE = "report.html"


@click.command()
@project_option
@now_option
def report(project: Path, now: str | None) -> None:
    """Write .masthead/report.html: per digest over time, list size, copies sent, bounces, complaints, unsubscribes.

    The page is private (it sits with the state, never under output/); open it
    in a browser.

    Example: masthead report && xdg-open .masthead/report.html
    """
    from ..send.report import render
    from ..state import feedback
    from ..state.atomic import atomic_write

    pub = publication(project)
    with store_for(pub) as store:
        numbers = feedback.digest_numbers(store)
        sizes = feedback.list_sizes(store)
    path = pub.state_dir / REPORT_FILE
    atomic_write(path, render(pub, numbers, sizes, now=parse_now(now)).encode("utf-8"), mode=0o600)
    click.echo(str(path))

