"""``masthead send``: send whatever digest copies are still pending."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import DeliveryError
from .common import environment, now_option, parse_now, project_option, publication, secret_for, smtp_for

if TYPE_CHECKING:
    from ..send.delivery import DigestDelivery


@click.command()
@project_option
@now_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--resend-uncertain", "resend", metavar="DIGEST_ID", default=None,
              help="First put copies of this digest left 'uncertain' by a killed run back to "
                   "pending (only after the mail server's log shows they never arrived).")
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="If another run holds the lock, wait up to this long.")
def send(project: Path, now: str | None, as_json: bool, resend: str | None, wait: float) -> None:
    """Send pending digest copies over the server in MASTHEAD_SMTP_URL.

    Each (digest, address) goes once: copies sent by earlier runs are skipped.
    Exit code 4 when some copy could not be sent.

    Example: MASTHEAD_SMTP_URL=smtp://127.0.0.1:8025 masthead send
    """
    from ..send.delivery import deliver
    from ..state.db import open_store
    from ..state.lock import publication_lock
    from ..state.sends import resend_uncertain

    pub = publication(project)
    moment = parse_now(now)
    env = environment()
    smtp = smtp_for(pub, env)
    with publication_lock(pub.state_dir, moment, wait=wait), open_store(pub.state_dir) as store:
        if resend:
            count = resend_uncertain(store, resend, now=moment)
            click.echo(f"{count} uncertain copies of {resend} will be sent again", err=True)
        reports = deliver(pub, store, [], now=moment, smtp=smtp, secret=secret_for(pub, env))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    for line in summary(reports):
        click.echo(line, err=True)
    if smtp is None and any(r.pending for r in reports):
        raise DeliveryError("not sent: no SMTP server configured",
                            hint="set MASTHEAD_SMTP_URL, e.g. smtp://user:password@mail.example.org:587")
    stuck = [r for r in reports if r.failed or r.pending]
    if stuck:
        raise DeliveryError(f"{len(stuck)} digest(s) not fully delivered",
                            hint=stuck[0].not_sent or "see the failures above; pending copies go on the next run")


def summary(reports: tuple[DigestDelivery, ...]) -> list[str]:
    """One line per digest, then one per failed copy."""
    if not reports:
        return ["nothing to send"]
    lines = []
    for r in reports:
        parts = [f"{r.sent} sent", f"{r.already_sent} already sent"]
        parts += [f"{n} {label}" for n, label in ((len(r.failed), "failed"), (r.pending, "pending"),
                                                  (r.uncertain, "uncertain"), (r.cancelled, "cancelled")) if n]
        lines.append(f"{r.digest_id}: {r.recipients} recipients: {', '.join(parts)}")
        if r.not_sent and r.pending:
            lines.append(f"  not sent: {r.not_sent}")
        lines.extend(f"  failed {f.email}: {f.reply}" for f in r.failed)
    return lines
