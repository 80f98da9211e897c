"""RawEntry -> Article: dates, language, direction, ids, clean text.

The rules, in order of trust: explicit metadata, then what the text says, then
the feed's settings. Every guess that could be wrong is noted in ``problems``;
a note about one item of a feed names the item (its title, else its id).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urljoin, urlsplit

from ..config import FeedSettings, SiteSettings
from ..errors import InputError
from ..i18n import word
from ..records import Article, Enclosure, Image, Precision
from ..text import clean_meta, clean_prose, detect_language, direction_of, lead_text, split_name, summarise
from .body import body, image_alt
from .dates import at_noon, find_date
from .machinedates import parse_machine
from .raw import RawEntry

SUMMARY_LIMIT = 300
TITLE_LIMIT = 200
_LANG = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9._-]+")
# A date that ends in a word may carry a zone no one could read: feedparser takes those for UTC.
_WORD_AT_END = re.compile(r"[^\W\d_]{2,}[).]?\s*$")
# The content hash's JSON: json.dumps(shown, ensure_ascii=False) byte for byte, with one encoder for every article.
_SHOWN = json.JSONEncoder(ensure_ascii=False)


def normalise(raw: RawEntry, feed: FeedSettings, site: SiteSettings) -> Article:
    """Make one Article from ``raw``; InputError when nothing usable is there."""
    label = _label(raw)
    where = f"{raw.origin} ({label})" if label else raw.origin
    problems: list[str] = []
    body_html, body_text = body(raw.body_html, raw.body_text, raw.base, problems)
    language = _language(raw, feed, clean_meta(raw.title) + "\n" + body_text, problems)
    image = _image(raw, problems)
    enclosures = _enclosures(raw, problems)
    url = _url(raw, feed, site, problems)
    title = _title(raw, body_html, body_text, image, enclosures, url, language, problems, where)
    published, precision = _published(raw, site, language, problems)
    updated = _updated(raw, site, language, problems)
    lead = raw.summary or _first_paragraph(lead_text(body_html, body_text), title)
    summary = summarise(clean_prose(lead), SUMMARY_LIMIT)
    slug = _slug(raw, feed, published)
    url = url or f"{site.base_url}{feed.name}/{quote(slug)}.html"
    article_id = clean_meta(raw.id) or _uuid_id(site, feed, raw)
    authors = tuple(a for a in (clean_meta(a) for a in raw.authors) if a)
    tags = tuple(dict.fromkeys(t for t in (clean_meta(t) for t in raw.tags) if t))
    source = clean_meta(raw.source) or None
    photo_credit = clean_meta(raw.photo_credit) or None
    publisher = clean_meta(raw.publisher) or None
    # What readers see: an edit to any of it is a change (the id stays).
    shown = [title, url, str(published), str(updated), language, summary, body_html, authors, tags,
             source, photo_credit, publisher, image.url if image else None,
             [(e.url, e.length, e.mime_type) for e in enclosures], raw.draft]
    notes = [*raw.problems, *problems]
    return Article(
        id=article_id, feed=feed.name, title=title, url=url, published=published,
        updated=updated, precision=precision, language=language,
        direction=direction_of(language), summary=summary,
        body_html=body_html, body_text=body_text, authors=authors, tags=tags, source=source,
        photo_credit=photo_credit, publisher=publisher, image=image, enclosures=enclosures,
        origin=raw.origin, slug=slug,
        content_hash=hashlib.sha256(_SHOWN.encode(shown).encode()).hexdigest()[:16],
        problems=tuple(f"{label}: {note}" for note in notes) if label else tuple(notes), draft=raw.draft,
    )


def _label(raw: RawEntry) -> str:
    """How a note names one item of a file that holds many: its title, else its id ('' for one-article files)."""
    if not raw.key:
        return ""
    title = clean_meta(raw.title)
    if title:
        return f"item “{summarise(title, 60)}”"
    return f"item {summarise(clean_meta(raw.id) or raw.key, 80)}"


def _title(raw: RawEntry, body_html: str, body_text: str, image: Image | None, enclosures: tuple[Enclosure, ...],
           url: str | None, language: str, problems: list[str], where: str) -> str:
    """The title as given; else one made from the text, the picture's description, or a word for what it is."""
    title = clean_meta(raw.title)
    if title:
        if len(title) > TITLE_LIMIT:
            problems.append(f"title longer than {TITLE_LIMIT} characters: shortened")
            return summarise(title, TITLE_LIMIT)
        return title
    first = clean_meta(body_text.split("\n\n", 1)[0])
    alt = clean_meta(image_alt(body_html) or (image.alt if image else ""))
    if first:
        problems.append("no title: the first sentence of the text is used")
        return summarise(first, 100)
    if alt:
        problems.append("no title and no text: the picture's description is used as its title")
        return summarise(alt, 100)
    pictured = image is not None or "<img" in body_html or any(e.mime_type.startswith("image/") for e in enclosures)
    kind = "photo" if pictured else "attachment" if enclosures else "link" if url else ""
    if not kind:
        raise InputError("the article has no title, no text, no link and no picture", where=where,
                         hint="give it a title and a body")
    made = word(language, f"article.{kind}_title")
    problems.append(f"no title and no text: titled {made!r}")
    return made


def _first_paragraph(text: str, title: str) -> str:
    """The first paragraph that is not the title again (the lead line of a plain-text article is both)."""
    paragraphs = text.split("\n\n")
    head = title.rstrip(".")
    return next((p for p in paragraphs if clean_meta(p).rstrip(".") != head), paragraphs[0])


def _machine_date(value: object, written: str | None, fallback: datetime | None, raw: RawEntry,
                  site: SiteSettings, language: str) -> tuple[datetime, Precision] | None:
    """An explicit date, read; else feedparser's reading of it, unless it may hide a zone feedparser took for UTC."""
    parsed = parse_machine(value, UTC if raw.upstream else site.timezone, language)
    if parsed is not None:
        return parsed
    text = str(written or value)
    if fallback is not None and not _WORD_AT_END.search(text) and _plausible(fallback, text):
        return fallback, "second" if fallback.second else "minute"
    return None


def _plausible(moment: datetime, text: str) -> bool:
    """feedparser's reading agrees with the numbers written: its year, and its day (give or take the zone's day)."""
    numbers = {int(n) for n in re.findall(r"\d+", text)}
    year = moment.year in numbers or moment.year % 100 in numbers
    return year and bool(numbers & {(moment + timedelta(days=d)).day for d in (-1, 0, 1)})


def _published(raw: RawEntry, site: SiteSettings, language: str,
               problems: list[str]) -> tuple[datetime | None, Precision | None]:
    if raw.published is not None:
        parsed = _machine_date(raw.published, raw.published_raw, raw.fallback_published, raw, site, language)
        if parsed:
            return parsed
        hint = ("the time it was first collected is used" if raw.upstream else
                "write it as 2022-05-06 or 2022-05-06T09:30:00+03:00")
        problems.append(f"the date {str(raw.published_raw or raw.published)[:60]!r} cannot be read "
                        f"(an unknown time zone or format); {hint}")
        if raw.upstream:
            return None, None
    if raw.date_text:
        found = find_date(raw.date_text)
        if found:
            if found.weekday_mismatch:
                problems.append(f"the weekday in '{found.text}' does not match the date; the date was used")
            return at_noon(found.day, site.timezone), "day"
    if raw.published is None:
        problems.append("no date found: the time the article was first collected is used")
    return None, None


def _updated(raw: RawEntry, site: SiteSettings, language: str, problems: list[str]) -> datetime | None:
    if raw.updated is None:
        return None
    parsed = _machine_date(raw.updated, None, raw.fallback_updated, raw, site, language)
    if parsed is None:
        problems.append(f"'updated' {str(raw.updated)[:40]!r} cannot be read as a date: ignored")
        return None
    return parsed[0]


def _language(raw: RawEntry, feed: FeedSettings, text: str, problems: list[str]) -> str:
    declared = clean_meta(raw.language)
    if declared:
        if _LANG.match(declared):
            parts = declared.replace("_", "-").split("-")
            return "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
        problems.append(f"language {declared!r} is not a code such as 'ar' or 'en-GB': detected instead")
    return detect_language(text, feed.language)


def _slug(raw: RawEntry, feed: FeedSettings, published: datetime | None) -> str:
    if raw.slug:
        candidate = _SLUG_UNSAFE.sub("-", clean_meta(raw.slug).lower()).strip("-.")
        if candidate:
            return candidate
    if raw.origin.startswith(("http://", "https://")) or raw.key:
        digest = hashlib.sha256(f"{raw.origin}#{raw.id or raw.key}".encode()).hexdigest()[:10]
        day = published.strftime("%Y-%m-%d-") if published else ""
        return f"{day}{digest}"
    # The path inside the feed's folder (else the file's name) without its suffix, as text: no Path per file.
    folder = f"feeds/{feed.name}/"
    inside = raw.origin[len(folder):] if raw.origin.startswith(folder) else raw.origin.rpartition("/")[2]
    head, _, name = inside.rpartition("/")
    stem = ((head + "/" if head else "") + split_name(name)[0]).lower().replace("/", "-")
    return _SLUG_UNSAFE.sub("-", stem).strip("-.") or hashlib.sha256(stem.encode()).hexdigest()[:10]


def _url(raw: RawEntry, feed: FeedSettings, site: SiteSettings, problems: list[str]) -> str | None:
    """The article's own URL; None when it gets a page on the site.

    A relative URL in front matter or a JSON record is on the site; an upstream
    item's was resolved against its feed, and one still relative could not be.
    """
    if not raw.url:
        return None
    try:
        url = clean_meta(raw.url) if raw.upstream else urljoin(site.base_url, clean_meta(raw.url))
    except ValueError:  # cannot be parsed ("http://[::1")
        url = ""
    if _scheme(url) in ("http", "https"):
        return url
    problems.append(f"url {raw.url!r} is not an http(s) address: the site's own is used")
    return None


def _uuid_id(site: SiteSettings, feed: FeedSettings, raw: RawEntry) -> str:
    """A stable id from where the article lives, never from its content: edits keep it."""
    name = f"{site.base_url}#{feed.name}/{raw.origin}#{raw.key}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _scheme(url: str) -> str | None:
    """The URL's scheme, or None when it cannot be parsed at all ("http://[::1")."""
    try:
        return urlsplit(url).scheme
    except ValueError:
        return None


def _local(raw: RawEntry, url: str) -> bool:
    """A relative URL in an article file: a file beside it, resolved when the publication is collected."""
    return not raw.upstream and not raw.origin.startswith(("http://", "https://")) and _scheme(url) == ""


def _image(raw: RawEntry, problems: list[str]) -> Image | None:
    image = raw.image
    if image is None:
        return None
    if _scheme(image.url) not in ("http", "https") and not _local(raw, image.url):
        problems.append(f"image {image.url!r} is not an http(s) URL: left out")
        return None
    return image


def _enclosures(raw: RawEntry, problems: list[str]) -> tuple[Enclosure, ...]:
    kept = []
    for enclosure in raw.enclosures:
        if _scheme(enclosure.url) in ("http", "https") or _local(raw, enclosure.url):
            kept.append(enclosure)
        else:
            problems.append(f"enclosure {enclosure.url!r} is not an http(s) URL: left out")
    return tuple(dict.fromkeys(kept))
