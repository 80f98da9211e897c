"""Send digests to their subscribers, each (digest, address) exactly once.

Every send is a row in the ``sends`` table and moves through these states:

    pending --(server said 354, body sent; committed BEFORE the final ".")--> sending
    sending --(250)--> sent    --(5xx)--> failed    --(4xx, or the server hung up)--> pending
    pending --(the address unsubscribed, bounced or left the feed meanwhile)--> cancelled

Why 'sending' is written exactly there: until the final ``.`` of DATA the
server cannot have accepted the message (RFC 5321 4.1.1.4), so a job killed
before that point left nothing behind and the row, still 'pending', is sent
again on the next run. A row found in 'sending' means the job died after the
dot left and before the answer was recorded: one round trip plus one SQLite
write. The server was healthy a moment before and had the whole message, so
it has almost certainly queued it; such rows are treated as delivered
("uncertain" in the report) and never sent again. We choose a possible lost
copy over a probable duplicate, because a duplicate cannot be taken back and
the state cannot tell the cases apart. Only an explicit ``resend_uncertain``
(after checking the server's log) puts them back to 'pending'. To save a
commit per copy, 'sent' is written in the same commit as the next copy's
'sending' mark, so after a kill the last accepted copy is "uncertain" too.

Exactly once holds even without the publication's lock (a deleted lock file,
two machines): every change of state is a compare-and-set on the old state,
and the switch to 'sending' is the claim. Of two senders racing on one copy,
the one whose pending -> sending update changed no row lost: it abandons the
message before its final dot by closing the connection (inside DATA nothing
else can take a message back: RSET there would be message text), so the
server drops the half-sent copy, and it moves on to the next copy.

The live case is different: when *the server* hangs up while we wait for its
answer, it most likely dropped the message with the connection, so the copy
is retried like any temporary failure (see smtpclient.Connection.transmit).

Recipients are fixed once per digest (``send_plans``): whoever is an active
subscriber of the feed when the digest is first planned. Someone who
subscribes later gets the next digest, not old ones.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..config import Publication
from ..errors import ConfigError
from ..records import Digest, Recipient
from ..state import feedback, roster, sends
from ..state.db import Store
from ..tokens import load_secret, make_token, return_token, unsubscribe_url, verp_address
from .message import HeaderValueError, build_message
from .plan import plan, planned_digest
from .smtp import ConnectFailed, Connection, Outcome, SmtpSettings

_ENHANCED = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
BOUNCE_CODES = (550, 551, 553)   # mailbox unknown / moved / bad name, said at RCPT: suppress
Builder = Callable[..., EmailMessage]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one message in one run before leaving it for the next run."""

    attempts: int = 4             # tries per message (and per connection attempt)
    first_delay: float = 2.0      # seconds before the second try; doubles each time
    max_delay: float = 60.0
    give_up_after: int = 3        # consecutive messages that exhaust their tries stop the run

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** attempt)


@dataclass(frozen=True, slots=True)
class Failure:
    email: str
    reply: str                    # the server's answer, or why it was refused before SMTP


@dataclass(frozen=True, slots=True)
class DigestDelivery:
    """What happened to one digest in this run: what ``masthead run --json`` shows."""

    digest_id: str
    feed: str
    recipients: int               # fixed when the digest was first planned
    sent: int                     # delivered by this run
    already_sent: int             # delivered by earlier runs: skipped
    failed: tuple[Failure, ...]   # refused for good in this run (5xx, or a bad header value)
    pending: int                  # still to send (temporary failures, or not attempted)
    uncertain: int                # left 'sending' by a killed run: presumed delivered
    cancelled: int                # unsubscribed or bounced before their copy went
    not_sent: str | None = None   # why nothing more could be sent in this run
    bounced: int = 0              # recipients whose copy bounced so far (at sending, by mail or webhook)
    complained: int = 0           # recipients who marked it as spam so far
    unsubscribed: int = 0         # recipients who left after it arrived

    def to_dict(self) -> dict[str, object]:
        return {"digest": self.digest_id, "feed": self.feed, "recipients": self.recipients,
                "sent": self.sent, "already_sent": self.already_sent,
                "failed": [{"email": f.email, "reply": f.reply} for f in self.failed],
                "pending": self.pending, "uncertain": self.uncertain,
                "cancelled": self.cancelled, "not_sent": self.not_sent, "bounced": self.bounced,
                "complained": self.complained, "unsubscribed": self.unsubscribed}


class _Stop(Exception):
    """The server cannot take more mail in this run; the rest stays pending."""


class _Unsendable(Exception):
    """This digest cannot make a valid message for anyone (e.g. its subject); its copies wait."""


@dataclass
class _Run:
    pub: Publication
    store: Store
    now: datetime
    secret: bytes
    connection: Connection
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    retry: RetryPolicy
    build: Builder
    interval: float                               # seconds between messages (rate limit)
    last_start: float | None = None
    exhausted_in_a_row: int = 0
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    unsaved: list[sends.Change] = field(default_factory=list)
    claimed: bool = False                         # this run won the current copy's switch to 'sending'

    def record(self, digest_id: str, email: str, status: str, reply: str, *,
               attempt: bool = False, lazy: bool = False) -> None:
        """Write a copy's new state; ``lazy`` ones ride along with the next commit.

        The change applies only if the row is still as this run left it:
        'sending' once this run claimed the copy, 'pending' before.
        Only 'sent' is written lazily: until it is, the row says 'sending',
        which a later run also treats as delivered. That saves one fsync per
        copy. Everything else (a deferral above all) is written at once.
        """
        was = "sending" if self.claimed else "pending"
        self.unsaved.append(sends.Change(status, reply, self.now, attempt, digest_id, email, was))
        if not lazy:
            self.flush()

    def flush(self) -> None:
        if self.unsaved:
            with self.store.transaction():
                self._write_unsaved()

    def _write_unsaved(self) -> None:
        sends.update(self.store, self.unsaved)
        self.unsaved.clear()

    def mark_sending(self, digest_id: str, email: str, message_id: str, token: str) -> bool:
        """Claim the copy and commit that its final dot is about to go (one write, no fsync: see db.py).

        False when another sender switched it from 'pending' first: the caller
        must then not send the dot. The commit is visible to any later process
        as soon as it returns, and the dot follows within microseconds: that
        gap is the only moment a kill can lose a copy (kept 'sending', presumed
        delivered).
        """
        with self.store.transaction():
            self._write_unsaved()
            self.claimed = sends.mark_sending(self.store, digest_id, email, message_id, now=self.now)
            if self.claimed:
                feedback.remember_return(self.store, token, digest_id, email)
        return self.claimed

    def connect(self) -> None:
        for attempt in range(self.retry.attempts):
            try:
                self.connection.open()
                return
            except ConnectFailed as exc:
                if exc.permanent or attempt + 1 == self.retry.attempts:
                    raise _Stop(exc.reason) from None
                self.sleep(self.retry.delay(attempt))

    def pace(self) -> None:
        if self.interval and self.last_start is not None:
            wait = self.last_start + self.interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self.last_start = self.clock()

    def send_one(self, digest: Digest, email: str, name: str | None) -> None:
        token = make_token(self.secret, email, digest.feed)   # the stored address; leaves this feed
        if not email.isascii() and not self.connection.alive:
            self.connect()                            # whether the server speaks SMTPUTF8 decides
        rcpt, utf8 = wire_address(email, smtputf8=self.connection.smtputf8)
        if rcpt is None:
            self.fail(digest.id, email, "the server does not accept non-ASCII addresses (SMTPUTF8)")
            return
        recipient = Recipient(email=rcpt, name=name,
                              unsubscribe_url=unsubscribe_url(self.pub.site.email.unsubscribe_url, token))
        try:
            msg = self.build(self.pub, digest, recipient, date=self.now)
            data = wire_bytes(msg, utf8=utf8)
        except ConfigError as exc:                       # e.g. its feed was removed since
            raise _Unsendable(str(exc)) from None
        except (HeaderValueError, ValueError, UnicodeError) as exc:
            if isinstance(exc, HeaderValueError) and not (exc.where or "").startswith("recipient"):
                raise _Unsendable(str(exc)) from None    # the subject or sender: nobody's copy
            # This reader's name or address cannot go in a header safely: the copy is
            # refused and the address suppressed, so it is reported once, not every run.
            reason = exc.message if isinstance(exc, HeaderValueError) else str(exc)
            self.fail(digest.id, email, f"refused before SMTP: {reason}; the address is suppressed "
                                        "until it is added again with a plain name (--resubscribe)")
            roster.set_status(self.store, email, "refused", now=self.now, only_if="active")
            return
        message_id = str(msg["Message-ID"] or "")
        # VERP: a bounce comes back to an address that names this copy, whatever it quotes
        token = return_token(self.secret, digest.id, email)
        sender = verp_address(self.pub.site.email.return_path, token)
        for attempt in range(self.retry.attempts):
            if not self.connection.alive:
                self.connect()
            self.pace()
            self.claimed = False
            outcome = self.connection.transmit(
                sender, rcpt, data, lambda: self.mark_sending(digest.id, email, message_id, token),
                utf8=utf8)
            if outcome.kind == "taken":          # another sender has this copy: it is theirs
                self.claimed = False
                return
            if outcome.kind != "deferred":
                self.exhausted_in_a_row = 0
                self.settle(digest.id, email, outcome)
                self.claimed = False
                return
            self.record(digest.id, email, "pending", outcome.reply, attempt=True)
            self.claimed = False
            if attempt + 1 < self.retry.attempts:
                self.sleep(self.retry.delay(attempt))
        self.exhausted_in_a_row += 1
        if self.exhausted_in_a_row >= self.retry.give_up_after:
            raise _Stop(f"the server keeps deferring mail: {outcome.reply}")

    def settle(self, digest_id: str, email: str, outcome: Outcome) -> None:
        if outcome.kind == "accepted":
            self.record(digest_id, email, "sent", outcome.reply, attempt=True, lazy=True)
        else:
            self.fail(digest_id, email, outcome.reply, attempt=True)
            if outcome.stage == "RCPT" and outcome.code in BOUNCE_CODES:
                with self.store.transaction():
                    feedback.record_event(self.store, feedback.MailEvent(
                        key=f"smtp:{digest_id}:{email}", email=email, digest_id=digest_id, kind="hard",
                        status=enhanced_status(outcome.reply), detail=outcome.reply, source="smtp",
                        received=self.now))
                    roster.set_status(self.store, email, "bounced", now=self.now, only_if="active",
                                      reason=f"refused while sending {digest_id}: {outcome.reply}")

    def fail(self, digest_id: str, email: str, reply: str, *, attempt: bool = False) -> None:
        self.record(digest_id, email, "failed", reply, attempt=attempt)
        self.failures.setdefault(digest_id, []).append(Failure(email, reply))

    def send_digest(self, digest: Digest) -> None:
        for email in sends.pending(self.store, digest.id):
            if not sends.still_pending(self.store, digest.id, email):
                continue                 # another sender (no lock between us) got there first
            standing = roster.standing(self.store, email, digest.feed)  # fresh: an unsubscribe may land mid-run
            reason = why_not(standing, digest.feed)
            if reason is not None:
                self.record(digest.id, email, "cancelled", reason)
                continue
            assert standing is not None
            self.send_one(digest, email, standing.name)


def enhanced_status(reply: str) -> str | None:
    """The RFC 3463 code in a server's reply (``550 5.1.1 ...`` -> ``5.1.1``), or None."""
    match = _ENHANCED.search(reply)
    return match.group(0) if match else None


def why_not(standing: roster.Standing | None, feed: str) -> str | None:
    """Why a copy must not go now (unsubscribed, bounced, left the feed), or None."""
    if standing is None:
        return "not sent: the address is no longer a subscriber"
    if standing.status != "active":
        return f"not sent: the address {standing.status}"    # unsubscribed, bounced, complained
    return None if standing.follows else f"not sent: the address left {feed}"


def wire_bytes(msg: EmailMessage, *, utf8: bool = False) -> bytes:
    """The message as it goes over SMTP: CRLF, and no URL hidden in an encoded word.

    Python folds an ASCII word longer than a line (List-Unsubscribe's https
    URL with its token) into RFC 2047 encoded words, which mail providers do
    not decode in that header: one-click unsubscribe would silently break.
    Such headers are folded at their list commas instead and kept as they are.
    """
    wire = (policy.SMTPUTF8 if utf8 else policy.SMTP).clone(refold_source="none")
    for name in dict.fromkeys(msg.keys()):
        values = msg.get_all(name) or []
        if not any(_hides_ascii(wire, name, v) for v in values):
            continue
        del msg[name]
        for value in values:
            msg.set_raw(name, ",\n ".join(str(value).split(", ")))
    return msg.as_bytes(policy=wire)


def _hides_ascii(wire: policy.Policy, name: str, value: Any) -> bool:
    text = str(value)
    if not text.isascii() or "=?" in text:
        return False
    longest = max((len(word) for word in text.split()), default=0)
    return longest + len(name) + 2 > (wire.max_line_length or 78) and "=?" in wire.fold(name, value)


def wire_address(email: str, *, smtputf8: bool) -> tuple[str | None, bool]:
    """The address for RCPT TO and the To header, and whether the message needs SMTPUTF8.

    Unicode as it is when the server speaks SMTPUTF8; otherwise an ASCII local
    part with its domain in punycode (``x@xn--bcher-kva.de``); None when
    neither works (a non-ASCII local part and a server without SMTPUTF8).
    """
    if email.isascii():
        return email, False
    if smtputf8:
        return email, True
    try:
        return validate_email(email, check_deliverability=False).ascii_email, False
    except EmailNotValidError:
        return None, False


def deliver(pub: Publication, store: Store, digests: Sequence[Digest], *, now: datetime,
            smtp: SmtpSettings | None, secret: bytes | None = None,
            sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
            retry: RetryPolicy = RetryPolicy(), build: Builder = build_message,
            ) -> tuple[DigestDelivery, ...]:
    """Plan ``digests``, then send every pending copy of every digest over one SMTP connection.

    Pending copies of digests planned by earlier runs go too (their content as
    planned). Returns one DigestDelivery per digest that was newly planned or
    still had pending copies; a digest finished by earlier runs is left out.
    With ``smtp`` None nothing is sent and each report says why.
    """
    new_ids = [digest.id for digest in digests if plan(store, digest, now=now)]
    pending = sends.pending_digest_ids(store)
    ids = pending + [i for i in new_ids if i not in pending]     # oldest plan first
    considered = [d for d in (planned_digest(store, i) for i in ids) if d is not None]
    return _send_all(pub, store, considered, now=now, smtp=smtp, secret=secret,
                     sleep=sleep, clock=clock, retry=retry, build=build)


def _send_all(pub: Publication, store: Store, considered: list[Digest], *, now: datetime,
              smtp: SmtpSettings | None, secret: bytes | None, sleep: Callable[[float], None],
              clock: Callable[[], float], retry: RetryPolicy, build: Builder,
              ) -> tuple[DigestDelivery, ...]:
    before = {d.id: sends.status_counts(store, d.id) for d in considered}
    stopped: str | None = None if smtp else "no SMTP server configured (MASTHEAD_SMTP_URL is unset)"
    run = None
    unsendable: dict[str, str] = {}
    if smtp and any(before[d.id].get("pending") for d in considered):
        rate = pub.site.email.rate_per_minute
        run = _Run(pub=pub, store=store, now=now, secret=secret or load_secret(pub.state_dir),
                   connection=Connection(smtp, local_hostname=pub.site.host), sleep=sleep,
                   clock=clock, retry=retry, build=build, interval=60.0 / rate if rate else 0.0)
        try:
            for digest in considered:
                try:
                    run.send_digest(digest)
                except _Unsendable as exc:
                    unsendable[digest.id] = str(exc)
        except _Stop as exc:
            stopped = str(exc)
        finally:
            run.flush()
            run.connection.close()
    reports = []
    numbers = {n.digest_id: n for n in feedback.digest_numbers(store, [d.id for d in considered])}
    for digest in considered:
        after = sends.status_counts(store, digest.id)
        came_back = numbers.get(digest.id)
        reports.append(DigestDelivery(
            digest_id=digest.id, feed=digest.feed, recipients=sum(after.values()),
            sent=after.get("sent", 0) - before[digest.id].get("sent", 0),
            already_sent=before[digest.id].get("sent", 0),
            failed=tuple(run.failures.get(digest.id, ())) if run else (),
            pending=after.get("pending", 0), uncertain=after.get("sending", 0),
            cancelled=after.get("cancelled", 0),
            not_sent=unsendable.get(digest.id, stopped) if after.get("pending") else None,
            bounced=came_back.bounced if came_back else 0, complained=came_back.complained if came_back else 0,
            unsubscribed=came_back.unsubscribed if came_back else 0))
    return tuple(reports)
