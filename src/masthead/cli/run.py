"""``masthead run``: the whole job, for people and for schedulers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import environment, now_option, parse_now, project_option, publication, secret_for, smtp_for

if TYPE_CHECKING:
    from ..pipeline import RunReport
    from ..send.delivery import DigestDelivery

SHOW_FILES = 12  # files named in the summary; --json lists them all
EXIT_CODES = """\b
Exit codes:
  0  done (problems with single articles are reported, not fatal)
  1  some article had a problem, and --strict was given
  2  configuration error (settings, templates)
  3  another run holds the publication's lock
  4  some digest could not be delivered
  5  storage or environment error (disk full, read-only folder, damaged or locked state database)"""


@click.command(epilog=EXIT_CODES)
@project_option
@now_option
@click.option("--strict", is_flag=True, help="Exit 1 when any article has a problem.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless a person must act (for cron).")
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="If another run holds the lock, wait up to this long instead of exiting 3.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also append the summary, with a timestamp, to this file.")
@click.option("--no-send", "no_send", is_flag=True,
              help="Make the digests and plan every copy, but leave the sending to 'masthead send --worker'.")
def run(project: Path, now: str | None, strict: bool, as_json: bool, quiet: bool,
        wait: float, log_file: Path | None, no_send: bool) -> None:
    """Collect the articles, write the feeds, make and send the digests.

    Example: masthead run --project mypub --now 2022-05-07T06:00:00Z
    """
    from ..check import placeholders
    from ..pipeline import run as run_job

    pub = publication(project)
    env = environment()
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    report = run_job(pub, now=parse_now(now), wait=wait, progress=_progress_line if show_progress else None,
                     smtp=smtp_for(pub, env), secret=secret_for(pub, env), database=env.database,
                     send=not no_send)
    if show_progress:
        click.echo("\r\033[K", err=True, nl=False)
    warnings = [f"warning: {line}" for line in placeholders(pub)]
    if as_json:
        click.echo(json.dumps({**report_json(report), "warnings": warnings}, ensure_ascii=False, indent=2))
    lines = summary_lines(report, quiet) + ([] if quiet else warnings)
    for line in lines:
        click.echo(line, err=True)
    if log_file:
        with log_file.open("a", encoding="utf-8") as log:
            for line in summary_lines(report, quiet=False):
                log.write(f"{report.now.isoformat()} {line}\n")
    if delivery_failed(report):
        raise SystemExit(4)
    if strict and report.all_problems:
        raise SystemExit(1)


def _progress_line(done: int, total: int, origin: str) -> None:
    """A progress bar on the terminal's last line (only when stderr is a terminal)."""
    if done % 25 and done != total:
        return
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "-" * (width - filled)
    click.echo(f"\r\033[Kcollecting [{bar}] {done}/{total} {origin[-40:]}", err=True, nl=False)


def report_json(report: RunReport) -> dict:
    c = report.collection
    return {
        "now": report.now.isoformat(),
        "articles": len(c.articles), "new": sorted(c.new_ids), "changed": sorted(c.changed_ids),
        "drafts": sorted(d.origin for d in c.drafts),
        "problems": [{"where": p.where, "message": p.message, "fatal": p.fatal}
                     for p in report.all_problems],
        "feeds": [{"name": f.name, "items": f.items, "archive_pages": len(f.archives), "left_out": f.left_out}
                  for f in report.feeds],
        "digests": [{"id": d.id, "feed": d.feed, "subject": d.subject, "items": len(d.article_ids)}
                    for d in report.digests],
        "deliveries": [d.to_dict() for d in report.deliveries],
        "mail": [n.to_dict() for n in report.mail],
        "files_changed": list(report.changed_files),
        "files_removed": list(report.removed_files),
        "websub": [n.to_dict() for n in report.websub],
    }


def summary_lines(report: RunReport, quiet: bool) -> list[str]:
    """The human summary; with ``quiet`` only what a person must act on."""
    from ..pipeline import HELD

    c = report.collection
    lines: list[str] = []
    if not quiet:
        drafts = f", {len(c.drafts)} draft{'s' if len(c.drafts) != 1 else ''} not published" if c.drafts else ""
        lines.append(f"{len(c.articles)} articles ({len(c.new_ids)} new, {len(c.changed_ids)} changed){drafts}")
        lines += [f"feed {feed.name}: {feed.items} items" + (f", {len(feed.archives)} archive pages" if feed.archives
                                                              else "") + _left_out(feed.left_out)
                  for feed in report.feeds]
        lines += [f"digest {d.id}: {len(d.article_ids)} articles, \"{d.subject}\"" for d in report.digests]
        lines += [_delivery_line(d) for d in report.deliveries if d.recipients]
        lines += [f"mail {n.digest_id}: {n.sent} sent, {n.bounced} bounced, {n.complained} complained, "
                  f"{n.unsubscribed} unsubscribed" for n in report.mail if n.recipients]
        named = report.changed_files[:SHOW_FILES]
        lines += [f"wrote {path}" for path in named]
        if len(report.changed_files) > len(named):
            lines.append(f"... and {len(report.changed_files) - len(named)} more files")
        lines += [f"removed {path}" for path in report.removed_files]
        if not report.changed_files and not report.removed_files:
            lines.append("nothing changed on disk")
        lines += _websub_lines(report)
    shown = report.all_problems if not quiet else tuple(p for p in report.all_problems if p.fatal)
    lines += [f"problem: {problem}" for problem in shown]
    for delivery in report.deliveries:  # what a person must act on, even with --quiet
        lines += [f"delivery failed: {delivery.digest_id} to {f.email}: {f.reply}" for f in delivery.failed]
        if quiet and delivery.not_sent and delivery.pending and delivery.not_sent != HELD:
            lines.append(_delivery_line(delivery))
    return lines


def _left_out(count: int) -> str:
    """What the size cap did to a feed's current document, when it did anything."""
    if not count:
        return ""
    from ..feeds.build import MAX_FEED_BYTES

    return (f" ({count} more within 'limit' moved to the archive: the RSS or Atom file would be over "
            f"{MAX_FEED_BYTES // 1_000_000} MB; lower 'limit' or shorten the bodies)")


def delivery_failed(report: RunReport) -> bool:
    """Exit code 4: a copy was refused, or an SMTP server is set and copies are still pending.

    With no SMTP server configured, pending copies are "not sent", not a failure.
    """
    return any(d.failed or (report.smtp_configured and d.pending) for d in report.deliveries)


def _websub_lines(report: RunReport) -> list[str]:
    """Per hub, how many changed feed URLs it took (its failures are among the problems)."""
    lines = []
    for hub in dict.fromkeys(n.hub for n in report.websub):
        notices = [n for n in report.websub if n.hub == hub]
        lines.append(f"websub {hub}: told of {sum(n.ok for n in notices)} of {len(notices)} changed feed URLs")
    return lines


def _delivery_line(d: DigestDelivery) -> str:
    parts = [f"{d.recipients} recipients", f"{d.sent} sent", f"{d.already_sent} already sent"]
    parts += [f"{len(d.failed)} failed"] if d.failed else []
    parts += [f"{d.pending} pending"] if d.pending else []
    parts += [f"{d.in_flight} with send workers"] if d.in_flight else []
    parts += [f"{d.cancelled} unsubscribed meanwhile"] if d.cancelled else []
    parts += [f"{d.uncertain} uncertain (a killed run's last copies, presumed delivered)"] if d.uncertain else []
    note = f" (not sent: {d.not_sent})" if d.not_sent else ""
    return f"send {d.digest_id}: {', '.join(parts)}{note}"
