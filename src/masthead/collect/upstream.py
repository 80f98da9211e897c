"""Upstream feeds: RSS 2.0 and Atom 1.0 through feedparser, JSON Feed through jsonrecords.

URLs are fetched by ``fetch`` (bounded: see http.py), with conditional GET
(ETag / Last-Modified kept in the state's http_cache) and a few retries within
the source's deadline; an unreachable upstream is a problem for that source
only, and its last good copy is used when there is one. A fetch that must not
happen (an internal address, too big a body) is a problem with no fallback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import feedparser

from ..config import FetchSettings
from ..errors import InputError
from ..records import Image
from ..state import httpcache
from ..state.db import Store
from ..text import clean_meta
from .http import Failed, Refused, get
from .jsonrecords import is_json_feed, load_json, read_json_records
from .raw import RawEntry

USER_AGENT = "masthead (+https://github.com/masthead)"
RETRIES = 3
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
          "text/html;q=0.8, */*;q=0.5")


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


def fetch(url: str, store: Store, settings: FetchSettings, *,
          sleep: Callable[[float], None] = time.sleep) -> bytes:
    """The body at ``url``, fetched within ``settings`` (the site's ``[fetch]`` table).

    Fresh when it changed; the cached copy on 304, or when the server cannot
    be reached within ``settings.deadline`` (all tries included). Nothing is
    kept until the whole body has arrived within ``settings.max_bytes``.
    InputError (naming the URL) when there is no body to give, and always when
    the fetch was refused: an address that is loopback, private or link-local
    (at connect time, redirects included) for a host not in
    ``settings.allow_hosts``, a redirect out of http(s), a body over max_bytes.
    """
    row = httpcache.get(store, url)
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "identity"}
    if row and row.etag:
        headers["If-None-Match"] = row.etag
    if row and row.last_modified:
        headers["If-Modified-Since"] = row.last_modified
    deadline = time.monotonic() + settings.deadline
    error = ""
    for attempt in range(RETRIES):
        try:
            response = get(url, headers, settings, deadline)
        except Refused as exc:
            raise InputError(f"refused to fetch it: {exc}", where=url,
                             hint="the other sources were still published") from None
        except Failed as exc:
            error = str(exc)
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                break
        else:
            if response.status == 304 and row and row.body is not None:
                return row.body
            if response.status == 200:
                httpcache.put(store, url, response.headers.get("ETag"), response.headers.get("Last-Modified"),
                              response.body)
                return response.body
            error = "HTTP 304 without a kept copy"
        pause = 2 ** attempt
        if attempt + 1 == RETRIES or time.monotonic() + pause >= deadline:
            break
        sleep(pause)
    if row and row.body is not None:
        return row.body
    raise InputError(f"could not fetch the upstream feed: {error}", where=url,
                     hint="check the URL and the network; the other sources were still published")
