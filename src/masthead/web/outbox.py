"""The thread that mails queued sign-up confirmations, so no request ever waits on SMTP.

One per process, started with the first sign-up it takes. It wakes when a
request queues a mail (and every ``POLL`` seconds, for mails other processes
queued or deferred), and sends what is due through subscribers.outbox. It
also remembers whether the mail server speaks SMTPUTF8, which decides whether
an address with a non-ASCII local part can be signed up at all.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime

from ..config import Publication, SmtpSettings
from ..errors import MastheadError
from ..send.smtp import ConnectFailed
from ..state.db import open_store
from ..subscribers.outbox import probe, send_queued

POLL = 5.0


class Outbox:
    """The sending thread of one process; shared by every request thread of that process."""

    def __init__(self, pub: Publication, secret: bytes, smtp: SmtpSettings, clock: Callable[[], datetime],
                 database: str | None = None):
        self.pub, self.secret, self.smtp, self.clock, self.database = pub, secret, smtp, clock, database
        self.wake = threading.Event()
        self.known = threading.Event()          # set once the server's SMTPUTF8 answer is known
        self.asked = threading.Event()          # a request waits to know it: ask the server now
        self.smtputf8 = False
        self.idle = threading.Event()           # set whenever the queue was last seen empty
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def start(self) -> None:
        """Start the thread if this process has none yet (a forked worker gets its own)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="masthead-outbox", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End the thread after what it is sending now (queued mails wait for the next start)."""
        self.stopped.set()
        self.wake.set()

    def nudge(self) -> None:
        """A mail was queued: send it now."""
        self.idle.clear()
        self.start()
        self.wake.set()

    def speaks_smtputf8(self, wait: float) -> bool | None:
        """Whether the server takes non-ASCII local parts; None when it could not be asked within ``wait``."""
        if not self.known.is_set():
            self.asked.set()
            self.start()
            self.wake.set()
        return self.smtputf8 if self.known.wait(wait) else None

    def _learned(self, smtputf8: bool) -> None:
        self.smtputf8 = smtputf8
        self.known.set()

    def _run(self) -> None:
        while not self.stopped.is_set():
            if self.asked.is_set() and not self.known.is_set():
                self.asked.clear()
                try:
                    self._learned(probe(self.pub, self.smtp))
                except ConnectFailed as exc:
                    sys.stderr.write(f"masthead: cannot ask the mail server about SMTPUTF8: {exc}\n")
            self.wake.clear()
            try:
                with open_store(self.pub.state_dir, self.database) as store:
                    send_queued(self.pub, store, self.secret, self.smtp, now=self.clock(), learned=self._learned)
                self.idle.set()
            except (ConnectFailed, MastheadError) as exc:
                sys.stderr.write(f"masthead: sign-up confirmations wait: {exc}\n")
            except Exception:                       # a bug: say so, and keep the thread alive
                sys.stderr.write("masthead: the confirmation sender failed:\n" + traceback.format_exc())
            self.wake.wait(POLL)
