"""RawEntry -> Article: dates, language, direction, ids, clean text.

The rules, in order of trust: explicit metadata, then what the text says, then
the feed's settings. Every guess that could be wrong is noted in ``problems``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import quote, urljoin, urlsplit

from ..config import FeedSettings, SiteSettings
from ..errors import InputError
from ..records import Article, Image
from ..text import (
    clean_meta,
    clean_text,
    detect_language,
    direction_of,
    html_to_text,
    paragraphs_to_html,
    sanitise_html,
    summarise,
)
from .dates import at_noon, find_date, parse_machine
from .raw import RawEntry

MAX_BODY = 2_000_000        # characters of body kept; larger bodies are cut, with a note
MAX_DEPTH = 100             # element nesting kept as HTML; deeper bodies become plain paragraphs
SUMMARY_LIMIT = 300
TITLE_LIMIT = 200
_LANG = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def normalise(raw: RawEntry, feed: FeedSettings, site: SiteSettings) -> Article:
    """Make one Article from ``raw``; InputError when nothing usable is there."""
    where = raw.origin + (f" [{raw.key}]" if raw.key and not raw.key.startswith("http") else "")
    problems = list(raw.problems)
    body_html, body_text = _body(raw, problems)
    title = clean_meta(raw.title)
    if not title:
        first = body_text.split("\n\n", 1)[0] if body_text else ""
        if not first:
            raise InputError("the article has no title and no text", where=where,
                             hint="give it a title and a body")
        title = summarise(clean_meta(first), 100)
        problems.append("no title: the first sentence of the text is used")
    if len(title) > TITLE_LIMIT:
        title = summarise(title, TITLE_LIMIT)
        problems.append(f"title longer than {TITLE_LIMIT} characters: shortened")
    published, precision = _published(raw, site, problems)
    updated = None
    if raw.updated is not None:
        parsed = parse_machine(raw.updated, site.timezone)
        if parsed is None:
            problems.append(f"'updated' {raw.updated!s:.40} is not a date: ignored")
        else:
            updated = parsed[0]
    language = _language(raw, feed, title + "\n" + body_text, problems)
    summary = summarise(clean_meta(raw.summary or _first_paragraph(body_text, title)), SUMMARY_LIMIT)
    slug = _slug(raw, feed, published)
    url = _url(raw, feed, site, slug, problems)
    article_id = clean_meta(raw.id) or _uuid_id(site, feed, raw)
    image = _image(raw.image, problems)
    authors = tuple(a for a in (clean_meta(a) for a in raw.authors) if a)
    tags = tuple(dict.fromkeys(t for t in (clean_meta(t) for t in raw.tags) if t))
    source = clean_meta(raw.source) or None
    photo_credit = clean_meta(raw.photo_credit) or None
    publisher = clean_meta(raw.publisher) or None
    # What readers see: an edit to any of it is a change (the id stays).
    shown = [title, url, str(published), str(updated), language, summary, body_html, authors, tags,
             source, photo_credit, publisher, image.url if image else None]
    return Article(
        id=article_id, feed=feed.name, title=title, url=url, published=published,
        updated=updated, precision=precision, language=language,
        direction=direction_of(language), summary=summary,
        body_html=body_html, body_text=body_text, authors=authors, tags=tags, source=source,
        photo_credit=photo_credit, publisher=publisher, image=image, origin=raw.origin, slug=slug,
        content_hash=hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode()).hexdigest()[:16],
        problems=tuple(problems),
    )


def _body(raw: RawEntry, problems: list[str]) -> tuple[str, str]:
    if raw.body_html:
        source = raw.body_html
        if len(source) > MAX_BODY:
            source = source[:MAX_BODY]
            problems.append(f"body longer than {MAX_BODY:,} characters: cut")
        if _depth(source) > MAX_DEPTH:  # the sanitiser slows down sharply on such trees
            problems.append(f"HTML nested more than {MAX_DEPTH} levels deep: kept as plain text")
            source = paragraphs_to_html([p for p in html_to_text(source).split("\n\n") if p])
        safe = sanitise_html(source)
        if _has_active_content(source):
            problems.append("scripts, event handlers or javascript: links were removed from the body")
        return safe, html_to_text(safe)
    text = clean_text(raw.body_text or "")
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY]
        problems.append(f"body longer than {MAX_BODY:,} characters: cut")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return paragraphs_to_html(paragraphs), "\n\n".join(paragraphs)


_TAG = re.compile(r"<[^>]*>?")
_OPEN_CLOSE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "source", "area", "col",
                   "embed", "param", "track", "base"})


def _depth(markup: str) -> int:
    """How deeply the elements of ``markup`` nest (void and self-closed tags do not count)."""
    depth = deepest = 0
    for closing, name, self_closed in _OPEN_CLOSE.findall(markup):
        if closing:
            depth = max(0, depth - 1)
        elif not self_closed and name.lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest
_ACTIVE_ELEMENT = re.compile(r"<\s*(script|iframe|object|embed|applet)\b")
_HANDLER = re.compile(r"[\s/\"']on[a-z]+\s*=")
_SCRIPT_URL = re.compile(r"(javascript|vbscript):")
_BLANKS = re.compile(r"[\x00-\x20]+")


def _has_active_content(markup: str) -> bool:
    """True when a tag in ``markup`` holds a script, an event handler or a script URL.

    Only tags are looked at (entities decoded, blanks dropped from URLs), so prose
    or code samples that mention "javascript:" are not reported.
    """
    for tag in _TAG.findall(markup):
        text = html.unescape(tag).lower()
        if _ACTIVE_ELEMENT.match(text) or _HANDLER.search(text):
            return True
        if _SCRIPT_URL.search(_BLANKS.sub("", text)):
            return True
    return False


def _first_paragraph(body_text: str, title: str) -> str:
    paragraphs = body_text.split("\n\n")
    rest = [p for p in paragraphs if clean_meta(p).rstrip(".") != title.rstrip(".")]
    return (rest or paragraphs or [""])[0]


def _published(raw: RawEntry, site: SiteSettings, problems: list[str]):
    if raw.published is not None:
        parsed = parse_machine(raw.published, site.timezone)
        if parsed:
            return parsed
        problems.append(f"the date {raw.published_raw or raw.published!s:.60} is not a date "
                        "masthead can read; write it as 2022-05-06 or 2022-05-06T09:30:00+03:00")
    if raw.date_text:
        found = find_date(raw.date_text)
        if found:
            if found.weekday_mismatch:
                problems.append(f"the weekday in '{found.text}' does not match the date; the date was used")
            return at_noon(found.day, site.timezone), "day"
    problems.append("no date found: the time the article was first collected is used")
    return None, None


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
    path = PurePosixPath(raw.origin)
    inside = path.relative_to(f"feeds/{feed.name}") if raw.origin.startswith(f"feeds/{feed.name}/") \
        else PurePosixPath(path.name)
    stem = str(inside.with_suffix("")).lower().replace("/", "-")
    return _SLUG_UNSAFE.sub("-", stem).strip("-.") or hashlib.sha256(stem.encode()).hexdigest()[:10]


def _url(raw: RawEntry, feed: FeedSettings, site: SiteSettings, slug: str, problems: list[str]) -> str:
    if raw.url:
        try:
            url = urljoin(site.base_url, clean_meta(raw.url))
        except ValueError:  # cannot be parsed ("http://[::1")
            url = ""
        if _scheme(url) in ("http", "https"):
            return url
        problems.append(f"url {raw.url!r} is not an http(s) address: the site's own is used")
    return f"{site.base_url}{feed.name}/{quote(slug)}.html"


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


def _image(image: Image | None, problems: list[str]) -> Image | None:
    if image is None:
        return None
    if _scheme(image.url) not in ("http", "https"):
        problems.append(f"image {image.url!r} is not an http(s) URL: left out")
        return None
    return image
