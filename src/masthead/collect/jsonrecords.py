"""JSON article records: one object, a list of objects, or {"articles": [...]}.

A JSON Feed file (``"version": "https://jsonfeed.org/version/1..."``) is an
upstream feed and goes to upstream.py instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

from ..errors import InputError
from ..text import decode
from . import fields
from .raw import RawEntry

_JSON_FEED = re.compile(r"^https?://jsonfeed\.org/version/")


def is_json_feed(data: Any) -> bool:
    """A JSON Feed document (version 1 and 1.1; early feeds wrote the version URL with http)."""
    return isinstance(data, dict) and bool(_JSON_FEED.match(str(data.get("version", ""))))


def load_json(data: bytes, origin: str) -> Any:
    text, _ = decode(data, origin)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg.removesuffix(' at')} at line {exc.lineno}, column {exc.colno}",
                         where=origin, hint="fix the JSON syntax there") from None
    except (ValueError, RecursionError) as exc:  # a number of over 4,300 digits, arrays nested too deep
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise InputError(f"not usable JSON: {reason}", where=origin,
                         hint="articles need plain objects, strings and short numbers") from None


def read_json_records(document: Any, origin: str) -> tuple[list[RawEntry], list[str]]:
    """Entries, and problems for records that could not be used (with their index)."""
    if is_json_feed(document) and isinstance(document.get("items"), list):
        records, prefix = document["items"], "items"
    elif isinstance(document, dict) and isinstance(document.get("articles"), list):
        records, prefix = document["articles"], "articles"
    elif isinstance(document, list):
        records, prefix = document, ""
    elif isinstance(document, dict):
        records, prefix = [document], None
    else:
        raise InputError("JSON of the wrong shape: expected an object, a list of objects, "
                         "or {\"articles\": [...]}", where=origin,
                         hint="see the README's JSON article format")
    entries: list[RawEntry] = []
    problems: list[str] = []
    for index, record in enumerate(records):
        # The caller puts the file's name in front: the label says which record.
        label = "" if prefix is None else f"{prefix}[{index}]: " if prefix else f"record [{index}]: "
        if not isinstance(record, dict):
            problems.append(f"{label}expected an object with 'title' and 'body', got {type(record).__name__}")
            continue
        base = None
        if prefix == "items":  # JSON Feed: its own keys, the feed's language as default
            record = {k: v for k, v in record.items() if k in fields.KNOWN or k == "external_url"}
            record.setdefault("language", document.get("language"))
            base = _feed_base(document, origin)
        entry = _record(record, origin, "" if prefix is None else str(index), base, prefix == "items")
        if isinstance(entry, str):
            problems.append(f"{label}{entry}")
        else:
            entries.append(entry)
    return entries, problems


def _feed_base(document: dict[str, Any], origin: str) -> str | None:
    """What relative URLs in a JSON Feed resolve against: where it was fetched, else its own URLs."""
    if origin.startswith(("http://", "https://")):
        return origin
    for key in ("feed_url", "home_page_url"):
        value = document.get(key)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return None


def _joined(base: str | None, url: str | None) -> str | None:
    if not (base and url):
        return url
    try:
        return urljoin(base, url.strip())
    except ValueError:
        return url


def _record(meta: dict[str, Any], origin: str, key: str, base: str | None = None,
            upstream: bool = False) -> RawEntry | str:
    """One entry from a record; ``upstream`` for a JSON Feed item, whose URLs may be relative to ``base``."""
    body_html = fields.text_value(meta, "content_html", "html")
    body_text = fields.text_value(meta, "body", "content_text", "text")
    title = fields.text_value(meta, "title")
    if not (body_html or body_text or title):
        return "the record has no 'title', 'body', 'content_html' or 'content_text'"
    for name in ("title", "body", "content_html", "content_text", "summary"):
        if name in meta and meta[name] is not None and not isinstance(meta[name], str):
            return f"key '{name}' must be a string, not {type(meta[name]).__name__}"
    published, raw = fields.date_value(meta, "date_published", "published", "date")
    updated, _ = fields.date_value(meta, "date_modified", "updated")
    image, image_problem = fields.image_value(meta)
    enclosures, enclosure_problem = fields.enclosures_value(meta)
    draft, draft_problem = fields.flag(meta, "draft")
    problems = fields.unknown_keys({k: v for k, v in meta.items() if k != "external_url"}) + tuple(
        p for p in (image_problem, enclosure_problem, draft_problem) if p)
    if upstream:
        if image is not None:
            image = replace(image, url=_joined(base, image.url) or image.url)
        enclosures = tuple(replace(e, url=_joined(base, e.url) or e.url) for e in enclosures)
    url = fields.text_value(meta, "url") or (fields.text_value(meta, "external_url") if upstream else None)
    return RawEntry(
        origin=origin, key=key, title=title or "", body_html=body_html, body_text=body_text,
        summary=fields.text_value(meta, "summary", "description"), published=published, published_raw=raw,
        updated=updated, date_text=None if published else (body_text or body_html),
        language=fields.text_value(meta, "language", "lang"),
        authors=fields.names(meta, "authors", "author"), tags=fields.names(meta, "tags", "categories"),
        source=fields.text_value(meta, "source"), photo_credit=fields.text_value(meta, "photo_credit"),
        publisher=fields.text_value(meta, "publisher"), image=image, enclosures=enclosures,
        url=_joined(base, url), id=fields.text_value(meta, "id"),
        slug=fields.text_value(meta, "slug"), problems=problems, draft=draft,
        upstream=upstream, base=base,
    )
