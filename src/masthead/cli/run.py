"""``masthead run``: the whole job, for people and for schedulers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..pipeline import RunReport, run as run_job
from .common import now_option, open_publication, parse_now, project_option

EXIT_CODES = """\b
Exit codes:
  0  done (problems with single articles are reported, not fatal)
  1  some article had a problem, and --strict was given
  2  configuration error (settings, templates)
  3  another run holds the publication's lock
  4  some digest could not be delivered"""


@click.command(epilog=EXIT_CODES)
@project_option
@now_option
@click.option("--strict", is_flag=True, help="Exit 1 when any article has a problem.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless a person must act (for cron).")
def run(project: Path, now: str | None, strict: bool, as_json: bool, quiet: bool) -> None:
    """Collect the articles, write the feeds, make and send the digests.

    Example: masthead run --project mypub --now 2022-05-07T06:00:00Z
    """
    pub = open_publication(project)
    report = run_job(pub, now=parse_now(now))
    if as_json:
        click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    fatal = [p for p in report.collection.problems if p.fatal]
    if not quiet or fatal:
        _summary(report, quiet)
    if strict and report.collection.problems:
        raise SystemExit(1)


def report_json(report: RunReport) -> dict:
    c = report.collection
    return {
        "now": report.now.isoformat(),
        "articles": len(c.articles), "new": sorted(c.new_ids), "changed": sorted(c.changed_ids),
        "problems": [{"where": p.where, "message": p.message, "fatal": p.fatal} for p in c.problems],
        "feeds": [{"name": f.name, "items": f.items} for f in report.feeds],
        "files_changed": list(report.changed_files),
    }


def _summary(report: RunReport, quiet: bool) -> None:
    c = report.collection
    echo = lambda text: click.echo(text, err=True)  # noqa: E731 - the summary goes to stderr
    if not quiet:
        echo(f"{len(c.articles)} articles ({len(c.new_ids)} new, {len(c.changed_ids)} changed)")
        for feed in report.feeds:
            echo(f"feed {feed.name}: {feed.items} items")
        echo(f"{len(report.changed_files)} files written" if report.changed_files
             else "nothing changed on disk")
    shown = c.problems if not quiet else tuple(p for p in c.problems if p.fatal)
    for problem in shown:
        echo(f"problem: {problem}")


COMMANDS = [run]
