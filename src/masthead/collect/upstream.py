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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from ..config import FetchSettings
from ..errors import InputError
from ..records import Enclosure, Image
from ..state import httpcache
from ..state.db import Store
from ..text import html_title
from .fields import media_type
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
    return read_parsed(parse_feed(data), origin)


def parse_feed(data: bytes) -> Any:
    """feedparser's reading of an RSS or Atom document, as masthead asks for it.

    Relative URLs are resolved by masthead (against xml:base, then the
    document's URL: see ``_entry``) and bodies sanitised by masthead:
    feedparser's own passes rewrite the HTML they touch, and cost half its time.
    """
    return feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)


def read_parsed(parsed: Any, origin: str) -> tuple[list[RawEntry], list[str]]:
    """Entries of a document parse_feed read, and problems with it."""
    if not parsed.entries and parsed.bozo:
        raise InputError(f"not a readable RSS or Atom feed: {parsed.bozo_exception}", where=origin,
                         hint="check that the source is a feed, not a web page")
    problems = [f"the feed is not well-formed XML ({parsed.bozo_exception}); read what could be read"] \
        if parsed.bozo else []
    language = parsed.feed.get("language")
    # A fetched feed's URL is its base; a file's is the site the feed says it is from.
    document = origin if origin.startswith(("http://", "https://")) else _http(parsed.feed.get("link"))
    entries = [_entry(e, origin, i, language, document) for i, e in enumerate(parsed.entries)]
    return entries, problems


def _http(url: object) -> str | None:
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def _join(base: str | None, url: str | None) -> str | None:
    """``url`` made absolute against ``base`` (when there is one); None for no URL."""
    url = (url or "").strip()
    if not url:
        return None
    try:
        return urljoin(base, url) if base else url
    except ValueError:  # an unparsable URL ("http://[::1"): left for normalise to refuse
        return url


def _entry(e: Any, origin: str, index: int, language: str | None, document: str | None) -> RawEntry:
    content = e.get("content") or []
    chosen = next((c for c in content if "html" in c.get("type", "")), content[0] if content else None)
    detail = chosen or e.get("summary_detail") or e.get("title_detail") or {}
    base = _join(document, detail.get("base")) or document   # xml:base in effect, then the document
    html = chosen.value if chosen is not None else e.get("summary")
    published_raw = e.get("published") or dict.get(e, "updated")
    title = e.get("title", "")
    if "html" in (e.get("title_detail") or {}).get("type", ""):
        title = html_title(title)   # <title type="html">, or an RSS title with markup: plain text
    link = e.get("link")
    if e.get("guidislink") and not str(link).startswith(("http://", "https://", "/")):
        link = None   # a <guid> that is no URL ("12345") is an id, not a link
    return RawEntry(
        origin=origin, key=e.get("id") or e.get("link") or str(index), title=title,
        body_html=html, summary=None, published=published_raw, published_raw=published_raw,
        # dict.get: feedparser maps a missing "updated" to "published" (for compatibility with its old versions)
        updated=dict.get(e, "updated") if e.get("published") else None,
        date_text=None, language=e.get("language") or language,
        authors=tuple(a.get("name", "") for a in e.get("authors", []) if a.get("name")),
        tags=tuple(t.get("term", "") for t in e.get("tags", []) if t.get("term")),
        source=(e.get("source") or {}).get("title"),
        image=_image(e, base), enclosures=_enclosures(e, base), url=_join(base, link), id=e.get("id"),
        upstream=True, base=base,
        fallback_published=_moment(e.get("published_parsed") or e.get("updated_parsed")),
        fallback_updated=_moment(dict.get(e, "updated_parsed")),
    )


def _moment(parsed: Any) -> datetime | None:
    """feedparser's reading of a date (a UTC time tuple) as an aware datetime."""
    try:
        return datetime(*tuple(parsed)[:6]).replace(tzinfo=UTC) if parsed else None
    except (TypeError, ValueError):
        return None


def _length(value: object) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 16 else 0


def _enclosures(e: Any, base: str | None) -> tuple[Enclosure, ...]:
    """RSS <enclosure> and Atom rel="enclosure" links, in order, with their length and type."""
    found = []
    for link in e.get("enclosures", []):
        url = _join(base, link.get("href"))
        if url:
            found.append(Enclosure(url=url, length=_length(link.get("length")),
                                   mime_type=str(link.get("type") or "").strip() or media_type(url)))
    return tuple(found)


def _image(e: Any, base: str | None) -> Image | None:
    """The item's picture: an image enclosure, else media:content, else media:thumbnail."""
    for link in e.get("enclosures", []):
        url = _join(base, link.get("href"))
        kind = str(link.get("type") or "").strip() or media_type(url or "")
        if url and kind.startswith("image/"):
            return Image(url=url, mime_type=kind, length=_length(link.get("length")))
    for media in e.get("media_content", []):
        url = _join(base, media.get("url"))
        kind = str(media.get("type") or "").strip() or media_type(url or "")
        if url and (kind.startswith("image/") or media.get("medium") == "image"):
            return Image(url=url, mime_type=kind if kind.startswith("image/") else "image/jpeg",
                         length=_length(media.get("filesize")), width=_size(media.get("width")),
                         height=_size(media.get("height")))
    for thumb in e.get("media_thumbnail", []):
        url = _join(base, thumb.get("url"))
        if url:
            return Image(url=url, mime_type=media_type(url) if media_type(url).startswith("image/") else "image/jpeg",
                         width=_size(thumb.get("width")), height=_size(thumb.get("height")))
    return None


def _size(value: object) -> int | None:
    return _length(value) or None


class StaleCopy(InputError):
    """An upstream that could not be reached this run; ``body`` is its last good copy, used instead."""

    def __init__(self, message: str, *, where: str, body: bytes):
        super().__init__(message, where=where)
        self.body = body


def fetch(url: str, store: Store, settings: FetchSettings, *, now: datetime | None = None,
          sleep: Callable[[float], None] = time.sleep) -> bytes:
    """The body at ``url``, fetched within ``settings`` (the site's ``[fetch]`` table).

    Fresh when it changed; the cached copy on 304. When the server cannot be
    reached within ``settings.deadline`` (all tries included) and a copy is
    kept: StaleCopy, carrying the copy and how old it is (``now`` less when it
    was last fetched), so that every run that could not refresh it says so.
    With a copy kept, a try that got no HTTP answer at all (refused, no DNS,
    timed out) is not repeated: the copy serves this run, the next run tries
    again. Nothing is kept until the whole body has arrived within
    ``settings.max_bytes``. InputError (naming the URL) when there is no body
    to give, and always when the fetch was refused: an address that is
    loopback, private or link-local (at connect time, redirects included) for
    a host not in ``settings.allow_hosts``, a redirect out of http(s), a body
    over max_bytes.
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
            if exc.status is None and row and row.body is not None:
                break
        else:
            if response.status == 304 and row and row.body is not None:
                httpcache.confirmed(store, url, now)
                return row.body
            if response.status == 200:
                httpcache.put(store, url, response.headers.get("ETag"), response.headers.get("Last-Modified"),
                              response.body, now)
                return response.body
            error = "HTTP 304 without a kept copy"
        pause = 2 ** attempt
        if attempt + 1 == RETRIES or time.monotonic() + pause >= deadline:
            break
        sleep(pause)
    if row and row.body is not None:
        raise StaleCopy(f"could not fetch it ({error}); {_age(row.fetched, now)} was used instead",
                        where=url, body=row.body)
    raise InputError(f"could not fetch the upstream feed: {error}", where=url,
                     hint="check the URL and the network; the other sources were still published")


def _age(fetched: datetime | None, now: datetime | None) -> str:
    """'the copy fetched 3 days ago', as precisely as the state knows it."""
    if fetched is None or now is None:
        return "the last copy fetched"
    seconds = max(0, int((now - fetched).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"the copy fetched {count} {unit}{'s' if count != 1 else ''} ago"
    return "the copy fetched moments ago"
