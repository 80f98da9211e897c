"""The send log's plans: which digests go to whom, with the content every copy carries.

A digest is planned once: its recipients (the feed's active subscribers at
that moment) become 'pending' rows in ``sends`` and its rendered content is
kept in ``send_plans``, so a later ``masthead send`` or a retry sends the very
same issue. The states a row then moves through are described in delivery.py.
"""

from __future__ import annotations

import json
from datetime import datetime

from ..records import Digest
from ..state import roster, sends
from ..state.db import Store


def plan(store: Store, digest: Digest, *, now: datetime) -> bool:
    """Fix the recipients of ``digest`` (active subscribers of its feed) and keep its content.

    Every copy, in this run or a later ``masthead send``, carries the content
    kept here. False when the digest was planned before.
    """
    with store.transaction():
        if sends.planned_content(store, digest.id) is not None:
            return False
        return sends.plan(store, digest.id, list(roster.active_emails(store, digest.feed)), _dump(digest), now=now)


def _dump(digest: Digest) -> str:
    return json.dumps({"id": digest.id, "feed": digest.feed, "subject": digest.subject,
                       "period_start": digest.period_start.isoformat(),
                       "period_end": digest.period_end.isoformat(),
                       "article_ids": list(digest.article_ids), "html": digest.html,
                       "text": digest.text, "shown": digest.shown}, ensure_ascii=False)


def planned_digest(store: Store, digest_id: str) -> Digest | None:
    """The digest as it was planned (the content its copies carry), or None."""
    content = sends.planned_content(store, digest_id)
    if content is None:
        return None
    data = json.loads(content)
    return Digest(id=data["id"], feed=data["feed"], subject=data["subject"],
                  period_start=datetime.fromisoformat(data["period_start"]),
                  period_end=datetime.fromisoformat(data["period_end"]),
                  article_ids=tuple(data["article_ids"]), html=data["html"], text=data["text"],
                  shown=data.get("shown", 0))
