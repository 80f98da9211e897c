"""Sign-up with double opt-in: a form asks, a mailed link confirms, only then a subscription.

``request_signup`` checks the form (an address, an optional name, feeds that
send a digest) and mails a confirmation link signed with the publication's
key and valid for ``CONFIRM_DAYS``. It never subscribes anyone and answers the
same whatever the address is (new, subscribed, unsubscribed, bounced): the
form cannot be used to learn who subscribes. One confirmation mail per address
per ``RESEND_AFTER``: the state keeps when the last one went, under an HMAC of
the address (not the address), and forgets it once the window has passed. At
most ``MOST_PER_WINDOW`` confirmations go out per window in all; beyond that
the form answers "try later" to everyone.

``confirm_signup`` is the link's POST: it subscribes the address to the feeds
it asked for, re-activating an address that had unsubscribed or bounced (this
is the person asking again, proven by the mail reaching them).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ..config import Publication
from ..errors import InputError
from ..send.delivery import wire_address, wire_bytes
from ..send.smtp import ConnectFailed, Connection, SmtpSettings
from ..state import signups
from ..state.db import Store
from ..tokens import SignupRequest, make_signup_token, read_signup_token, unsubscribe_url
from .confirmation import build_confirmation
from .roster import Subscriber, add_subscriber, check_name, normalise_address

CONFIRM_DAYS = 7
RESEND_AFTER = timedelta(minutes=10)
MOST_PER_WINDOW = 200        # confirmation mails to different addresses per RESEND_AFTER, in all
_RATE_PURPOSE = b"masthead-signup-rate-v1\x00"
Sent = Literal["sent", "limited", "refused"]


@dataclass(frozen=True, slots=True)
class Signup:
    """A checked sign-up form: the normalised address, its name, its feeds."""

    email: str
    name: str | None
    feeds: tuple[str, ...]


class SignupUnavailable(Exception):
    """No mail can go now (no SMTP server, or it cannot be reached): the same for every address."""


def check_form(pub: Publication, email: str, name: str | None, feeds: Iterable[str]) -> Signup:
    """The form's fields checked, or InputError: a bad address, a line break, no digest feed named."""
    chosen = tuple(dict.fromkeys(f.strip() for f in feeds if f.strip()))
    allowed = pub.digest_feeds
    if not chosen or any(f not in allowed for f in chosen):
        raise InputError("choose one or more feeds that send a digest",
                         hint=f"the feeds with a digest are: {', '.join(allowed) or 'none'}")
    return Signup(email=normalise_address(email), name=check_name(name or None), feeds=chosen)


def signup_language(pub: Publication, feeds: tuple[str, ...]) -> str:
    """The language a sign-up speaks: its first feed's."""
    return pub.feed(feeds[0]).language if feeds else pub.site.language


def request_signup(pub: Publication, store: Store, secret: bytes, form: Signup, *, now: datetime,
                   smtp: SmtpSettings | None, most: int = MOST_PER_WINDOW) -> Sent:
    """Mail ``form.email`` a confirmation link, at most once per RESEND_AFTER.

    'limited' when a mail went to the address within the window (nothing sent),
    'refused' when the server refused the address, 'sent' otherwise. Raises
    SignupUnavailable when no mail can go at all, whatever the address: no
    server, or ``most`` confirmations went out in the last RESEND_AFTER (so the
    form cannot be used to mail thousands of strangers in our name).
    """
    if smtp is None:
        raise SignupUnavailable("no SMTP server configured (MASTHEAD_SMTP_URL is unset)")
    key = hmac.new(secret, _RATE_PURPOSE + form.email.encode("utf-8"), hashlib.sha256).hexdigest()
    claim = signups.claim(store, key, now=now, since=now - RESEND_AFTER, most=most)
    if claim == "full":
        raise SignupUnavailable(f"{most} confirmation mails in the last {RESEND_AFTER} already: "
                                "the sign-up form may be abused")
    if claim == "limited":
        return "limited"
    try:
        return _mail(pub, secret, form, now=now, smtp=smtp)
    except BaseException:
        signups.release(store, key)          # nothing went: the person may try again at once
        raise


def _mail(pub: Publication, secret: bytes, form: Signup, *, now: datetime, smtp: SmtpSettings) -> Sent:
    expires = int((now + timedelta(days=CONFIRM_DAYS)).timestamp())
    request = SignupRequest(email=form.email, name=form.name, feeds=form.feeds, expires=expires)
    url = unsubscribe_url(pub.site.email.subscribe_url, make_signup_token(secret, request))
    connection = Connection(smtp, local_hostname=pub.site.host)
    try:
        connection.open()
    except ConnectFailed as exc:
        raise SignupUnavailable(exc.reason) from None
    try:
        rcpt, utf8 = wire_address(form.email, smtputf8=connection.smtputf8)
        if rcpt is None:
            return "refused"
        msg = build_confirmation(pub, request, rcpt, url, language=signup_language(pub, form.feeds),
                                 days=CONFIRM_DAYS, now=now)
        outcome = connection.transmit(pub.site.email.return_path, rcpt,
                                      wire_bytes(msg, utf8=utf8), lambda: None, utf8=utf8)
    finally:
        connection.close()
    if outcome.kind == "deferred":
        raise SignupUnavailable(f"the mail server deferred the confirmation: {outcome.reply}")
    return "sent" if outcome.kind == "accepted" else "refused"


def read_confirmation(secret: bytes, token: str, *, now: datetime) -> SignupRequest | Literal["expired"] | None:
    """The sign-up a confirmation link carries; 'expired' after its time; None when forged."""
    request = read_signup_token(secret, token)
    if request is None:
        return None
    return "expired" if now.timestamp() > request.expires else request


def confirm_signup(pub: Publication, store: Store, request: SignupRequest, *,
                   now: datetime) -> Subscriber:
    """Subscribe the confirmed address to the feeds it asked for (those still sending digests).

    An address that had unsubscribed or bounced is active again, following
    exactly these feeds; a feed it had left is followed again. InputError when
    none of its feeds sends a digest any more.
    """
    feeds = [f for f in request.feeds if f in pub.digest_feeds]
    if not feeds:
        raise InputError("none of the feeds of this sign-up sends a digest any more")
    return add_subscriber(store, pub, request.email, name=request.name, feeds=feeds, now=now,
                          resubscribe=True)
