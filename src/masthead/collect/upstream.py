"""Upstream feeds: RSS 2.0 and Atom 1.0 through feedparser, JSON Feed through jsonrecords.

URLs are fetched with a timeout, conditional GET (ETag / Last-Modified kept in
the state's http_cache) and a few retries; an unreachable upstream is a problem
for that source only, and its last good copy is used when there is one.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import feedparser

from ..errors import InputError
from ..records import Image
from ..state import httpcache
from ..state.db import Store
from ..text import clean_meta
from .jsonrecords import is_json_feed, load_json, read_json_records
from .raw import RawEntry

USER_AGENT = "masthead (+https://github.com/masthead)"
TIMEOUT = 20
RETRIES = 3


def read_upstream(data: bytes, origin: str) -> tuple[list[RawEntry], list[str]]:
    """Entries of an RSS, Atom or JSON Feed document, and problems with single entries."""
    if data.lstrip()[:1] in (b"{", b"["):
        document = load_json(data, origin)
        if not is_json_feed(document):
            raise InputError("JSON that is not a JSON Feed", where=origin,
                             hint="a JSON Feed has \"version\": \"https://jsonfeed.org/version/1.1\"")
        return read_json_records(document, origin)
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and parsed.bozo:
        raise InputError(f"not a readable RSS or Atom feed: {parsed.bozo_exception}", where=origin,
                         hint="check that the source is a feed, not a web page")
    problems = [f"the feed is not well-formed XML ({parsed.bozo_exception}); read what could be read"] \
        if parsed.bozo else []
    language = parsed.feed.get("language")
    entries = [_entry(e, origin, i, language) for i, e in enumerate(parsed.entries)]
    return entries, problems


def _entry(e: Any, origin: str, index: int, language: str | None) -> RawEntry:
    content = e.get("content") or []
    html = next((c.value for c in content if "html" in c.get("type", "")), None)
    if html is None and content:
        html = content[0].value
    summary_html = e.get("summary")
    published_raw = e.get("published") or dict.get(e, "updated")
    image = None
    for link in e.get("enclosures", []) + e.get("media_content", []):
        if str(link.get("type", "")).startswith("image/") and link.get("href", link.get("url")):
            image = Image(url=link.get("href") or link.get("url"), mime_type=link["type"],
                          length=int(link.get("length") or 0) if str(link.get("length") or "0").isdigit() else 0)
            break
    return RawEntry(
        origin=origin, key=e.get("id") or e.get("link") or str(index),
        title=clean_meta(e.get("title", "")),
        body_html=html or summary_html, summary=None,
        published=published_raw, published_raw=published_raw,
        # dict.get: feedparser maps a missing "updated" to "published" (for compatibility with its old versions)
        updated=dict.get(e, "updated") if e.get("published") else None,
        date_text=None,
        language=e.get("language") or language,
        authors=tuple(a.get("name", "") for a in e.get("authors", []) if a.get("name")),
        tags=tuple(t.get("term", "") for t in e.get("tags", []) if t.get("term")),
        source=(e.get("source") or {}).get("title"),
        image=image, url=e.get("link"), id=e.get("id"),
    )


def fetch(url: str, store: Store, *, sleep: Callable[[float], None] = time.sleep) -> bytes:
    """The body at ``url``: fresh when it changed, the cached copy on 304 or when unreachable."""
    row = httpcache.get(store, url)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, "
               "application/feed+json, application/xml;q=0.9, */*;q=0.8"}
    if row and row.etag:
        headers["If-None-Match"] = row.etag
    if row and row.last_modified:
        headers["If-Modified-Since"] = row.last_modified
    error: Exception | None = None
    for attempt in range(RETRIES):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                        timeout=TIMEOUT) as response:
                body = response.read()
                httpcache.put(store, url, response.headers.get("ETag"), response.headers.get("Last-Modified"), body)
                return body
        except urllib.error.HTTPError as exc:
            exc.close()  # the error carries the open response
            if exc.code == 304 and row and row.body is not None:
                return row.body
            error = exc
            if exc.code < 500 and exc.code != 429:
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            error = exc
        if attempt + 1 < RETRIES:
            sleep(2 ** attempt)
    if row and row.body is not None:
        return row.body
    raise InputError(f"could not fetch the upstream feed: {error}", where=url,
                     hint="check the URL and the network; the other sources were still published")
