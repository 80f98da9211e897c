"""Bounces and complaints that come back: read from a mailbox or a webhook, tied to a copy, acted on.

Every digest copy leaves from its own return path, ``bounces+TOKEN@domain``
(the token an HMAC of digest and address, see tokens.py), so a bounce names
the copy it is about in the address it was delivered to (Delivered-To,
X-Original-To, To) and a complaint in the returned message's Return-Path,
whatever else they quote. Only such reports are acted on by default: anyone
can mail a made-up bounce naming a subscriber to the bounce address, nobody
can make a token. ``trust_addresses`` also takes the addresses a report
names (for bounces that reached another mailbox, or mail sent before).

Policy: a hard bounce or a complaint suppresses the address at once
(``bounced``, ``complained``); soft bounces suppress it once
``[email] soft_bounce_limit`` different copies soft-bounced within
``soft_bounce_days``. Each report is kept once (keyed by its content), so
reading a mailbox again changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import imaplib
import mailbox
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config import Publication
from ..errors import ConfigError, InputError
from ..state import feedback, roster
from ..state.db import Store
from ..state.feedback import MailEvent
from ..tokens import RETURN_TOKEN_LENGTH, return_token
from .dsn import Report, parse, read_report
from .providers import Delivery


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one report did: events kept (address, kind, digest, new status), or why nothing."""

    where: str                                   # "bounces.mbox #3", "imap INBOX uid 12", "ses"
    kind: str                                    # bounce, complaint, unreadable
    events: tuple[tuple[str, str, str | None, str | None], ...] = ()
    problem: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"where": self.where, "kind": self.kind, "problem": self.problem,
                "events": [{"email": e, "kind": k, "digest": d, "status": s} for e, k, d, s in self.events]}


def apply_event(pub: Publication, store: Store, event: MailEvent, *, now: datetime) -> tuple[bool, str | None]:
    """Keep one bounce or complaint and apply the policy.

    Returns whether it was kept (False: seen before, or not a subscriber) and
    the address's new status (None when it did not change).
    """
    email = pub.site.email
    with store.transaction():
        if roster.get(store, event.email) is None:
            return False, None                   # not (or no longer) a subscriber: nothing to keep
        if not feedback.record_event(store, event):
            return False, None
        why = f"{event.kind} bounce" if event.kind != "complaint" else "spam complaint"
        detail = f"{why} ({event.source}{', ' + event.digest_id if event.digest_id else ''}): " \
                 f"{event.status + ' ' if event.status else ''}{event.detail}"[:300]
        if event.kind in ("complaint", "hard"):
            status = "complained" if event.kind == "complaint" else "bounced"
            changed = roster.set_status(store, event.email, status, now=now, only_if="active", reason=detail)
            return True, status if changed else None
        since = now - timedelta(days=email.soft_bounce_days)
        count = feedback.soft_bounced_copies(store, event.email, since)
        if count >= email.soft_bounce_limit:
            reason = f"{count} soft-bounced copies in {email.soft_bounce_days} days; last: {detail}"
            changed = roster.set_status(store, event.email, "bounced", now=now, only_if="active", reason=reason[:300])
            return True, "bounced" if changed else None
    return True, None


def apply_notices(pub: Publication, store: Store, delivery: Delivery, *, now: datetime) -> Outcome:
    """Act on what a genuine provider webhook reports (the provider vouches for the addresses)."""
    events = []
    for notice in delivery.notices:
        copy = feedback.copy_of_message_id(store, notice.message_id) if notice.message_id else None
        digest_id = copy[0] if copy and copy[1] == notice.email else feedback.latest_copy(store, notice.email)
        if notice.kind == "unsubscribe":
            changed = roster.set_status(store, notice.email, "unsubscribed", now=now, only_if="active",
                                        reason=f"{notice.detail} ({delivery.provider})")
            events.append((notice.email, notice.kind, digest_id, "unsubscribed" if changed else None))
            continue
        event = MailEvent(key=notice.key, email=notice.email, digest_id=digest_id, kind=notice.kind,
                          status=notice.status, detail=notice.detail, source=delivery.provider, received=now)
        kept, status = apply_event(pub, store, event, now=now)
        if kept:
            events.append((notice.email, notice.kind, digest_id, status))
    return Outcome(delivery.provider, "notification", tuple(events))


def process(pub: Publication, store: Store, secret: bytes, raw: bytes, *, where: str, source: str,
            now: datetime, trust_addresses: bool = False) -> Outcome:
    """Read one message from the bounce mailbox and act on what it reports."""
    report = read_report(raw)
    if report.kind == "unreadable":
        return Outcome(where, "unreadable", problem=f"not read: {report.why}")
    key = hashlib.sha256(raw).hexdigest()[:32]
    when = _received(raw, now)
    targets = _by_token(pub, store, secret, report)
    if not targets:
        if not trust_addresses:
            return Outcome(where, report.kind, problem="not applied: no return-path token of ours in it "
                                                       "(--trust-addresses acts on the addresses it names)")
        targets = _by_address(store, report)
        if not targets:
            named = ", ".join(report.complained or [f.recipient for f in report.failures]) or "nobody"
            return Outcome(where, report.kind, problem=f"names no subscriber (it names {named})")
    events = []
    for digest_id, address in targets:
        kind, status, detail = _verdict(report, address)
        event = MailEvent(key=f"{key}:{address}", email=address, digest_id=digest_id, kind=kind, status=status,
                          detail=detail, source=source, received=when)
        kept, status = apply_event(pub, store, event, now=now)
        if kept:
            events.append((address, kind, digest_id, status))
    if not events:
        return Outcome(where, report.kind, problem="read before: nothing new")
    return Outcome(where, report.kind, tuple(events))


def _received(raw: bytes, now: datetime) -> datetime:
    """When the report was written (its Date), never later than now: soft bounces are counted over time."""
    try:
        moment = parsedate_to_datetime(str(parse(raw[:20000]).get("Date") or ""))
    except (TypeError, ValueError, IndexError):
        return now
    return now if moment.tzinfo is None or moment > now else moment


def _by_token(pub: Publication, store: Store, secret: bytes, report: Report) -> list[tuple[str | None, str]]:
    local, _, domain = pub.site.email.return_path.rpartition("@")
    pattern = re.compile(rf"{re.escape(local)}\+([a-z2-7]{{{RETURN_TOKEN_LENGTH}}})@{re.escape(domain)}", re.I)
    found: list[tuple[str | None, str]] = []
    for token in dict.fromkeys(t.lower() for text in report.texts for t in pattern.findall(text)):
        copy = feedback.copy_of_token(store, token)
        if copy is not None and hmac.compare_digest(token, return_token(secret, *copy)):
            found.append(copy)
    return list(dict.fromkeys(found))


def _by_address(store: Store, report: Report) -> list[tuple[str | None, str]]:
    named = report.complained if report.kind == "complaint" else tuple(f.recipient for f in report.failures)
    copies = {email: digest for digest, email in
              (c for c in (feedback.copy_of_message_id(store, m) for m in report.message_ids) if c)}
    return [(copies.get(a) or feedback.latest_copy(store, a), a) for a in named if roster.get(store, a)]


def _verdict(report: Report, address: str) -> tuple[str, str | None, str]:
    """(kind, status, detail) of a report for one address it is tied to."""
    if report.kind == "complaint":
        return "complaint", None, f"feedback report ({report.feedback_type or 'abuse'})"
    match = [f for f in report.failures if f.recipient == address]
    failure = match[0] if match else next((f for f in report.failures if f.kind == "hard"), report.failures[0])
    return failure.kind, failure.status, failure.detail


def read_mbox(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw message) for each message of an mbox file."""
    if not path.is_file():
        raise InputError(f"no mbox file at {path}", hint="give the path of an mbox file")
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.keys(), 1):
            yield f"{path.name} #{number}", box.get_bytes(key)
    finally:
        box.close()


def read_maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw message) for each message of a Maildir (new/ and cur/)."""
    if not (path / "cur").is_dir() and not (path / "new").is_dir():
        raise InputError(f"{path} is not a Maildir (no cur/ or new/ folder)", hint="give the Maildir's folder")
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        yield f"{path.name}/{key}", box.get_bytes(key)


def read_imap(url: str, password: str | None, *, timeout: float = 60.0) -> Iterator[tuple[str, bytes]]:
    """(where, raw message) for each unread message of an IMAP folder; each is marked read once acted on.

    ``imaps://user@host/Folder`` (TLS), or ``imap://user@host/Folder`` (STARTTLS,
    required unless the host is this machine). The password comes from the
    URL or, better, from ``password`` (MASTHEAD_IMAP_PASSWORD).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ConfigError(f"{url!r} is not an IMAP URL", where="--imap",
                          hint="use imaps://user@mail.example.org/INBOX (password in MASTHEAD_IMAP_PASSWORD)")
    secret = password or (unquote(parts.password) if parts.password else None)
    if secret is None:
        raise ConfigError("no IMAP password", where="--imap", hint="set MASTHEAD_IMAP_PASSWORD")
    folder = unquote(parts.path.strip("/")) or "INBOX"
    context = ssl.create_default_context()
    client: imaplib.IMAP4 | None = None
    try:
        if parts.scheme == "imaps":
            client = imaplib.IMAP4_SSL(parts.hostname, parts.port or 993, ssl_context=context, timeout=timeout)
        else:
            client = imaplib.IMAP4(parts.hostname, parts.port or 143, timeout=timeout)
            if "STARTTLS" in client.capabilities:
                client.starttls(ssl_context=context)
            elif parts.hostname not in ("localhost", "127.0.0.1", "::1"):
                raise ConfigError(f"{parts.hostname} offers no STARTTLS", where="--imap",
                                  hint="use imaps:// so the password never travels in clear")
        client.login(unquote(parts.username), secret)
    except (OSError, imaplib.IMAP4.error, ConfigError) as exc:
        if client is not None:
            client.shutdown()
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"cannot read {parts.hostname}: {exc}", where="--imap",
                          hint="check the host, the user name and MASTHEAD_IMAP_PASSWORD") from None
    try:
        status, _ = client.select(_quote(folder))
        if status != "OK":
            raise ConfigError(f"no folder {folder!r} on {parts.hostname}", where="--imap")
        _, found = client.uid("SEARCH", "UNSEEN")
        for uid in (found[0] or b"").decode("ascii").split():
            _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple)), None)
            if isinstance(raw, bytes):
                yield f"imap {folder} uid {uid}", raw
                client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
