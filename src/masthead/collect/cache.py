"""Articles to and from JSON, for the state's file cache and for `masthead inspect`.

The file cache and the kept collection (kept.py) hold articles as positional
records (``to_record``, ``from_record``); `masthead inspect` prints them as
objects (``article_to_dict``). The file cache keeps each article's text
(``body_html``, ``body_text``, ``summary``) and its ``slug`` (which only
normalising and templates read) apart from the rest of its record: a run
reads every record and only the text of the articles it renders
(``Bodies``). An article whose body links to the publication's own files
keeps its text in its record, since linking rewrites its body on every run;
so does one whose id another article of the same file shares.
"""

from __future__ import annotations

import operator
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import orjson

from ..records import Article, Enclosure, Image, LocalFile, Problem
from ..state import filecache
from ..state.db import Store
from ..text import relative_links
from .links import LINKING

_TUPLES = {"authors", "tags", "problems"}
_FIELDS = tuple(f.name for f in fields(Article))
_NESTED = {"image", "enclosures", "local_files"}
_SHARED = ("feed", "language", "direction", "precision")   # a few values shared by thousands of articles
_CREDITS = ("source", "photo_credit", "publisher")         # an agency or a photographer: shared by many
_NAMES = ("authors", "tags")
BATCH = 500                                                # file rows per query


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


# Positional records: the file cache and the kept collection hold each article as a JSON array of its
# fields in _FIELDS order (dates as ISO 8601, nested records as arrays), half the cost of a dict to read.
_AT = {name: i for i, name in enumerate(_FIELDS)}
_DATES_AT = (_AT["published"], _AT["updated"])
_TUPLES_AT = tuple(_AT[name] for name in _TUPLES)
_INTERNED_AT = tuple(_AT[name] for name in (*_SHARED, *_CREDITS))
_NAMES_AT = tuple(_AT[name] for name in _NAMES)
_ORIGIN_AT = _AT["origin"]
TEXT_AT = (_AT["title"], _AT["summary"])     # the text an article may hold for a whole run
_APART_AT = (_AT["body_html"], _AT["body_text"], _AT["summary"], _AT["slug"])   # what the cache may keep apart
_IMAGE_FIELDS = tuple(f.name for f in fields(Image))
_ENCLOSURE_FIELDS = tuple(f.name for f in fields(Enclosure))
_LOCAL_FIELDS = tuple(f.name for f in fields(LocalFile))
_IMAGE_AT, _ENCLOSURES_AT, _LOCAL_AT = _AT["image"], _AT["enclosures"], _AT["local_files"]
_DRAFT_AT, _DIRECTION_AT = _AT["draft"], _AT["direction"]
_fromiso = datetime.fromisoformat
MOMENTS = 4096          # dates made from their ISO text and shared, at most (datetimes are immutable)
_MOMENTS: dict[str, datetime] = {}
_intern = sys.intern
_new = object.__new__
_PUT = tuple(Article.__dict__[name].__set__ for name in _FIELDS)   # each slot's setter, past the frozen check
_every_field = operator.attrgetter(*_FIELDS)


def to_record(article: Article, *, body: bool = True) -> list[Any]:
    """The article as a positional record; ``body=False`` leaves its body, summary and slug out (null)."""
    values: list[Any] = list(_every_field(article))
    for at in _DATES_AT:
        values[at] = values[at].isoformat() if values[at] else None
    image = article.image
    if image:
        values[_AT["image"]] = [getattr(image, name) for name in _IMAGE_FIELDS]
    if article.enclosures:
        values[_AT["enclosures"]] = [[getattr(e, name) for name in _ENCLOSURE_FIELDS] for e in article.enclosures]
    if article.local_files:
        values[_AT["local_files"]] = [[getattr(f, name) for name in _LOCAL_FIELDS] for f in article.local_files]
    if not body:
        for at in _APART_AT:
            values[at] = None
    return values


def from_record(values: list[Any], origin: str | None = None) -> Article:
    """The article of ``to_record``; a record without its body, summary and slug gets empty ones.

    A large archive holds every article's record at once, so what many share
    is held once: the feed, language and the like, credits and names (an
    agency's name, a photographer's), dates (articles dated by the day share
    their moment, and an unchanged article's two dates are one), and
    ``origin`` (the file's path as its caller already holds it) when it is the
    article's.
    """
    values = list(values)       # the record itself stays as read (it may be written back)
    for at in _DATES_AT:
        written = values[at]
        if written:
            moment = _MOMENTS.get(written)
            if moment is None:
                moment = _fromiso(written)
                if moment.tzinfo is None:
                    raise ValueError(f"a cached date without its offset: {moment!r}")
                if len(_MOMENTS) >= MOMENTS:
                    _MOMENTS.clear()
                _MOMENTS[written] = moment
            values[at] = moment
    for at in _TUPLES_AT:
        values[at] = tuple(values[at])
    for at in _NAMES_AT:
        if values[at]:
            values[at] = tuple(_intern(name) for name in values[at])
    for at in _INTERNED_AT:
        value = values[at]
        if value:
            values[at] = _intern(value)
    if origin is not None and values[_ORIGIN_AT] == origin:
        values[_ORIGIN_AT] = origin
    for at in _APART_AT:
        if values[at] is None:
            values[at] = ""
    image = values[_IMAGE_AT]
    if image:
        values[_IMAGE_AT] = Image(*image)
    enclosures = values[_ENCLOSURES_AT]
    values[_ENCLOSURES_AT] = tuple(Enclosure(*e) for e in enclosures) if enclosures else ()
    local = values[_LOCAL_AT]
    values[_LOCAL_AT] = tuple(LocalFile(*f) for f in local) if local else ()
    values[_DRAFT_AT] = bool(values[_DRAFT_AT])
    if values[_DIRECTION_AT] not in ("ltr", "rtl"):
        raise ValueError(f"a cached direction that is neither ltr nor rtl: {values[_DIRECTION_AT]!r}")
    article = _new(Article)     # Article(*values) without its checks, made just above: a tenth of a read
    for put, value in zip(_PUT, values, strict=True):
        put(article, value)
    return article


def _body_apart(article: Article, shared_ids: set[str]) -> bool:
    """Whether the cache keeps this article's body, summary and slug apart from its record."""
    if article.id in shared_ids:
        return False
    return not (article.origin.endswith(LINKING) and relative_links(article.body_html))


def cache_entry(context: str, articles: Sequence[Article], problems: Sequence[Problem],
                keys: Sequence[str]) -> tuple[dict[str, Any], str]:
    """What the file cache keeps of one file: (its record, as ``decode`` gives it back; the JSON of the
    text kept apart, {id: [body_html, body_text, summary, slug]})."""
    counts = Counter(a.id for a in articles)
    shared = {i for i, n in counts.items() if n > 1}
    records = []
    bodies: dict[str, list[str]] = {}
    for article in articles:
        apart = _body_apart(article, shared)
        if apart:
            bodies[article.id] = [article.body_html, article.body_text, article.summary, article.slug]
        records.append(to_record(article, body=not apart))
    entry = {"context": context, "articles": records, "problems": [[p.where, p.message, p.fatal] for p in problems],
             "keys": list(keys)}
    return entry, orjson.dumps(bodies).decode()


def encode(entry: dict[str, Any]) -> str:
    return orjson.dumps(entry).decode()


def decode(text: str) -> dict[str, Any] | None:
    """A cache record read back; None when it is not one (written by something else: read the file again)."""
    try:
        entry = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return entry if isinstance(entry, dict) and "context" in entry else None


def from_cache_entry(entry: dict[str, Any], bodies: str | None, origin: str | None = None) -> list[Article]:
    """The articles of a cache record: with the text in ``bodies`` (its JSON), or lean when that is None
    (without the text kept apart).

    ``origin``: the file's path, held once for all of its articles (see ``from_record``).
    """
    records = entry["articles"]
    if bodies:
        apart = orjson.loads(bodies)
        whole = []
        for record in records:
            body = apart.get(record[_AT["id"]]) if record[_APART_AT[0]] is None else None
            if body is not None:
                record = list(record)        # the entry stays as read: it may be written back
                for at, value in zip(_APART_AT, body, strict=True):
                    record[at] = value
            whole.append(record)
        records = whole
    return [from_record(r, origin) for r in records]


def _with_body(article: Article, html: str, text: str, summary: str, slug: str) -> Article:
    """``replace(article, body_html=html, body_text=text, summary=summary, slug=slug)`` at a fraction of its
    cost."""
    values = dict(zip(_FIELDS, _every_field(article), strict=True))
    values["body_html"], values["body_text"], values["summary"], values["slug"] = html, text, summary, slug
    return Article(**values)


def _lean(article: Article) -> bool:
    return (not article.body_html and not article.body_text and not article.summary and not article.slug
            and bool(article.origin) and "://" not in article.origin)


class Bodies:
    """Gives articles of a lean collection their bodies, summaries and slugs back, from the file cache, a batch at
    a time: a large archive holds every article at once, but only renders some of them at a time."""

    def __init__(self, store: Store):
        self.store = store

    def fill(self, articles: Sequence[Article]) -> list[Article]:
        """``articles`` with their bodies, summaries and slugs; those that have them (or whose file keeps none apart
        for them) as they are."""
        wanted = sorted({a.origin for a in articles if _lean(a)})
        if not wanted:
            return list(articles)
        found: dict[str, dict[str, list[str]]] = {}
        for start in range(0, len(wanted), BATCH):
            for path, text in filecache.bodies_of(self.store, wanted[start:start + BATCH]).items():
                found[path] = orjson.loads(text) if text else {}
        out = []
        for article in articles:
            body = found.get(article.origin, {}).get(article.id) if _lean(article) else None
            out.append(article if body is None else _with_body(article, *body))
        return out
