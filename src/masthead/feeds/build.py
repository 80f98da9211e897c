"""Build every feed file of a publication: plan, render, and the files around the feeds.

``build_feeds`` plans the feeds (plan.py), shelves what the current documents
no longer hold on archive pages (archive.py), renders RSS and Atom
(xmlfeeds.py), JSON Feed (jsonfeed.py), the OPML list, the XSL stylesheet and
the pages (pages.py), and returns one FeedOutput per feed with every file's
bytes in ``contents``, or hands each file to a sink as it is rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ..config import Publication
from ..records import ArchivePage, Article, FeedOutput, Fill
from . import archive, jsonfeed, opml, pages
from .content import entry_html
from .plan import FeedPlan, plan_feeds, with_entries
from .xmlfeeds import FILES, STYLESHEET, Place, entry_id, output_path, public_url, render_xml

MAX_FEED_BYTES = 4_000_000       # per RSS / Atom file; older entries go to the archive beyond it, and are counted

Sink = Callable[[str, bytes], None]                # (path relative to the publication, bytes): one file
Shelved = Mapping[str, Sequence[Sequence[str]]]    # feed name -> ids on each archive page, oldest page first
WEIGH_BATCH = 100                                  # articles weighed (given their bodies) at a time


def _weight(article: Article) -> int:
    """A generous guess of an entry's bytes in an RSS or Atom file (its HTML is escaped there)."""
    return 2 * (len(entry_html(article).encode()) + len(article.summary.encode())) + 2048


def _weigher(members: Sequence[Article], fill: Fill) -> Callable[[Article], int]:
    """``_weight`` of any of ``members``, bodies read as needed: while shelving walks the feed article by
    article (a first run shelves them all, oldest first) the next ones are read ahead, a batch at a time."""
    weights: dict[str, int] = {}
    position = {a.id: i for i, a in enumerate(members)}
    last = -2

    def weigh(article: Article) -> int:
        nonlocal last
        at = position[article.id]
        if article.id not in weights:
            if at == last - 1:
                ahead = members[max(0, at - WEIGH_BATCH + 1):at + 1]
            elif at == last + 1:
                ahead = members[at:at + WEIGH_BATCH]
            else:
                ahead = [article]
            weights.update((a.id, _weight(a)) for a in fill([a for a in ahead if a.id not in weights]))
        last = at
        return weights[article.id]
    return weigh


def render_document(pub: Publication, doc: FeedPlan, place: Place, older: str | None,
                    fill: Fill = list) -> dict[str, bytes]:
    """RSS, Atom and JSON Feed bytes of one document, each entry's HTML made once for the three."""
    doc = replace(doc, articles=tuple(fill(doc.articles)))
    bodies = [entry_html(a) for a in doc.articles]
    xml = render_xml(pub, doc, place, bodies)
    return {**xml, "json": jsonfeed.render(pub, doc, entry_id, place.folder, older, bodies)}


def _current(pub: Publication, plan: FeedPlan, shelved: Sequence[Sequence[str]], fill: Fill
             ) -> tuple[FeedPlan, dict[str, bytes], tuple[archive.Shelf, ...], int]:
    """The current document's entries and bytes, the archive pages behind it, and how many the cap moved.

    The current document keeps the newest ``limit`` entries not yet shelved,
    fewer while a file would pass MAX_FEED_BYTES (the W3C validator refuses
    files over 5 MB and readers time out on them): the ones it cannot hold go
    to the archive, so no entry is ever lost.
    """
    members = plan.articles + plan.older
    weigh = _weigher(members, fill)
    keep = None
    wanted = None
    while True:
        entries, shelves = archive.shelve(members, plan.limit, shelved, keep, weigh, MAX_FEED_BYTES)
        wanted = len(entries) if wanted is None else wanted
        doc = with_entries(plan, entries)
        newest = archive.folder(plan.folder, shelves[-1].number) if shelves else None
        files = render_document(pub, doc, Place(plan.folder, plan.folder, prev=newest), newest, fill)
        biggest = max(len(files["rss"]), len(files["atom"]))
        if len(entries) <= 1 or biggest <= MAX_FEED_BYTES:
            return doc, files, shelves, wanted - len(entries)
        keep = min(len(entries) - 1, int(len(entries) * MAX_FEED_BYTES / biggest)) or 1


def _archive_pages(pub: Publication, plan: FeedPlan, shelves: tuple[archive.Shelf, ...],
                   is_current: Callable[[str, str], bool] | None, emit: Sink, fill: Fill) -> list[ArchivePage]:
    """Each archive page as the manifest lists it; the bytes of those not already on disk as they would be
    go to ``emit`` one page at a time."""
    listed = []
    for shelf in shelves:
        here = archive.folder(plan.folder, shelf.number)
        older = archive.folder(plan.folder, shelf.number - 1) if shelf.number > 1 else None
        newer = None if shelf.newest else archive.folder(plan.folder, shelf.number + 1)
        files = {kind: output_path(plan, kind, here) for kind in FILES}
        key = shelf.key()
        listed.append(ArchivePage(number=shelf.number, items=len(shelf.articles), full=not shelf.newest,
                                  files=files, urls={k: public_url(pub.site, p) for k, p in files.items()},
                                  ids=shelf.ids, key=key))
        if is_current is not None and is_current(files["rss"], key):
            continue
        doc = with_entries(plan, shelf.articles)
        if not shelf.articles:          # the newest page, just opened: as recent as the archive behind it
            doc = replace(doc, updated=max((with_entries(plan, s.articles).updated for s in shelves),
                                           default=plan.updated))
        made = render_document(pub, doc, Place(here, plan.folder, prev=older, next=newer), older, fill)
        for kind in FILES:
            emit(files[kind], made[kind])
    return listed


def build_feeds(pub: Publication, articles: tuple[Article, ...] | list[Article],
                now: datetime,
                page_is_current: Callable[[str, Article], bool] | None = None, *,
                shelved: Shelved | None = None,
                archive_is_current: Callable[[str, str], bool] | None = None,
                sink: Sink | None = None, fill: Fill = list,
                owners: Mapping[str, Article] | None = None) -> list[FeedOutput]:
    """Every feed of the publication as FeedOutputs, with the bytes of every file to write.

    ``articles`` are as the collector gives them (collect/sanitise.py made them
    fit for feeds: dated, titled, unique ids, no characters XML cannot carry).

    ``now`` is accepted for the stage contract; the output depends only on the
    articles, settings and ``shelved`` (which article the last run put on
    which archive page; none: a first run), so the same records give the same
    bytes at any time. The first FeedOutput also carries the publication-wide
    files: the OPML list, the XSL stylesheet, the site's index page and the
    article pages (less those ``page_is_current`` says are on disk as they
    would be rendered). Archive pages for which ``archive_is_current(path,
    key)`` holds are listed but not rendered again.

    With a ``sink``, each file goes to ``sink(path, bytes)`` as soon as it is
    rendered, in the order ``contents`` would list them, and ``contents``
    stays empty: a run over a large archive never holds every page at once.

    ``fill`` gives articles their bodies (``collect.cache.Bodies.fill`` for a
    lean collection's); it is asked only for the articles rendered, a batch
    at a time, and what it returns is dropped once they are. ``owners`` is
    ``pages.claim_pages``'s answer for these articles, when the caller has it.
    """
    plans = plan_feeds(pub, articles)
    outputs: list[FeedOutput] = []
    for number, planned in enumerate(plans):
        contents: dict[str, bytes] = {}
        emit = sink or contents.__setitem__
        files = {kind: output_path(planned, kind) for kind in FILES}
        plan, made, shelves, moved = _current(pub, planned, (shelved or {}).get(planned.name, ()), fill)
        for kind in FILES:
            emit(files[kind], made[kind])
        for path, content in pages.feed_pages(pub, plan, files, fill).items():
            emit(path, content)
        listed = _archive_pages(pub, plan, shelves, archive_is_current, emit, fill)
        outputs.append(FeedOutput(
            name=plan.name, title=plan.title, language=plan.language, items=len(plan.articles),
            files=files, urls={k: public_url(pub.site, p) for k, p in files.items()},
            contents=contents, archives=tuple(listed), left_out=moved))
        if number == 0:      # the publication-wide files go with the first feed, after its own
            emit(f"output/{STYLESHEET}", pages.stylesheet(pub))
            emit(opml.PATH, opml.render(pub, plans, [public_url(pub.site, output_path(p, "rss")) for p in plans]))
            for path, content in pages.each_site_page(pub, plans, tuple(articles), page_is_current, fill,
                                                      owners):
                emit(path, content)
    return outputs
