"""Tables ``return_paths``, ``mail_events``, ``status_history`` and ``hook_receipts``: what comes back.

``return_paths`` ties each copy's return-path token to its digest and
address; ``mail_events`` keeps every bounce and complaint once (keyed, so a
mailbox read twice or a webhook retried counts once); ``status_history``
says when and why each address changed status (unsubscribed, left a feed,
bounced, complained, resubscribed); ``hook_receipts`` remembers the webhook
deliveries already taken, so a replay is refused. The numbers per digest
that the run summary and the report show are counted here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .db import Store, stamp

KINDS = ("hard", "soft", "complaint")


@dataclass(frozen=True, slots=True)
class MailEvent:
    """One bounce or complaint about one address."""

    key: str                     # unique: the report's hash (or provider event id) and the address
    email: str
    digest_id: str | None
    kind: str                    # hard, soft, complaint
    status: str | None
    detail: str
    source: str
    received: datetime


@dataclass(frozen=True, slots=True)
class DigestNumbers:
    """One digest's fate: its list size, copies sent, and what came back."""

    digest_id: str
    feed: str
    planned: str                 # stamp(): when its recipients were fixed
    recipients: int
    sent: int
    bounced: int
    complained: int
    unsubscribed: int

    def to_dict(self) -> dict[str, object]:
        return {"digest": self.digest_id, "feed": self.feed, "planned": self.planned,
                "recipients": self.recipients, "sent": self.sent, "bounced": self.bounced,
                "complained": self.complained, "unsubscribed": self.unsubscribed}


def remember_return(store: Store, token: str, digest_id: str, email: str) -> None:
    """Keep which copy a return-path token stands for (in the caller's transaction)."""
    store.execute("INSERT INTO return_paths (token, digest_id, email) VALUES (:token, :digest, :email) "
                  "ON CONFLICT (token) DO NOTHING", {"token": token, "digest": digest_id, "email": email})


def copy_of_token(store: Store, token: str) -> tuple[str, str] | None:
    """(digest id, address) of the copy a return-path token was made for, or None."""
    row = store.one("SELECT digest_id, email FROM return_paths WHERE token = :token", {"token": token})
    return None if row is None else (row["digest_id"], row["email"])


def copy_of_message_id(store: Store, message_id: str) -> tuple[str, str] | None:
    """(digest id, address) of the copy that carried ``message_id``, or None."""
    row = store.one("SELECT digest_id, email FROM sends WHERE message_id = :mid", {"mid": message_id})
    return None if row is None else (row["digest_id"], row["email"])


def latest_copy(store: Store, email: str) -> str | None:
    """The digest of the latest copy that went to ``email``, or None."""
    value: str | None = store.scalar(
        "SELECT digest_id FROM sends WHERE email = :email AND status IN ('sent', 'sending') "
        "ORDER BY updated DESC, digest_id DESC LIMIT 1", {"email": email})
    return value


def record_event(store: Store, event: MailEvent) -> bool:
    """Keep one bounce or complaint; False when it was recorded before (same key)."""
    if event.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {event.kind!r}")
    cursor = store.execute(
        "INSERT INTO mail_events (event_key, email, digest_id, kind, status, detail, source, received) "
        "VALUES (:key, :email, :digest, :kind, :status, :detail, :source, :received) "
        "ON CONFLICT (event_key) DO NOTHING",
        {"key": event.key, "email": event.email, "digest": event.digest_id, "kind": event.kind,
         "status": event.status, "detail": event.detail[:500], "source": event.source,
         "received": stamp(event.received)})
    return cursor.rowcount > 0


def soft_bounced_copies(store: Store, email: str, since: datetime) -> int:
    """How many different copies to ``email`` soft-bounced since ``since`` (a delay and its failure count once)."""
    value: int = store.scalar(
        "SELECT count(DISTINCT COALESCE(digest_id, event_key)) FROM mail_events "
        "WHERE email = :email AND kind = 'soft' AND received >= :since",
        {"email": email, "since": stamp(since)})
    return value


def record_status(store: Store, email: str, status: str, *, now: datetime, reason: str = "",
                  feed: str = "") -> None:
    """Note that ``email`` became ``status`` (or left ``feed``) now, and why."""
    store.execute("INSERT INTO status_history (email, changed, status, feed, reason) "
                  "VALUES (:email, :changed, :status, :feed, :reason)",
                  {"email": email, "changed": stamp(now), "status": status, "feed": feed,
                   "reason": reason[:500]})


def status_note(store: Store, email: str, status: str) -> tuple[str, str] | None:
    """(when, why) ``email`` last became ``status``, or None when the history does not say."""
    row = store.one("SELECT changed, reason FROM status_history WHERE email = :email AND status = :status "
                    "AND feed = '' ORDER BY changed DESC LIMIT 1", {"email": email, "status": status})
    return None if row is None else (row["changed"], row["reason"])


def forget_address(store: Store, email: str) -> None:
    """Drop every trace of an address (an erasure request), in the caller's transaction."""
    params = {"email": email}
    for table in ("return_paths", "mail_events", "status_history"):
        store.execute(f"DELETE FROM {table} WHERE email = :email", params)


def claim_receipt(store: Store, provider: str, receipt: str, *, now: datetime, keep_since: datetime) -> bool:
    """Take one webhook delivery; False when it was taken before (a replay).

    Receipts older than ``keep_since`` are forgotten: by then the provider's
    timestamp is too old to be accepted anyway.
    """
    with store.transaction():
        store.execute("DELETE FROM hook_receipts WHERE received < :since", {"since": stamp(keep_since)})
        cursor = store.execute(
            "INSERT INTO hook_receipts (provider, receipt, received) VALUES (:provider, :receipt, :now) "
            "ON CONFLICT (provider, receipt) DO NOTHING",
            {"provider": provider, "receipt": receipt, "now": stamp(now)})
    return cursor.rowcount > 0


def digest_numbers(store: Store, digest_ids: Iterable[str] | None = None) -> list[DigestNumbers]:
    """Per planned digest (all, or those named), oldest first: list size, sent, bounced, complained, unsubscribed.

    An unsubscribe counts for a digest when one of its recipients left its
    feed (or every list) after it was planned and before the feed's next
    digest was: the issue that was in their inbox.
    """
    plans = [{"digest_id": r["digest_id"], "planned": r["planned"], "recipients": r["recipients"],
              "feed": r["feed"] or r["digest_id"].split("/")[0]}     # ids are <feed>/<cadence>/<day>
             for r in store.rows("SELECT p.digest_id, p.planned, p.recipients, d.feed FROM send_plans p "
                                 "LEFT JOIN digests d ON d.id = p.digest_id ORDER BY p.planned, p.digest_id")]
    wanted = None if digest_ids is None else set(digest_ids)
    next_plan: dict[str, str | None] = {}
    last_of_feed: dict[str, str] = {}
    for row in reversed(plans):
        next_plan[row["digest_id"]] = last_of_feed.get(row["feed"])
        last_of_feed[row["feed"]] = row["planned"]
    found = []
    for row in plans:
        digest_id = row["digest_id"]
        if wanted is not None and digest_id not in wanted:
            continue
        params = {"digest": digest_id, "feed": row["feed"], "since": row["planned"],
                  "until": next_plan[digest_id] or "9999"}
        sent = store.scalar("SELECT count(*) FROM sends WHERE digest_id = :digest "
                            "AND status IN ('sent', 'sending')", params)
        kinds = {r[0]: r[1] for r in store.rows(
            "SELECT CASE WHEN kind = 'complaint' THEN 'complaint' ELSE 'bounce' END, count(DISTINCT email) "
            "FROM mail_events WHERE digest_id = :digest GROUP BY 1", params)}
        left = store.scalar(
            "SELECT count(DISTINCT h.email) FROM status_history h JOIN sends s ON s.email = h.email "
            "AND s.digest_id = :digest AND s.status IN ('sent', 'sending') "
            "WHERE h.changed >= :since AND h.changed < :until AND ((h.status = 'left' AND h.feed = :feed) "
            "OR (h.status = 'unsubscribed' AND h.feed = ''))", params)
        found.append(DigestNumbers(digest_id=digest_id, feed=row["feed"], planned=row["planned"],
                                   recipients=row["recipients"], sent=sent, bounced=kinds.get("bounce", 0),
                                   complained=kinds.get("complaint", 0), unsubscribed=left))
    return found


def latest_digests(store: Store, per_feed: int = 2) -> list[str]:
    """The ids of each feed's ``per_feed`` latest planned digests, oldest first."""
    rows = store.rows("SELECT digest_id FROM send_plans ORDER BY planned DESC, digest_id DESC")
    taken: dict[str, int] = {}
    ids = []
    for (digest_id,) in rows:
        feed = digest_id.split("/")[0]
        if taken.get(feed, 0) < per_feed:
            taken[feed] = taken.get(feed, 0) + 1
            ids.append(digest_id)
    return ids[::-1]


def list_sizes(store: Store) -> dict[str, int]:
    """Active subscribers per feed now."""
    return {r[0]: r[1] for r in store.rows(
        "SELECT f.feed, count(*) FROM subscriptions f JOIN subscribers s ON s.email = f.email "
        "WHERE s.status = 'active' GROUP BY f.feed")}
