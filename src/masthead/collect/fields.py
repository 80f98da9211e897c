"""Explicit metadata (front matter, JSON records) -> RawEntry fields, with the same keys everywhere.

Accepted keys: id, title, url, date | published | date_published, updated |
date_modified, lang | language, author | authors, tags | categories, source,
photo_credit, publisher, summary, image (URL or {url, alt, width, height, type}),
slug. Unknown keys are reported, not fatal.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..records import Image

KNOWN = {
    "id", "title", "url", "date", "published", "date_published", "updated", "date_modified",
    "lang", "language", "author", "authors", "tags", "categories", "source", "photo_credit",
    "publisher", "summary", "image", "slug", "body", "content_html", "content_text", "html",
    "text", "draft",
}


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
