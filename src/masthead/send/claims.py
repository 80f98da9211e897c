"""How a sender takes copies to send: its name, its batches, its lease (state/sends.py keeps the claims).

Senders that hold the publication's lock (``masthead run``, ``masthead send``)
are named ``run:...``; send workers ``worker:...``. A sender holding the lock
knows every other ``run:`` sender is dead, and drops their claims when it
starts (delivery.py); a worker waits for a claim's lease to run out.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ..state import sends
from ..state.db import Store


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sender_name() -> str:
    """A name no other sender has, shown in the state as the holder of its claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


RUN = "run:"           # the names of senders that hold the publication's lock (masthead run, masthead send)
WORKER = "worker:"     # the names of send workers


@dataclass(frozen=True, slots=True)
class Claims:
    """How a sender takes copies: its name, batches of ``batch``, each held for ``lease`` seconds."""

    worker: str = field(default_factory=lambda: RUN + sender_name())
    batch: int = 100
    lease: float = 60.0
    wall: Callable[[], datetime] = _utc_now     # the real time (not --now): leases span machines

    @classmethod
    def of_worker(cls, *, batch: int = 100, lease: float = 60.0) -> Claims:
        """A send worker's claims."""
        return cls(worker=WORKER + sender_name(), batch=batch, lease=lease)

    def lane(self, number: int, lanes: int) -> Claims:
        """The claims of one of ``lanes`` connections of this sender: its own name, a share of the batch.

        Lanes claim separately, in small batches, so that a digest of a few
        hundred copies still spreads evenly over every connection.
        """
        batch = max(5, self.batch // (2 * lanes)) if lanes > 1 else self.batch
        return replace(self, worker=f"{self.worker}.{number}" if number else self.worker, batch=batch)

    def until(self) -> datetime:
        return self.wall() + timedelta(seconds=self.lease)

    def counts(self, store: Store, digest_id: str) -> dict[str, int]:
        """The digest's copies per state, those other live senders hold as 'in_flight'."""
        return sends.status_counts(store, digest_id, wall=self.wall())
