"""Sign-up with double opt-in: a form asks, a mailed link confirms, only then a subscription.

``request_signup`` checks the limits and queues a confirmation mail (a link
signed with the publication's key, valid for ``CONFIRM_DAYS``) for the
background sender (outbox.py); it never mails on the caller's thread and
never subscribes anyone. It answers the same whatever the address is (new,
subscribed, unsubscribed, bounced), so the form cannot be used to learn who
subscribes. The limits (``[signup]`` in site.toml) count, per window, the
confirmations asked for by one client address, one network (IPv4 /24, IPv6
/64), to one address and to one domain, and in all; they live in the state
database under HMACs of their keys (no address or client is kept), so they
hold across every ``masthead serve`` process sharing it. One client cannot
use up the total for everyone: its own limit is far below it.

``confirm_signup`` is the link's POST: it subscribes the address to the feeds
it asked for, re-activating an address that had unsubscribed or bounced (this
is the person asking again, proven by the mail reaching them). A link works
once: a replayed one cannot re-subscribe someone who left since.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from ..config import Publication, SignupLimits
from ..errors import InputError
from ..state import signups
from ..state.db import Store
from ..tokens import SignupRequest, make_signup_token, read_signup_token
from .roster import Subscriber, add_subscriber, check_name, normalise_address

CONFIRM_DAYS = 7
_PURPOSE = b"masthead-signup-limit-v2\x00"       # keeps these HMACs apart from the key's other uses
_USED_PURPOSE = b"masthead-signup-used-v1\x00"
Outcome = Literal["queued", "limited", "ignored"]


@dataclass(frozen=True, slots=True)
class Signup:
    """A checked sign-up form: the normalised address, its name, its feeds."""

    email: str
    name: str | None
    feeds: tuple[str, ...]


class SignupUnavailable(Exception):
    """No confirmation can be queued now (no mail server, the total or the domain's limit reached)."""


class TooManySignups(Exception):
    """This client (or its network) asked for too many confirmations in the window."""


def check_form(pub: Publication, email: str, name: str | None, feeds: Iterable[str]) -> Signup:
    """The form's fields checked, or InputError: a bad address or name, no digest feed named."""
    chosen = tuple(dict.fromkeys(f.strip() for f in feeds if f.strip()))
    allowed = pub.digest_feeds
    if not chosen or any(f not in allowed for f in chosen):
        raise InputError("choose one or more feeds that send a digest",
                         hint=f"the feeds with a digest are: {', '.join(allowed) or 'none'}")
    return Signup(email=normalise_address(email), name=check_name(name or None), feeds=chosen)


def signup_language(pub: Publication, feeds: tuple[str, ...]) -> str:
    """The language a sign-up speaks: its first feed's."""
    return pub.feed(feeds[0]).language if feeds else pub.site.language


def network_of(client: str) -> str:
    """The client's network for the limits: its IPv4 /24 or IPv6 /64 (the address itself if not an IP)."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def limit_keys(secret: bytes, email: str, client: str) -> dict[str, str]:
    """The HMAC under which each limit counts this sign-up, in the order the limits are checked."""
    values = {"client": client, "network": network_of(client), "address": email,
              "domain": email.rpartition("@")[2]}
    return {scope: hmac.new(secret, _PURPOSE + f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()
            for scope, value in values.items()}


def request_signup(pub: Publication, store: Store, secret: bytes, form: Signup, *, now: datetime,
                   client: str, limits: SignupLimits | None = None) -> Outcome:
    """Queue a confirmation mail to ``form.email``, asked for by ``client`` (its IP address).

    'limited' when the address had one within the window (nothing queued:
    the caller answers as for 'queued'); TooManySignups when the client or
    its network reached its limit; SignupUnavailable when the domain's or the
    total limit is reached (the same for every address of it).
    """
    limits = limits or pub.site.signup
    per = {"client": limits.per_client, "network": limits.per_network,
           "address": limits.per_address, "domain": limits.per_domain}
    full = signups.claim(store, limit_keys(secret, form.email, client), per, total=limits.total,
                         now=now, since=now - timedelta(minutes=limits.window))
    if full in ("client", "network"):
        raise TooManySignups(f"the {full} limit ({per[full]} per {limits.window} minutes) is reached")
    if full == "address":
        return "limited"
    if full is not None:
        raise SignupUnavailable(f"the {full} limit of confirmation mails per {limits.window} minutes is "
                                "reached: the sign-up form may be abused")
    expires = int((now + timedelta(days=CONFIRM_DAYS)).timestamp())
    request = SignupRequest(email=form.email, name=form.name, feeds=form.feeds, expires=expires)
    signups.enqueue(store, secrets.token_hex(16), form.email, make_signup_token(secret, request),
                    signup_language(pub, form.feeds), now=now)
    return "queued"


def read_confirmation(secret: bytes, token: str, *, now: datetime) -> SignupRequest | Literal["expired"] | None:
    """The sign-up a confirmation link carries; 'expired' after its time; None when forged."""
    request = read_signup_token(secret, token)
    if request is None:
        return None
    return "expired" if now.timestamp() > request.expires else request


class LinkUsed(InputError):
    """The confirmation link subscribed someone already: it works once."""


def confirm_signup(pub: Publication, store: Store, secret: bytes, token: str, request: SignupRequest, *,
                   now: datetime) -> Subscriber:
    """Subscribe the confirmed address to the feeds it asked for (those still sending digests).

    An address that had unsubscribed or bounced is active again, following
    exactly these feeds; a feed it had left is followed again. LinkUsed when
    this token was confirmed before (nothing changes); InputError when none of
    its feeds sends a digest any more.
    """
    feeds = [f for f in request.feeds if f in pub.digest_feeds]
    if not feeds:
        raise InputError("none of the feeds of this sign-up sends a digest any more")
    key = hmac.new(secret, _USED_PURPOSE + token.encode("utf-8"), hashlib.sha256).hexdigest()
    with store.transaction():
        if not signups.use_token(store, key, expires=datetime.fromtimestamp(request.expires, UTC), now=now):
            raise LinkUsed("this confirmation link was used already")
        return add_subscriber(store, pub, request.email, name=request.name, feeds=feeds, now=now,
                              resubscribe=True)
