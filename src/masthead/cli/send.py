"""``masthead send``: send whatever digest copies are still pending; ``--worker``: one of many senders."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import DeliveryError
from .common import (
    environment,
    now_option,
    parse_now,
    project_option,
    publication,
    secret_for,
    smtp_for,
    store_for,
)

if TYPE_CHECKING:
    from ..send.delivery import DigestDelivery
    from ..send.worker import WorkerReport
    from ..state.db import Store


@click.command()
@project_option
@now_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--resend-uncertain", "resend", metavar="DIGEST_ID", default=None,
              help="First put copies of this digest left 'uncertain' by a killed run back to "
                   "pending (only after the mail server's log shows they never arrived).")
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="If another run holds the lock, wait up to this long.")
@click.option("--worker", is_flag=True,
              help="Be one of many senders (on this machine or others): no lock; claim batches of copies "
                   "and exit when none is left.")
@click.option("--batch", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --worker: copies claimed at a time (default 100).")
@click.option("--forever", is_flag=True, help="With --worker: keep looking for new digests instead of exiting.")
def send(project: Path, now: str | None, as_json: bool, resend: str | None, wait: float, worker: bool,
         batch: int | None, forever: bool) -> None:
    """Send pending digest copies over the server in MASTHEAD_SMTP_URL.

    Each (digest, address) goes once: copies sent by earlier runs are skipped.
    With --worker, any number of senders share the work (claims with a lease,
    [email] claim_lease in site.toml); SIGTERM lets a worker finish the copy
    at hand and stop. Exit code 4 when some copy could not be sent.

    Example: MASTHEAD_SMTP_URL=smtp://127.0.0.1:8025 masthead send --worker --batch 200
    """
    from ..send.claims import RUN, Claims
    from ..send.delivery import deliver
    from ..send.worker import work
    from ..state.lock import publication_lock

    if (batch is not None or forever) and not worker:
        raise click.UsageError("--batch and --forever go with --worker")
    pub = publication(project)
    moment = parse_now(now)
    env = environment()
    smtp = smtp_for(pub, env)
    if worker and smtp is None:
        raise DeliveryError("a send worker needs a mail server",
                            hint="set MASTHEAD_SMTP_URL, e.g. smtp://user:password@mail.example.org:587")
    secret = secret_for(pub, env)
    with store_for(pub, env) as store:
        if worker:
            assert smtp is not None
            _resend(store, resend, moment)
            claims = Claims.of_worker(batch=batch or 100, lease=pub.site.email.claim_lease)
            outcome, interrupted = _as_worker(lambda stop: work(
                pub, store, smtp=smtp, now=moment if now else None, secret=secret, claims=claims,
                forever=forever, stop=stop))
            reports = outcome.deliveries
        else:
            interrupted = False
            with publication_lock(pub.state_dir, moment, wait=wait, store=store):
                _resend(store, resend, moment, dead=RUN)
                reports = deliver(pub, store, [], now=moment, smtp=smtp, secret=secret)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    for line in summary(reports):
        click.echo(line, err=True)
    if smtp is None and any(r.pending for r in reports):
        raise DeliveryError("not sent: no SMTP server configured",
                            hint="set MASTHEAD_SMTP_URL, e.g. smtp://user:password@mail.example.org:587")
    stuck = [r for r in reports if r.failed or (r.pending and not interrupted)]
    if stuck:
        raise DeliveryError(f"{len(stuck)} digest(s) not fully delivered",
                            hint=stuck[0].not_sent or "see the failures above; pending copies go on the next run")


def _resend(store: Store, digest_id: str | None, moment: datetime, *, dead: str | None = None) -> None:
    """--resend-uncertain: copies left 'sending' by a dead sender go back to pending (under the lock,
    every earlier run is dead: ``dead`` names them)."""
    from ..state.sends import drop_claims, resend_uncertain

    if digest_id:
        if dead:
            drop_claims(store, digest_id, dead)
        count = resend_uncertain(store, digest_id, now=moment, wall=datetime.now(UTC))
        click.echo(f"{count} uncertain copies of {digest_id} will be sent again", err=True)


def _as_worker(job: Callable[[Callable[[], bool]], WorkerReport]) -> tuple[WorkerReport, bool]:
    """Run ``job(stop)`` with SIGTERM and SIGINT turned into a request to stop after the copy at hand;
    the report, and whether it was asked to stop."""
    asked: list[int] = []

    def ask(signum: int, _frame: object) -> None:
        asked.append(signum)

    previous = {s: signal.signal(s, ask) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        result = job(lambda: bool(asked))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if asked:
        click.echo("stopped on request; unsent copies are free for other workers", err=True)
    return result, bool(asked)


def summary(reports: tuple[DigestDelivery, ...]) -> list[str]:
    """One line per digest, then one per failed copy."""
    if not reports:
        return ["nothing to send"]
    lines = []
    for r in reports:
        parts = [f"{r.sent} sent", f"{r.already_sent} already sent"]
        parts += [f"{n} {label}" for n, label in ((len(r.failed), "failed"), (r.pending, "pending"),
                                                  (r.in_flight, "with other senders"),
                                                  (r.uncertain, "uncertain"), (r.cancelled, "cancelled")) if n]
        lines.append(f"{r.digest_id}: {r.recipients} recipients: {', '.join(parts)}")
        if r.not_sent and r.pending:
            lines.append(f"  not sent: {r.not_sent}")
        lines.extend(f"  failed {f.email}: {f.reply}" for f in r.failed)
    return lines
