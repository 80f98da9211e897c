"""One way to make an Article by hand, for tests and benchmarks alike.

``article(n)`` is article number ``n`` of a feed, as the collector would hand
it on (dated, titled, ``updated`` set), Arabic for an ``ar-*`` feed and
English otherwise, published ``n`` days after noon on 1 May 2022 in Riyadh.
Any field can be given to change it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from masthead.records import Article
from masthead.text import direction_of

BASE = "https://news.example.org/"
RIYADH = ZoneInfo("Asia/Riyadh")
START = datetime(2022, 5, 1, 12, tzinfo=RIYADH)


def article(n: int = 1, *, feed: str = "ar-news", language: str | None = None, **fields: Any) -> Article:
    """Article ``n`` of ``feed``; keyword arguments replace any field (``updated`` follows ``published``)."""
    language = language or ("ar" if feed.startswith("ar") else "en")
    arabic = language.split("-")[0] == "ar"
    published = fields.pop("published", START + timedelta(days=n))
    body = f"نص الخبر {n}" if arabic else f"Body {n}"
    values: dict[str, Any] = {
        "id": f"urn:uuid:00000000-0000-0000-0000-{n:012d}", "feed": feed,
        "title": f"خبر رقم {n}" if arabic else f"Story {n}", "url": f"{BASE}{feed}/item-{n}.html",
        "published": published, "updated": published, "precision": "minute",
        "language": language, "direction": direction_of(language),
        "summary": f"ملخص الخبر {n}" if arabic else f"Summary {n}",
        "body_html": f"<p>{body}</p>", "body_text": body,
        "origin": f"feeds/{feed}/item-{n}.txt", "slug": f"item-{n}",
    }
    values.update(fields)
    return Article(**values)
