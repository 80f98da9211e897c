"""Articles to and from JSON, for the state's file cache and for `masthead inspect`."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from ..records import Article, Enclosure, Image, LocalFile

_TUPLES = {"authors", "tags", "problems"}


_FIELDS = tuple(f.name for f in fields(Article))
_NESTED = {"image", "enclosures", "local_files"}


def _plain(value: Any) -> Any:
    """A nested record (Image, Enclosure, LocalFile) as a dict of its fields."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


def article_to_dict(article: Article) -> dict[str, Any]:
    """Every field of the article, JSON-ready (what dataclasses.asdict gives, without its deep copies)."""
    data = {name: getattr(article, name) for name in _FIELDS if name not in _NESTED}
    for key in ("published", "updated"):
        value = data[key]
        data[key] = value.isoformat() if value else None
    for key in _TUPLES:
        data[key] = list(data[key])
    data["image"] = _plain(article.image) if article.image else None
    data["enclosures"] = [_plain(e) for e in article.enclosures]
    data["local_files"] = [_plain(f) for f in article.local_files]
    return data


def article_from_dict(data: dict[str, Any]) -> Article:
    values: dict[str, Any] = {name: data.get(name) for name in _FIELDS}
    for key in ("published", "updated"):
        values[key] = datetime.fromisoformat(values[key]) if values[key] else None
    for key in _TUPLES:
        values[key] = tuple(values[key] or ())
    if values["image"]:
        values["image"] = Image(**values["image"])
    values["enclosures"] = tuple(Enclosure(**e) for e in values["enclosures"] or ())
    values["local_files"] = tuple(LocalFile(**f) for f in values["local_files"] or ())
    values["draft"] = bool(values["draft"])
    return Article(**values)
