"""Articles to and from JSON, for the state's file cache and for `masthead inspect`."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from ..records import Article, Enclosure, Image, LocalFile

_TUPLES = {"authors", "tags", "problems"}


def article_to_dict(article: Article) -> dict[str, Any]:
    data = asdict(article)
    for key in ("published", "updated"):
        value = getattr(article, key)
        data[key] = value.isoformat() if value else None
    return data


def article_from_dict(data: dict[str, Any]) -> Article:
    values: dict[str, Any] = {f.name: data.get(f.name) for f in fields(Article)}
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
