"""Subscribers: who gets which feed's digest, kept in the state database only.

Addresses are checked with email-validator (syntax only: no DNS lookups) and
stored normalised: trimmed, Unicode NFC, lower case. An address that has
unsubscribed, bounced or complained stays as a suppression: ``add_subscriber`` refuses it
unless asked to resubscribe, and imports skip it. A feed an address left on
its own (per-feed unsubscribe) is suppressed the same way, for that address
and feed only. Nothing here is ever written under ``output/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from ..config import Publication
from ..errors import InputError
from ..records import Subscriber
from ..state import feedback, roster, sends
from ..state.db import Store
from ..text import header_text_problem

NAME_LIMIT = 100             # characters: a person's name, not a paragraph


def normalise_address(raw: str) -> str:
    """The stored form of an address, or InputError saying what is wrong with it."""
    from email_validator import EmailNotValidError, validate_email  # compiles its patterns: only when needed

    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"{raw.strip()!r} is not a usable email address: {exc}",
                         hint="check the address for typos") from None
    return checked.normalized.lower()


def check_name(name: str | None) -> str | None:
    """A display name fit for a To header, trimmed; None when empty.

    Refused (InputError): line breaks and every other control character,
    U+2028 / U+2029 / U+0085, RFC 2047 encoded-words, more than NAME_LIMIT characters.
    """
    if name is None:
        return None
    problem = header_text_problem(name)
    if problem is not None:
        raise InputError(f"the name {name[:60]!r} cannot be used: {problem}",
                         hint="names go into mail headers: give a plain one-line name")
    name = name.strip()
    if len(name) > NAME_LIMIT:
        raise InputError(f"the name is {len(name)} characters long; at most {NAME_LIMIT} are kept",
                         hint="give a shorter name")
    return name or None


def check_feeds(pub: Publication, feeds: Iterable[str]) -> tuple[str, ...]:
    """Named feeds, checked to exist and to send digests; all digest feeds when none."""
    names = tuple(dict.fromkeys(f.strip() for f in feeds if f.strip()))
    if not names:
        return pub.digest_feeds
    with_digest = pub.digest_feeds
    for name in names:
        pub.feed(name)       # ConfigError listing the feeds when unknown
        if name not in with_digest:
            raise InputError(f"feed {name!r} sends no digest (its digest.cadence is 'off')",
                             hint=f"the feeds with a digest are: {', '.join(with_digest) or 'none'}")
    return names


def add_subscriber(store: Store, pub: Publication, email: str, *, name: str | None = None,
                   feeds: Iterable[str] = (), now: datetime,
                   resubscribe: bool = False) -> Subscriber:
    """Subscribe ``email`` to ``feeds`` (all digest feeds when none are named).

    An existing subscriber keeps their feeds and gains the new ones. An address
    that unsubscribed or bounced is refused unless ``resubscribe`` is true: only
    do that when the person asked again.
    """
    address = normalise_address(email)
    name = check_name(name)
    chosen = check_feeds(pub, feeds)
    outcome = roster.upsert(store, address, name, chosen, now, resubscribe=resubscribe)
    if outcome in roster.SUPPRESSED:
        raise InputError(f"{address} is suppressed: {roster.SUPPRESSED[outcome]}",
                         hint="pass --resubscribe only if this person asked to subscribe again")
    if outcome == "left":
        raise InputError(f"{address} left {', '.join(chosen)} earlier (suppressed)",
                         hint="pass --resubscribe only if this person asked to subscribe again")
    subscriber = roster.get(store, address)
    assert subscriber is not None
    return subscriber


def remove_subscriber(store: Store, email: str, *, now: datetime, forget: bool = False) -> bool:
    """Stop sending to ``email``. It stays suppressed, unless ``forget`` erases every trace.

    Forgetting (an erasure request) also drops the address from the send log;
    a later import could then add it again.
    """
    address = normalise_address(email)
    if not forget:
        return roster.set_status(store, address, "unsubscribed", now=now)
    with store.transaction():
        sends.forget_address(store, address)
        return roster.forget(store, address)


def list_subscribers(store: Store, *, status: str | None = None) -> Iterator[Subscriber]:
    """Every subscriber in address order, optionally only those with ``status``."""
    for email in roster.emails(store, status=status):
        subscriber = roster.get(store, email)
        if subscriber is not None:
            yield subscriber


def status_of(store: Store, email: str) -> tuple[str, str, str] | None:
    """(status, since, why) of a known address; None when it is not in the roster.

    ``since`` and ``why`` come from the status history (a bounce's code and
    report, a complaint's feedback loop, an unsubscribe); an address that
    never changed status is as it was when added.
    """
    subscriber = roster.get(store, normalise_address(email))
    if subscriber is None:
        return None
    note = feedback.status_note(store, subscriber.email, subscriber.status)
    if note is None:
        return subscriber.status, subscriber.created if subscriber.status == "active" else subscriber.updated, ""
    return subscriber.status, note[0], note[1]
