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
from dataclasses import dataclass
from datetime import datetime

from ..config import Publication
from ..records import Digest
from ..state import sends
from ..state.db import Store, unstamp
from .claims import Claims
from .delivery import (
    Builder,
    DigestDelivery,
    RetryPolicy,
    Sender,
    Stop,
    Unsendable,
    report,
    start_sender,
)
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
    run = start_sender(pub, store, now=now or claims.wall(), smtp=smtp, secret=secret, sleep=sleep,
                       clock=clock, retry=retry or RetryPolicy(), build=build, claims=claims)
    seen: dict[str, Digest] = {}
    before: dict[str, dict[str, int]] = {}
    unsendable: dict[str, str] = {}
    stopped: str | None = None
    try:
        while not stop():
            run.now = now or claims.wall().replace(microsecond=0)
            if _one_pass(run, store, seen, before, unsendable, forever=forever, stop=stop):
                continue
            lapse = _first_lapse(store, claims)
            if lapse is None and not forever:
                break
            run.connection.close()      # idle: servers drop idle sessions anyway
            wait = poll if lapse is None else min(poll, max(0.5, (lapse - claims.wall()).total_seconds() + 1))
            _nap(wait, sleep, clock, stop)
    except Stop as exc:
        stopped = str(exc)
    finally:
        run.flush()
        run.connection.close()
    deliveries = tuple(report(store, seen[i], before[i], run, claims, not_sent=unsendable.get(i, stopped))
                       for i in seen)
    return WorkerReport(claims.worker, deliveries, stopped, run.taken)


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


def _first_lapse(store: Store, claims: Claims) -> datetime | None:
    """When the first claim another sender holds on a pending copy runs out, or None: nothing to wait for."""
    lapses = [value for digest_id in sends.pending_digest_ids(store)
              if (value := sends.held_elsewhere(store, digest_id, claims.worker, now=claims.wall()))]
    return unstamp(min(lapses)) if lapses else None


def _nap(seconds: float, sleep: Callable[[float], None], clock: Callable[[], float],
         stop: Callable[[], bool]) -> None:
    """Sleep ``seconds``, waking early when told to stop."""
    end = clock() + seconds
    while not stop() and (left := end - clock()) > 0:
        sleep(min(left, 0.5))
