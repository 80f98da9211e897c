"""Table ``signup_mails``: when a confirmation mail last went to each address (kept as an HMAC)."""

from __future__ import annotations

from datetime import datetime

from .db import Store, stamp


def claim(store: Store, address_key: str, *, now: datetime, since: datetime, most: int) -> str:
    """Reserve a confirmation mail for ``address_key`` at ``now``.

    Rows older than ``since`` are forgotten first. Returns "full" when ``most``
    mails went since then in all, "limited" when this address had one, else
    "claimed" (and the mail is recorded).
    """
    with store.transaction():
        store.execute("DELETE FROM signup_mails WHERE sent <= :since", {"since": stamp(since)})
        if store.scalar("SELECT count(*) FROM signup_mails") >= most:
            return "full"
        if store.one("SELECT 1 FROM signup_mails WHERE address_key = :key", {"key": address_key}):
            return "limited"
        store.execute("INSERT INTO signup_mails (address_key, sent) VALUES (:key, :now)",
                      {"key": address_key, "now": stamp(now)})
    return "claimed"


def release(store: Store, address_key: str) -> None:
    """Forget a claim whose mail did not go: the person may try again at once."""
    with store.transaction():
        store.execute("DELETE FROM signup_mails WHERE address_key = :key", {"key": address_key})
