"""Explicit metadata (front matter, JSON records) -> RawEntry fields, with the same keys everywhere.

Accepted keys: id, title, url, date | published | date_published, updated |
date_modified, lang | language, author | authors, tags | categories, source,
photo_credit, publisher, summary | description, image (URL or {url, alt, width,
height, type}), enclosures | attachments (each a URL or {url, length |
size_in_bytes, type | mime_type}), slug, draft. Unknown keys are reported, not fatal.
"""

from __future__ import annotations

import mimetypes
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from ..records import Enclosure, Image

KNOWN = {
    "id", "title", "url", "date", "published", "date_published", "updated", "date_modified",
    "lang", "language", "author", "authors", "tags", "categories", "source", "photo_credit",
    "publisher", "summary", "description", "image", "slug", "body", "content_html", "content_text",
    "html", "text", "draft", "enclosures", "attachments",
}
# Python's own table only (not the system's mime.types): the same answer on every machine.
_TYPES = mimetypes.MimeTypes()
for _type, _suffix in (("audio/mp4", ".m4a"), ("audio/ogg", ".ogg"), ("audio/opus", ".opus"),
                       ("audio/flac", ".flac"), ("image/webp", ".webp"), ("image/avif", ".avif"),
                       ("video/webm", ".webm"), ("audio/aac", ".aac")):
    _TYPES.add_type(_type, _suffix)


def media_type(url: str) -> str:
    """The MIME type a URL's file name suggests; application/octet-stream when it says nothing."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return "application/octet-stream"
    return _TYPES.guess_type(path, strict=False)[0] or "application/octet-stream"


def flag(meta: dict[str, Any], key: str) -> tuple[bool, str | None]:
    """A yes/no key (``draft: true``), and a note when its value is neither."""
    value = meta.get(key)
    if value in (None, False, "", "false", "no", "False", "No"):
        return False, None
    if value in (True, "true", "yes", "True", "Yes"):
        return True, None
    return False, f"key '{key}' must be true or false, not {value!r}: taken as false"


def enclosures_value(meta: dict[str, Any]) -> tuple[tuple[Enclosure, ...], str | None]:
    """``enclosures`` (or JSON Feed's ``attachments``): URLs, or tables with url, length and type."""
    value = next((meta[k] for k in ("enclosures", "attachments") if meta.get(k) not in (None, "", [])), None)
    if value is None:
        return (), None
    found = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item.strip():
            found.append(Enclosure(url=item.strip(), mime_type=media_type(item.strip())))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("url"), str) or not item["url"].strip():
            return (), "key 'enclosures': each must be a URL or a table with 'url' (and length, type)"
        url = item["url"].strip()
        length = item.get("length", item.get("size_in_bytes", 0))
        kind = item.get("type", item.get("mime_type"))
        if isinstance(length, bool) or not isinstance(length, (int, str)) or not str(length or 0).isdigit():
            return (), "key 'enclosures': 'length' must be a whole number of bytes"
        found.append(Enclosure(url=url, length=int(length or 0),
                               mime_type=str(kind).strip() if kind else media_type(url)))
    return tuple(found), None


def text_value(meta: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool):  # YAML 1.1: `lang: no` arrives as False
            return "no" if value is False else "yes"
        if isinstance(value, (str, int, float)):
            return str(value)
    return None


def date_value(meta: dict[str, Any], *keys: str) -> tuple[Any, str | None]:
    for key in keys:
        value = meta.get(key)
        if value not in (None, ""):
            raw = value.isoformat() if isinstance(value, date) else str(value)
            return value, raw
    return None, None


def names(meta: dict[str, Any], *keys: str) -> tuple[str, ...]:
    for key in keys:
        value = meta.get(key)
        if value in (None, "", []):
            continue
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, dict):
                item = item.get("name") or item.get("email") or ""
            if isinstance(item, (str, int, float)) and str(item).strip():
                out.append(str(item).strip())
        return tuple(out)
    return ()


def image_value(meta: dict[str, Any]) -> tuple[Image | None, str | None]:
    value = meta.get("image")
    if value in (None, ""):
        return None, None
    if isinstance(value, str):
        return Image(url=value.strip()), None
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        try:
            return Image(
                url=value["url"].strip(), alt=str(value.get("alt", "")),
                mime_type=str(value.get("type", "image/jpeg")),
                length=int(value.get("length", 0)),
                width=int(value["width"]) if value.get("width") else None,
                height=int(value["height"]) if value.get("height") else None,
            ), None
        except (TypeError, ValueError):
            return None, "key 'image': width, height and length must be whole numbers"
    return None, "key 'image' must be a URL or a table with 'url' (and alt, width, height)"


def unknown_keys(meta: dict[str, Any]) -> tuple[str, ...]:
    extra = sorted(str(k) for k in meta if k not in KNOWN)
    if not extra:
        return ()
    return (f"unknown key(s) {', '.join(extra)} ignored; the README lists the keys masthead reads",)
