"""The background sender of sign-up confirmations: mails queued in the state, sent off the request path.

``send_queued`` claims each due mail with a compare-and-set (queued ->
sending), so several processes sharing one database never mail one
confirmation twice, and sends them over one SMTP connection. A mail the
server defers goes back to the queue with a growing delay; one refused, or
deferred ``MAX_ATTEMPTS`` times, is dropped. A sent or dropped mail's row is
deleted with the address in it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..config import Publication
from ..send.delivery import wire_address, wire_bytes
from ..send.smtp import ConnectFailed, Connection, SmtpSettings
from ..state import signups
from ..state.db import Store
from ..tokens import read_signup_token, unsubscribe_url
from .confirmation import build_confirmation
from .signup import CONFIRM_DAYS

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)      # doubled after each deferral
STALE_AFTER = timedelta(days=1)         # a mail still queued after a day is dropped


def probe(pub: Publication, smtp: SmtpSettings) -> bool:
    """Whether the mail server speaks SMTPUTF8 (takes addresses with a non-ASCII local part).

    ConnectFailed when it cannot be reached.
    """
    connection = Connection(smtp, local_hostname=pub.site.host)
    connection.open()
    try:
        return connection.smtputf8
    finally:
        connection.close()


def send_queued(pub: Publication, store: Store, secret: bytes, smtp: SmtpSettings, *, now: datetime,
                learned: Callable[[bool], None] | None = None) -> int:
    """Send every confirmation mail due by ``now``; how many the server accepted.

    ``learned(smtputf8)`` is told what the server offers each time it is reached.
    """
    signups.forget_stale(store, before=now - STALE_AFTER)
    connection = Connection(smtp, local_hostname=pub.site.host)
    sent = 0
    try:
        while (item := signups.claim_next(store, now=now)) is not None:
            request = read_signup_token(secret, item.token)
            if request is None:                 # the key changed since it was queued: the link would not work
                signups.done(store, item.id)
                continue
            if not connection.alive:
                try:
                    connection.open()
                except ConnectFailed:
                    signups.later(store, item.id, next_try=now + RETRY_AFTER)
                    raise
                if learned is not None:
                    learned(connection.smtputf8)
            rcpt, utf8 = wire_address(item.email, smtputf8=connection.smtputf8)
            if rcpt is None:                     # a non-ASCII local part and no SMTPUTF8: it cannot go
                signups.done(store, item.id)
                continue
            url = unsubscribe_url(pub.site.email.subscribe_url, item.token)
            msg = build_confirmation(pub, request, rcpt, url, language=item.language, days=CONFIRM_DAYS, now=now)
            outcome = connection.transmit(pub.site.email.return_path, rcpt, wire_bytes(msg, utf8=utf8),
                                          lambda: True, utf8=utf8)
            if outcome.kind == "deferred" and item.attempts + 1 < MAX_ATTEMPTS:
                signups.later(store, item.id, next_try=now + RETRY_AFTER * 2 ** item.attempts)
            else:
                signups.done(store, item.id)
                sent += outcome.kind == "accepted"
    finally:
        connection.close()
    return sent
