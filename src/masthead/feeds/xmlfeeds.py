"""Planned feeds -> RSS 2.0 and Atom 1.0 through feedgen.

This is the only module that imports feedgen.

feedgen 1.0.0 faults worked around here:
- entries are prepended by default: they are added with ``order='append'``
  after sorting newest first;
- the RSS channel <link> is the last link given: self and hub come first,
  the alternate link last;
- every timestamp defaults to now and <generator> carries feedgen's version:
  the feed's ``updated`` / lastBuildDate come from the entries, each entry's
  from the article, and the generator is plain "masthead";
- Atom entry links keep only ``href``: our entry class puts ``rel`` and
  ``type`` back and writes the enclosure links itself (every enclosure, with
  its type and length), so no second "alternate" link appears; RSS items get
  one <enclosure> (readers and the validator expect one): the first that is
  not a picture, else the picture;
- ``type='CDATA'`` is never used (invalid in Atom); content is escaped HTML;
- each field is escaped as its format wants: titles are plain text in RSS,
  Atom and JSON Feed; RSS ``description`` is HTML made from the plain-text
  summary (so ``<img onerror>`` in a summary stays text), Atom ``summary`` text;
- the syndication and media extensions are not loaded (``sy:UpdatePeriod``
  and an always-present ``media:group`` are invalid / warned); ``ttl`` is used;
- no per-entry ``xml:lang``, no RSS hub or archive links, no xml-stylesheet,
  no ``fh:archive``: our extensions add them.

Each document knows its place in the feed's history (``Place``): the current
document links its hubs and its newest archive page (prev-archive); an archive
page (archive.py) carries ``<fh:archive/>`` and links the current document,
the page before and the page after it.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from ..config import Publication, SiteSettings
from ..records import Article
from . import pages
from .content import entry_html
from .plan import FeedPlan

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FH_NS = "http://purl.org/syndication/history/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DC_CREATOR = f"{{{DC_NS}}}creator"
_DC_LANGUAGE = f"{{{DC_NS}}}language"
FILES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml",
         "json": "application/feed+json"}
STYLESHEET = "feed.xsl"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


def entry_id(article: Article, site: SiteSettings) -> str:
    """The id readers see: the article's own when it is a URI, else a urn:uuid made from it."""
    if _URI.match(article.id):
        return article.id
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{site.base_url}#id:{article.id}')}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where one document sits in its feed's history: folders under output/ (None: no such page)."""

    folder: str                  # this document's
    current: str                 # the current document's (the same for the current document)
    prev: str | None = None      # the archive page just older than this document
    next: str | None = None      # the archive page just newer (archive pages only)

    @property
    def archive(self) -> bool:
        return self.folder != self.current


def output_path(plan: FeedPlan, kind: str, folder: str | None = None) -> str:
    """Where a feed file goes, relative to the publication (e.g. output/ar-news/rss.xml)."""
    return f"output/{folder or plan.folder}/{FILES[kind]}"


def public_url(site: SiteSettings, path: str) -> str:
    """The public URL of a file under output/."""
    return site.base_url + pages.url_path(path.removeprefix("output/"))


class _FeedExtension(BaseExtension):
    """Adds the xml-stylesheet instruction and ``fh:archive``; in RSS also the links feedgen leaves out."""

    stylesheet: str = ""
    archive: bool = False
    rss_links: tuple[tuple[str, str], ...] = ()     # (rel, href) after the self link: hubs, history

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self.archive else {}

    def _head(self, root: etree._Element, parent: etree._Element) -> None:
        if self.stylesheet:
            root.addprevious(etree.ProcessingInstruction(
                "xml-stylesheet", f'href="{self.stylesheet}" type="text/xsl"'))
        if self.archive:
            parent.insert(0, etree.Element(f"{{{FH_NS}}}archive"))

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed[0]
        self._head(feed, channel)
        self_link = channel.find(f"{{{ATOM_NS}}}link")
        for rel, href in reversed(self.rss_links):
            link = etree.Element(f"{{{ATOM_NS}}}link", href=href, rel=rel)
            (self_link.addnext if self_link is not None else channel.append)(link)
        return feed

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        self._head(feed, feed)
        return feed


class _RssFeedExtension(_FeedExtension):
    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS, **super().extend_ns()}


class _Entry(FeedEntry):
    """One article's entry: feedgen's, plus what feedgen 1.0 leaves out of it.

    Atom: the article's link with its ``rel`` and ``type``, every enclosure
    as a link, the entry's ``xml:lang`` when it differs from the feed's; RSS:
    ``dc:creator``, ``dc:language`` and one enclosure. The link, the authors
    and the categories are put where feedgen puts them rather than given
    through its ``link()``, ``author()`` and ``category()``, whose format
    checks cost more than all the entry's other fields together. A subclass
    rather than a feedgen entry extension: no extension objects made and
    dispatched for every entry.
    """

    def __init__(self, article: Article, feed_language: str) -> None:
        super().__init__()
        self.article = article
        self.other_language = article.language if article.language != feed_language else None
        self.authors = [name for name in article.authors if name]
        self.tags = list(dict.fromkeys(article.tags))

    def atom_entry(self, extensions: bool = True) -> etree._Element:
        entry = super().atom_entry(extensions)      # id, title, updated, content, [summary], published
        a = self.article
        at = 3
        for name in self.authors:
            author = etree.Element("author")
            etree.SubElement(author, "name").text = name
            entry.insert(at, author)
            at += 1
        entry.insert(at + 1, etree.Element("link", href=a.url, rel="alternate", type="text/html"))
        at += 3 if a.summary else 2
        for tag in self.tags:
            entry.insert(at, etree.Element("category", term=tag))
            at += 1
        for enclosure in a.attachments:
            link = etree.SubElement(entry, "link", rel="enclosure", href=enclosure.url, type=enclosure.mime_type)
            if enclosure.length:
                link.set("length", str(enclosure.length))
        if self.other_language:
            entry.set(XML_LANG, self.other_language)
        return entry

    def rss_entry(self, extensions: bool = True) -> etree._Element:
        item = super().rss_entry(extensions)        # title, description, [content:encoded], guid, pubDate
        a = self.article
        link = etree.Element("link")
        link.text = a.url
        item.insert(1, link)
        if self.tags:
            at = next(i for i, child in enumerate(item) if child.tag == "guid") + 1
            for tag in self.tags:
                category = etree.Element("category")
                category.text = tag
                item.insert(at, category)
                at += 1
        for name in self.authors:
            etree.SubElement(item, _DC_CREATOR).text = name
        if self.other_language:
            etree.SubElement(item, _DC_LANGUAGE).text = self.other_language
        carried = a.media or a.attachments    # RSS readers take one enclosure: the audio of a podcast
        if carried:
            etree.SubElement(item, "enclosure", url=carried[0].url, length=str(carried[0].length),
                             type=carried[0].mime_type)
        return item


def _generator(pub: Publication, plan: FeedPlan, place: Place, bodies: Sequence[str]) -> FeedGenerator:
    site = pub.site
    fg = FeedGenerator()
    fg.register_extension("masthead_atom", _FeedExtension, atom=True, rss=False)
    fg.register_extension("masthead_rss", _RssFeedExtension, atom=False, rss=True)
    for ext in (fg.masthead_atom, fg.masthead_rss):
        ext.stylesheet = "../" * (place.folder.count("/") + 1) + STYLESHEET
        ext.archive = place.archive
    fg.id(public_url(site, output_path(plan, "atom")))
    fg.title(plan.title)
    fg.description(plan.description or plan.title)
    fg.language(plan.language)
    author = {"name": site.author_name}
    if site.author_email:
        author["email"] = site.author_email
    fg.author(author)
    if site.author_email:
        fg.managingEditor(f"{site.author_email} ({site.author_name})")
    fg.generator("masthead")
    fg.updated(plan.updated)
    fg.ttl(site.ttl)
    for article, content in zip(plan.articles, bodies, strict=True):  # newest first: append keeps that order
        fe = fg.add_entry(_Entry(article, plan.language), order="append")
        fe.id(entry_id(article, site))
        fe.title(article.title)                 # link, authors, categories: written by _Entry (see there)
        fe.published(article.published)
        fe.updated(article.updated)
        if article.summary:
            # RSS <description> is HTML (readers render it): the plain-text summary goes
            # in escaped once as HTML, then once more by the XML writer. Atom's
            # <summary> is type="text": the text as it is.
            fe.description(html.escape(article.summary, quote=False))
            fe.summary(article.summary)
        fe.content(content, type="html")
    return fg


def _links(pub: Publication, plan: FeedPlan, kind: str, place: Place) -> list[dict[str, str]]:
    """Self first, then hubs (current document) and history links, the alternate link last.

    RSS takes the last link as its <link>; feedgen writes only the self link as
    atom:link in RSS, so the RSS extension writes the ones between.
    """
    def url(folder: str) -> str:
        return public_url(pub.site, output_path(plan, kind, folder))
    links = [{"href": url(place.folder), "rel": "self", "type": TYPES[kind]}]
    if place.archive:
        links.append({"href": url(place.current), "rel": "current", "type": TYPES[kind]})
    else:
        links += [{"href": hub, "rel": "hub"} for hub in pub.site.hubs]
    for rel, folder in (("prev-archive", place.prev), ("next-archive", place.next)):
        if folder is not None:
            links.append({"href": url(folder), "rel": rel, "type": TYPES[kind]})
    links.append({"href": pages.home_url(pub.site, plan), "rel": "alternate", "type": "text/html"})
    return links


def render_xml(pub: Publication, plan: FeedPlan, place: Place | None = None,
               bodies: Sequence[str] | None = None) -> dict[str, bytes]:
    """RSS 2.0 and Atom 1.0 bytes for one document of a planned feed: {"rss": ..., "atom": ...}.

    ``place`` says which document: the current one (None) or an archive page.
    ``bodies`` is each entry's ``entry_html``, in the order of ``plan.articles``,
    when the caller made them already for the JSON Feed of the same document.
    """
    place = place or Place(plan.folder, plan.folder)
    fg = _generator(pub, plan, place, [entry_html(a) for a in plan.articles] if bodies is None else bodies)
    links = _links(pub, plan, "rss", place)
    fg.masthead_rss.rss_links = tuple((link["rel"], link["href"]) for link in links[1:-1])
    fg.link(links, replace=True)
    rss = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    fg.link(_links(pub, plan, "atom", place), replace=True)
    atom = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return {"rss": rss, "atom": atom}
