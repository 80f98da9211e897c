"""Send workers (``masthead send --worker``): any number at once, on one machine or many.

A worker takes batches of pending copies of every planned digest, oldest
plan first (claims: state/sends.py), sends them, and keeps going until no
copy is left that it could take. Copies other workers hold are waited for:
their holder sends them, or, if it died, they are free again once its lease
runs out and this worker takes them over. With ``forever`` it keeps looking
for new digests (``masthead run --no-send`` plans them) instead of exiting.
Exactly once holds across workers as it does for one sender (delivery.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..config import Publication
from ..records import Digest
from ..state import sends
from ..state.db import Store, unstamp
from ..tokens import load_secret
from .claims import Claims
from .copies import Stencils
from .delivery import (
    Builder,
    DigestDelivery,
    RetryPolicy,
    Sender,
    Unsendable,
    pacer_for,
    report,
    start_sender,
)
from .lanes import run_lanes
from .message import build_message
from .plan import planned_digest
from .smtp import SmtpSettings

POLL = 5.0            # seconds between looks for work when there is none (and between waits for others)
RETRY_LATER = 900.0   # a forever worker tries a copy the server kept deferring again after this long


@dataclass(frozen=True, slots=True)
class WorkerReport:
    """What one worker did: per digest it touched, its part and where the digest stands now."""

    worker: str
    deliveries: tuple[DigestDelivery, ...]
    stopped: str | None = None          # why it stopped before the work was done (the server)
    taken_over: int = 0                 # copies another worker had by the time of their dot


def work(pub: Publication, store: Store, *, smtp: SmtpSettings, now: datetime | None = None,
         secret: bytes | None = None, claims: Claims | None = None, forever: bool = False,
         poll: float = POLL, stop: Callable[[], bool] = lambda: False,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
         retry: RetryPolicy | None = None, build: Builder = build_message) -> WorkerReport:
    """Send pending copies until none is left to take (``forever``: until ``stop()``).

    ``now`` fixes the messages' Date and the state's moments (tests); None
    takes the real time at each pass. ``stop`` is asked between copies: a
    worker told to stop finishes the copy at hand and gives back its claims.
    """
    claims = claims or Claims.of_worker(lease=pub.site.email.claim_lease)
    pacer, lanes = pacer_for(pub, sleep, clock), pub.site.email.connections
    secret = secret or load_secret(pub.state_dir)           # once: the first use may create it
    stencils = Stencils()
    shifts = run_lanes(store, lanes, lambda own, n, abort: _shift(
        start_sender(pub, own, now=now or claims.wall(), smtp=smtp, secret=secret, sleep=sleep, clock=clock,
                     retry=retry or RetryPolicy(), build=build, claims=claims.lane(n, lanes), pacer=pacer,
                     stencils=stencils),
        crew=claims.worker, now=now, forever=forever, poll=poll, stop=lambda: stop() or abort.is_set()))
    runs = [shift.run for shift in shifts]
    seen: dict[str, Digest] = {}
    before: dict[str, dict[str, int]] = {}
    for shift in shifts:            # as the digest stood when the first lane looked at it
        for digest_id, counts in shift.before.items():
            if digest_id not in before or counts.get("sent", 0) < before[digest_id].get("sent", 0):
                seen[digest_id], before[digest_id] = shift.seen[digest_id], counts
    stopped = next((run.stopped for run in runs if run.stopped), None)
    unsendable = {k: v for run in runs for k, v in run.unsendable.items()}
    deliveries = tuple(report(store, seen[i], before[i], runs, claims, not_sent=unsendable.get(i, stopped))
                       for i in seen)
    return WorkerReport(claims.worker, deliveries, stopped, sum(run.taken for run in runs))


@dataclass
class _Shift:
    """What one lane of a worker did, and the digests it saw (with their counts when it first looked)."""

    run: Sender
    seen: dict[str, Digest] = field(default_factory=dict)
    before: dict[str, dict[str, int]] = field(default_factory=dict)


def _shift(run: Sender, *, crew: str, now: datetime | None, forever: bool, poll: float,
           stop: Callable[[], bool]) -> _Shift:
    """One lane's work: passes over every digest until nothing is left to take (``forever``: until stopped)."""
    shift, store, claims = _Shift(run), run.store, run.claims
    with run.until_stopped():
        while not stop():
            run.now = now or claims.wall().replace(microsecond=0)
            if _one_pass(run, store, shift.seen, shift.before, run.unsendable, forever=forever, stop=stop):
                continue
            lapse = _first_lapse(store, claims, crew)
            if lapse is None and not forever:
                break
            run.connection.close()      # idle: servers drop idle sessions anyway
            wait = poll if lapse is None else min(poll, max(0.5, (lapse - claims.wall()).total_seconds() + 1))
            _nap(wait, run.sleep, run.clock, stop)
    return shift


def _one_pass(run: Sender, store: Store, seen: dict[str, Digest], before: dict[str, dict[str, int]],
              unsendable: dict[str, str], *, forever: bool, stop: Callable[[], bool]) -> bool:
    """Every digest with pending copies, once; whether any copy was taken."""
    progressed = False
    for digest_id in sends.pending_digest_ids(store):
        if digest_id in unsendable or stop():
            continue
        digest = seen.get(digest_id) or planned_digest(store, digest_id)
        if digest is None:
            continue
        if digest_id not in seen:
            seen[digest_id] = digest
            before[digest_id] = run.claims.counts(store, digest_id)
        try:
            progressed |= run.send_digest(digest, retry_after=RETRY_LATER if forever else None, stop=stop)
        except Unsendable as exc:
            unsendable[digest_id] = str(exc)
    return progressed


def _first_lapse(store: Store, claims: Claims, crew: str) -> datetime | None:
    """When the first claim another sender (not a lane of ``crew``) holds on a pending copy runs out, or None."""
    lapses = [value for digest_id in sends.pending_digest_ids(store)
              if (value := sends.held_elsewhere(store, digest_id, crew, now=claims.wall()))]
    return unstamp(min(lapses)) if lapses else None


def _nap(seconds: float, sleep: Callable[[float], None], clock: Callable[[], float],
         stop: Callable[[], bool]) -> None:
    """Sleep ``seconds``, waking early when told to stop."""
    end = clock() + seconds
    while not stop() and (left := end - clock()) > 0:
        sleep(min(left, 0.5))
