"""HTML article pages: ``.html`` files in a feed's folder, and the pages a feed lists in ``pages``.

A page says what it is in three places, read in this order of trust:
schema.org JSON-LD (``NewsArticle``, ``Article``, ``BlogPosting``...), then
OpenGraph and ``article:*`` meta tags (extruct reads both), then the page
itself (``<html lang>``, ``<title>``, ``<link rel=canonical>``, ``<meta
name=author>``). The body is the article's text without menus, sidebars and
footers (trafilatura). Labelled lines at its end are read as in plain-text
articles (``المصدر: واس`` gives the source agency, ``تصوير: ...`` the photo
credit, ``بقلم: ...`` an author) and leave the body. A page without a date in
its metadata is dated by its prose, as a plain-text article is.

extruct and trafilatura are imported here, when a page is read, never at start-up:
together they take one to three seconds to import.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import lxml.html

from ..errors import InputError
from ..records import Image
from ..text import clean_meta, decode, html_to_text
from .plaintext import trailer
from .raw import RawEntry

ARTICLE_TYPES = frozenset({
    "NewsArticle", "Article", "BlogPosting", "ReportageNews", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "LiveBlogPosting", "TechArticle", "ScholarlyArticle",
    "Report", "SocialMediaPosting", "WebPage",
})
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.IGNORECASE)
_LEADING_HEADING = re.compile(r"^\s*<h([1-6])\b[^>]*>(.*?)</h\1>", re.DOTALL)
_PARAGRAPH_START = re.compile(r"<p\b")
_BLOCK_END = re.compile(r"(</(?:p|h[1-6]|li|ul|ol|blockquote|table|tr|figure|div|pre)>)\s+")
_LAST_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>\s*", re.DOTALL)
_TAG_SPLIT = re.compile(r"\s*[,،;؛]\s*")


def read_html_page(data: bytes, origin: str) -> list[RawEntry]:
    """The article of one HTML page; a page fetched from the web (``origin`` a URL) keeps its own URL and id."""
    import trafilatura
    from extruct.jsonld import JsonLdExtractor
    from extruct.opengraph import OpenGraphExtractor

    text = _decode(data, origin)
    try:
        tree = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise InputError(f"not a readable HTML page ({exc})", where=origin,
                         hint="check that it is a web page") from None
    ld = _article(_json_ld(JsonLdExtractor(), tree))
    meta = _open_graph(OpenGraphExtractor(), tree)
    fetched = origin.startswith(("http://", "https://"))
    body = trafilatura.extract(text, output_format="html", include_images=True, include_links=True,
                               include_tables=True, favor_recall=True, with_metadata=False) or ""
    title = clean_meta(_text(ld.get("headline") or ld.get("name")) or meta.get("og:title")
                       or _first(tree.xpath("//title/text()")))
    body, found = _body(body, title)
    problems: list[str] = []
    if not body.strip():
        problems.append("no article text found in the page: only its description is kept")
    page_url = _page_url(ld, meta, tree, origin) if fetched else None
    image = _image(ld, meta, page_url)
    authors = _names(ld.get("author")) or tuple(a for a in meta.get_all("article:author") if "://" not in a) \
        or tuple(a for a in _first(tree.xpath("//meta[@name='author']/@content")).split(",") if a.strip())
    authors += tuple(a for a in found.get("authors", ()) if a not in authors)
    published = _text(ld.get("datePublished")) or meta.get("article:published_time") or None
    return [RawEntry(
        origin=origin, key="", title=title, body_html=body,
        summary=_text(ld.get("description")) or meta.get("og:description")
        or _first(tree.xpath("//meta[@name='description']/@content")) or None,
        published=published, published_raw=published,
        updated=_text(ld.get("dateModified")) or meta.get("article:modified_time") or None,
        date_text=None if published else html_to_text(body),
        language=_language(ld, meta, tree),
        authors=tuple(a for a in (clean_meta(a) for a in authors) if a),
        tags=_keywords(ld.get("keywords")) or tuple(meta.get_all("article:tag")) or found.get("tags", ()),
        source=found.get("source"),
        photo_credit=found.get("photo_credit") or _image_credit(ld.get("image")),
        publisher=_names(ld.get("publisher"))[0] if fetched and _names(ld.get("publisher")) else None,
        image=image, url=page_url, id=page_url, upstream=fetched, base=page_url,
        problems=tuple(problems),
    )]


def _decode(data: bytes, origin: str) -> str:
    """UTF-8 first; else the charset the page declares; else decode()'s Windows-1256 rule (and its refusals)."""
    if b"\x00" in data or not data.strip():
        return decode(data, origin)[0]      # raises: binary or empty
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        declared = _CHARSET.search(data[:4096])
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"), errors="replace")
            except LookupError:
                pass
        return decode(data, origin)[0]


class _Meta(dict[str, str]):
    """OpenGraph and article:* properties: the first value of each, and every value on request."""

    def __init__(self, pairs: list[tuple[str, str]]):
        super().__init__()
        self.pairs = pairs
        for name, value in pairs:
            self.setdefault(name, value)

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name and value]


def _json_ld(extractor: Any, tree: Any) -> list[dict[str, Any]]:
    try:
        items = list(extractor.extract_items(tree))
    except (ValueError, TypeError):      # JSON-LD that is not JSON at all: the page still has meta tags
        return []
    flat: list[dict[str, Any]] = []
    for item in items:
        for one in item if isinstance(item, list) else [item]:
            if isinstance(one, dict):
                flat.append(one)
                flat += [g for g in one.get("@graph", []) if isinstance(g, dict)]
    return flat


def _article(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON-LD object describing the article (a WebPage only when nothing more precise is there)."""
    def types(item: dict[str, Any]) -> set[str]:
        kind = item.get("@type")
        return set(kind) if isinstance(kind, list) else {str(kind)}
    ranked = [i for i in items if types(i) & (ARTICLE_TYPES - {"WebPage"})] or \
             [i for i in items if "WebPage" in types(i)]
    return ranked[0] if ranked else {}


def _open_graph(extractor: Any, tree: Any) -> _Meta:
    pairs: list[tuple[str, str]] = []
    for item in extractor.extract_items(tree):
        pairs += [(str(k), str(v).strip()) for k, v in item.get("properties", [])]
    return _Meta(pairs)


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name") or ""
    return value.strip() if isinstance(value, str) else ""


def _first(values: list[Any]) -> str:
    return str(values[0]).strip() if values else ""


def _names(value: Any) -> tuple[str, ...]:
    """Names of a schema.org Person / Organization, a list of them, or plain strings."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip() and "://" not in name:
            names.append(name.strip())
    return tuple(names)


def _keywords(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    return tuple(k.strip() for k in value if isinstance(k, str) and k.strip())


def _language(ld: dict[str, Any], meta: _Meta, tree: Any) -> str | None:
    declared = _text(ld.get("inLanguage")) or meta.get("og:locale", "").replace("_", "-") \
        or str(tree.get("lang") or "").strip()
    return declared or None


def _page_url(ld: dict[str, Any], meta: _Meta, tree: Any, origin: str) -> str:
    for candidate in (_text(ld.get("url")), meta.get("og:url"),
                      _first(tree.xpath("//link[@rel='canonical']/@href"))):
        if candidate:
            absolute = urljoin(origin, candidate)
            if absolute.startswith(("http://", "https://")):
                return absolute
    return origin


def _image(ld: dict[str, Any], meta: _Meta, base: str | None) -> Image | None:
    value = ld.get("image")
    if isinstance(value, list):
        value = value[0] if value else None
    url, alt, width, height = "", "", None, None
    if isinstance(value, str):
        url = value
    elif isinstance(value, dict):
        url = _text(value.get("url") or value.get("contentUrl"))
        alt = _text(value.get("caption") or value.get("description"))
        width, height = _number(value.get("width")), _number(value.get("height"))
    if not url:
        url = meta.get("og:image", "")
        alt = alt or meta.get("og:image:alt", "")
        width, height = _number(meta.get("og:image:width")), _number(meta.get("og:image:height"))
    if not url:
        return None
    url = urljoin(base, url) if base else url
    return Image(url=url, alt=clean_meta(alt), width=width, height=height)


def _image_credit(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, dict):
        return None
    credit = _text(value.get("creditText")) or (_names(value.get("copyrightHolder")) or ("",))[0]
    return credit or None


def _number(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("@value")
    text = str(value or "").strip().removesuffix("px")
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else None


def _body(markup: str, title: str) -> tuple[str, dict[str, Any]]:
    """trafilatura's HTML without its <html><body>, without a leading headline that repeats the title,
    and without the labelled trailer lines at its end (returned as fields)."""
    inner = re.sub(r"(?s)^.*?<body[^>]*>|</body>.*$", "", markup).strip()
    inner = _BLOCK_END.sub(r"\1\n", inner)     # trafilatura indents its output: one block a line
    heading = _LEADING_HEADING.match(inner)
    if heading and clean_meta(html_to_text(heading.group(2))) == title:
        inner = inner[heading.end():].lstrip()
    found: dict[str, Any] = {}
    while True:
        starts = [m.start() for m in _PARAGRAPH_START.finditer(inner)]
        last = _LAST_PARAGRAPH.fullmatch(inner, starts[-1]) if starts else None
        field = trailer(clean_meta(html_to_text(last.group(1)))) if last else None
        if last is None or field is None or field[0] in found:
            break
        name, value = field
        if name == "author":
            found["authors"] = tuple(_TAG_SPLIT.split(value))
        elif name == "tags":
            found["tags"] = tuple(t for t in _TAG_SPLIT.split(value) if t)
        else:
            found[name] = value
        inner = inner[:last.start()].rstrip()
    return inner, found
