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
is retried like any temporary failure (see smtp.Connection.transmit).

Any number of senders may work at once (``masthead send --worker`` on many
machines, beside a run): each claims batches of pending copies for a lease
(state/sends.py), and every change it makes, the 'sending' mark above all, is
a compare-and-set on the copy's status and on its own claim. A sender that
finds at its dot that the copy is no longer its own hangs up instead of
sending the dot, so the server discards that message. A sender killed at any
moment leaves at most one copy 'sending' (uncertain) per SMTP connection
(``[email] connections``, one by default) and its other claimed copies free
once the lease runs out.

Recipients are fixed once per digest (``send_plans``): whoever is an active
subscriber of the feed when the digest is first planned. Someone who
subscribes later gets the next digest, not old ones.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from ..config import Publication
from ..errors import ConfigError
from ..records import Digest, Recipient
from ..state import feedback, roster, sends
from ..state.db import Store
from ..tokens import load_secret, make_token, return_token, unsubscribe_url, verp_address
from .claims import RUN, Claims
from .copies import Stencils
from .lanes import Pacer, run_lanes
from .message import HeaderValueError, build_message
from .plan import plan, planned_digest
from .results import DEFAULT_RETRY, DigestDelivery, Failure, RetryPolicy
from .smtp import ConnectFailed, Connection, Outcome, SmtpSettings
from .wire import wire_address, wire_bytes

_ENHANCED = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
BOUNCE_CODES = (550, 551, 553)   # mailbox unknown / moved / bad name, said at RCPT: suppress
Builder = Callable[..., EmailMessage]


class Stop(Exception):
    """The server cannot take more mail in this run; the rest stays pending."""


class Unsendable(Exception):
    """This digest cannot make a valid message for anyone (e.g. its subject); its copies wait."""


@dataclass
class Sender:
    """One sender at work: its SMTP connection, its claims, and what became of each copy it sent."""

    pub: Publication
    store: Store
    now: datetime
    secret: bytes
    connection: Connection
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    retry: RetryPolicy
    build: Builder
    pacer: Pacer                                  # the rate limit, shared by the sender's connections
    claims: Claims = field(default_factory=Claims)
    renewed: float = 0.0                          # clock() when the claims were last extended
    marked: bool = False                          # the current copy's 'sending' mark went in
    exhausted_in_a_row: int = 0
    gave_up: dict[tuple[str, str], float] = field(default_factory=dict)   # deferred all its tries: when
    sent: dict[str, int] = field(default_factory=dict)
    taken: int = 0                                # copies another sender had by the time of the dot
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    unsaved: list[sends.Change] = field(default_factory=list)
    stopped: str | None = None                    # why this sender stopped early (the server)
    unsendable: dict[str, str] = field(default_factory=dict)   # digest id -> why none of it can go
    stencils: Stencils = field(default_factory=Stencils)   # shared by the sender's connections

    def record(self, digest_id: str, email: str, status: str, reply: str, *, was: str,
               attempt: bool = False, lazy: bool = False) -> None:
        """Write a copy's new state (if it is still ``was`` and ours); ``lazy`` ones ride along with the next commit.

        The change applies only if the row is still as this run left it:
        'sending' once this run claimed the copy, 'pending' before.
        Only 'sent' is written lazily: until it is, the row says 'sending',
        which a later run also treats as delivered. That saves one commit per
        copy. Everything else (a deferral above all) is written at once.
        """
        self.unsaved.append(sends.Change(status, reply, self.now, attempt, digest_id, email, was))
        if not lazy:
            self.flush()

    def flush(self) -> None:
        if self.unsaved:
            with self.store.transaction(serial=False):
                self._write_unsaved()

    def _write_unsaved(self) -> None:
        sends.update(self.store, self.unsaved, worker=self.claims.worker)
        self.unsaved.clear()

    def mark_sending(self, digest_id: str, email: str, message_id: str, token: str) -> bool:
        """Claim the copy and commit that its final dot is about to go; False when it is no longer ours.

        The switch to 'sending' is a compare-and-set on the copy's status and
        on this sender's claim: False means another sender has it, and the
        caller must not send the dot. The commit is visible to any later
        process as soon as it returns, and the dot follows within microseconds:
        that gap is the only moment a kill can lose a copy (kept 'sending',
        presumed delivered).
        """
        with self.store.transaction(serial=False):
            self._write_unsaved()
            self.marked = sends.mark_sending(self.store, digest_id, email, message_id,
                                             worker=self.claims.worker, now=self.now)
            if self.marked:
                feedback.remember_return(self.store, token, digest_id, email)
        return self.marked

    def connect(self) -> None:
        for attempt in range(self.retry.attempts):
            try:
                self.connection.open()
                return
            except ConnectFailed as exc:
                if exc.permanent or attempt + 1 == self.retry.attempts:
                    raise Stop(exc.reason) from None
                self.sleep(self.retry.delay(attempt))

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
            data, message_id = self.copy_of(digest, recipient, utf8=utf8)
        except ConfigError as exc:                       # e.g. its feed was removed since
            raise Unsendable(str(exc)) from None
        except (HeaderValueError, ValueError, UnicodeError) as exc:
            if isinstance(exc, HeaderValueError) and not (exc.where or "").startswith("recipient"):
                raise Unsendable(str(exc)) from None    # the subject or sender: nobody's copy
            # This reader's name or address cannot go in a header safely: the copy is
            # refused and the address suppressed, so it is reported once, not every run.
            reason = exc.message if isinstance(exc, HeaderValueError) else str(exc)
            self.fail(digest.id, email, f"refused before SMTP: {reason}; the address is suppressed "
                                        "until it is added again with a plain name (--resubscribe)")
            roster.set_status(self.store, email, "refused", now=self.now, only_if="active")
            return
        # VERP: a bounce comes back to an address that names this copy, whatever it quotes
        token = return_token(self.secret, digest.id, email)
        sender = verp_address(self.pub.site.email.return_path, token)
        for attempt in range(self.retry.attempts):
            if not self.connection.alive:
                self.connect()
            self.pacer.wait()
            self.marked = False
            outcome = self.connection.transmit(
                sender, rcpt, data, lambda: self.mark_sending(digest.id, email, message_id, token),
                utf8=utf8)
            was = "sending" if self.marked else "pending"
            if outcome.kind == "taken":          # another sender has this copy: it is theirs
                self.taken += 1
                return
            if outcome.kind != "deferred":
                self.exhausted_in_a_row = 0
                self.settle(digest.id, email, outcome, was)
                return
            self.record(digest.id, email, "pending", outcome.reply, attempt=True, was=was)
            if attempt + 1 < self.retry.attempts:
                self.sleep(self.retry.delay(attempt))
        self.gave_up[(digest.id, email)] = self.clock()
        self.exhausted_in_a_row += 1
        if self.exhausted_in_a_row >= self.retry.give_up_after:
            raise Stop(f"the server keeps deferring mail: {outcome.reply}")

    def copy_of(self, digest: Digest, recipient: Recipient, *, utf8: bool) -> tuple[bytes, str]:
        """The copy's wire bytes and Message-ID: from the digest's stencil, or from ``build`` when one is given."""
        if self.build is not build_message:
            msg = self.build(self.pub, digest, recipient, date=self.now)
            return wire_bytes(msg, utf8=utf8), str(msg["Message-ID"] or "")
        return self.stencils.get(self.pub, digest, date=self.now, utf8=utf8).copy(recipient)

    def settle(self, digest_id: str, email: str, outcome: Outcome, was: str) -> None:
        if outcome.kind == "accepted":
            self.record(digest_id, email, "sent", outcome.reply, attempt=True, lazy=True, was=was)
            self.sent[digest_id] = self.sent.get(digest_id, 0) + 1
        else:
            self.fail(digest_id, email, outcome.reply, attempt=True, was=was)
            if outcome.stage == "RCPT" and outcome.code in BOUNCE_CODES:
                with self.store.transaction():
                    feedback.record_event(self.store, feedback.MailEvent(
                        key=f"smtp:{digest_id}:{email}", email=email, digest_id=digest_id, kind="hard",
                        status=enhanced_status(outcome.reply), detail=outcome.reply, source="smtp",
                        received=self.now))
                    roster.set_status(self.store, email, "bounced", now=self.now, only_if="active",
                                      reason=f"refused while sending {digest_id}: {outcome.reply}")

    def fail(self, digest_id: str, email: str, reply: str, *, attempt: bool = False, was: str = "pending") -> None:
        self.record(digest_id, email, "failed", reply, attempt=attempt, was=was)
        self.failures.setdefault(digest_id, []).append(Failure(email, reply))

    def keep_claims(self, digest_id: str) -> None:
        """Extend this sender's claims when a third of the lease has gone by."""
        if self.clock() - self.renewed >= self.claims.lease / 3:
            with self.store.transaction(serial=False):
                sends.renew(self.store, digest_id, self.claims.worker, until=self.claims.until())
            self.renewed = self.clock()

    def send_digest(self, digest: Digest, *, retry_after: float | None = None,
                    stop: Callable[[], bool] = lambda: False) -> bool:
        """One pass over the digest's free pending copies, a claimed batch at a time; whether any were claimed.

        Copies this sender deferred all its tries on are left to others (and
        to itself ``retry_after`` seconds later; never, when None).
        """
        after, claimed = "", False
        while not stop():
            with self.store.transaction(serial=False):
                batch = sends.claim(self.store, digest.id, self.claims.worker, after=after,
                                    limit=self.claims.batch, now=self.claims.wall(), until=self.claims.until())
            if not batch:
                return claimed
            self.renewed, after = self.clock(), batch[-1]
            try:
                for email in batch:
                    if stop():
                        break
                    tried = self.gave_up.get((digest.id, email))
                    if tried is not None and (retry_after is None or self.clock() - tried < retry_after):
                        continue
                    claimed = True
                    self.keep_claims(digest.id)
                    standing = roster.standing(self.store, email, digest.feed)  # fresh: an unsubscribe may land mid-run
                    reason = why_not(standing, digest.feed)
                    if reason is not None:
                        self.record(digest.id, email, "cancelled", reason, was="pending")
                        continue
                    assert standing is not None
                    self.send_one(digest, email, standing.name)
            finally:
                with self.store.transaction(serial=False):
                    self._write_unsaved()
                    sends.release(self.store, digest.id, self.claims.worker)
        return claimed

    def send_all(self, digests: Sequence[Digest], stop: Callable[[], bool]) -> Sender:
        """Every free pending copy of ``digests``, one digest after another, then hang up."""
        with self.until_stopped():
            for digest in digests:
                try:
                    self.send_digest(digest, stop=stop)
                except Unsendable as exc:
                    self.unsendable[digest.id] = str(exc)
        return self

    @contextmanager
    def until_stopped(self) -> Iterator[None]:
        """Send inside it: a Stop ends the sending with its reason kept, and however it ends, the marks
        still pending are written and the connection is closed."""
        try:
            yield
        except Stop as exc:
            self.stopped = str(exc)
        finally:
            self.flush()
            self.connection.close()


def enhanced_status(reply: str) -> str | None:
    """The RFC 3463 code in a server's reply (``550 5.1.1 ...`` -> ``5.1.1``), or None."""
    match = _ENHANCED.search(reply)
    return match.group(0) if match else None


def why_not(standing: roster.Standing | None, feed: str) -> str | None:
    """Why a copy must not go now (unsubscribed, bounced, left the feed), or None."""
    if standing is None:
        return "not sent: the address is no longer a subscriber"
    if standing.status != "active":
        return f"not sent: the address is {standing.status}"
    return None if standing.follows else f"not sent: the address left {feed}"


def deliver(pub: Publication, store: Store, digests: Sequence[Digest], *, now: datetime,
            smtp: SmtpSettings | None, secret: bytes | None = None,
            sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
            retry: RetryPolicy = DEFAULT_RETRY, build: Builder = build_message,
            claims: Claims | None = None, hold: str | None = None) -> tuple[DigestDelivery, ...]:
    """Plan ``digests``, then send every free pending copy of every digest (``[email] connections`` at once).

    Pending copies of digests planned by earlier runs go too (their content as
    planned). Copies other senders hold (``masthead send --worker``) are left
    to them and reported as in flight. Returns one DigestDelivery per digest
    that was newly planned or still had pending copies; a digest finished by
    earlier runs is left out. With ``smtp`` None nothing is sent and each
    report says why; ``hold`` (a reason) plans without sending, for workers.
    """
    new_ids = [digest.id for digest in digests if plan(store, digest, now=now)]
    pending = sends.pending_digest_ids(store)
    ids = pending + [i for i in new_ids if i not in pending]     # oldest plan first
    considered = [d for d in (planned_digest(store, i) for i in ids) if d is not None]
    claims = claims or Claims(lease=pub.site.email.claim_lease)
    for digest in considered:      # under the publication's lock: the runs before this one are dead
        sends.drop_claims(store, digest.id, RUN)
    before = {d.id: claims.counts(store, d.id) for d in considered}
    stopped: str | None = hold or (None if smtp else "no SMTP server configured (MASTHEAD_SMTP_URL is unset)")
    runs: list[Sender] = []
    if stopped is None and smtp and any(before[d.id].get("pending") for d in considered):
        pacer, lanes = pacer_for(pub, sleep, clock), pub.site.email.connections
        secret = secret or load_secret(pub.state_dir)       # once: the first use may create it
        stencils = Stencils()
        runs = run_lanes(store, lanes, lambda own, n, abort: start_sender(
            pub, own, now=now, smtp=smtp, secret=secret, sleep=sleep, clock=clock, retry=retry, build=build,
            claims=claims.lane(n, lanes), pacer=pacer, stencils=stencils).send_all(considered, stop=abort.is_set))
    stopped = stopped or next((r.stopped for r in runs if r.stopped), None)
    unsendable = {k: v for r in runs for k, v in r.unsendable.items()}
    return tuple(report(store, digest, before[digest.id], runs, claims,
                        not_sent=unsendable.get(digest.id, stopped)) for digest in considered)


def pacer_for(pub: Publication, sleep: Callable[[float], None], clock: Callable[[], float]) -> Pacer:
    """``[email] rate_per_minute`` as a pace shared by every connection of one sender."""
    rate = pub.site.email.rate_per_minute
    return Pacer(60.0 / rate if rate else 0.0, sleep, clock)


def start_sender(pub: Publication, store: Store, *, now: datetime, smtp: SmtpSettings, secret: bytes | None,
                 sleep: Callable[[float], None], clock: Callable[[], float], retry: RetryPolicy,
                 build: Builder, claims: Claims, pacer: Pacer, stencils: Stencils) -> Sender:
    """A sender for ``pub`` over ``smtp`` (not yet connected: it connects for its first copy)."""
    return Sender(pub=pub, store=store, now=now, secret=secret or load_secret(pub.state_dir),
                  connection=Connection(smtp, local_hostname=pub.site.host), sleep=sleep,
                  clock=clock, retry=retry, build=build, pacer=pacer, claims=claims, stencils=stencils)


def report(store: Store, digest: Digest, before: dict[str, int], runs: Sequence[Sender], claims: Claims, *,
           not_sent: str | None) -> DigestDelivery:
    """What became of ``digest``: this sender's part (sent, failed, over all its connections), where every
    copy stands now, and what came back so far (bounces, complaints, unsubscribes)."""
    after = claims.counts(store, digest.id)
    came_back = next(iter(feedback.digest_numbers(store, [digest.id])), None)
    return DigestDelivery(
        digest_id=digest.id, feed=digest.feed, recipients=sum(after.values()),
        sent=sum(run.sent.get(digest.id, 0) for run in runs),
        already_sent=before.get("sent", 0),
        failed=tuple(failure for run in runs for failure in run.failures.get(digest.id, ())),
        pending=after.get("pending", 0), uncertain=after.get("sending", 0),
        cancelled=after.get("cancelled", 0), in_flight=after.get("in_flight", 0),
        not_sent=not_sent if after.get("pending") else None,
        bounced=came_back.bounced if came_back else 0, complained=came_back.complained if came_back else 0,
        unsubscribed=came_back.unsubscribed if came_back else 0)
