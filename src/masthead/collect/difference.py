"""The last collection patched: what a run does when a few article files changed since it was made.

A run after one new article would otherwise take every other file's articles
from the file cache and go over the whole publication again (links,
duplicates, first-seen dates), to find the same articles as the last run. Here
the collection kept by the last run (kept.py) is taken as it is, but for the
files added, changed or removed since: those are read, linked against every
article, dated and remembered, and the problems of the collection are those
the last run met in every other file, beside theirs.

The result is the collection a whole collect would give; where that cannot be
told without going over the whole publication, ``patch`` gives None and the
run collects whole:

- the last collection had duplicates or documents nothing links to (which the
  whole publication decides), or links checked against files that changed;
- settings, masthead's version or the feeds changed (a file's context);
- a changed file is not an article (a document, an unknown kind), or is one
  that links to another article or is linked to (links.py's ``entangled``);
- a new article is the same as one already collected (same id, URL, or
  title on the same day): which one is kept is for the whole collect to say;
- more than LIMIT files changed: reading them is most of the work anyway.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson

from ..config import Publication
from ..records import Article, Collection, Problem
from ..state import articles as known_articles
from ..state import filecache
from ..state.db import Store
from . import kept
from .cache import from_record
from .duplicates import title_key
from .links import link_local_files
from .parallel import Readers
from .reading import READERS, Reads, file_suffix, look_all, save_reads, take
from .sanitise import sanitise_articles

LIMIT = 64          # changed files beyond which the publication is collected whole

Found = list        # (FeedSettings, kept.Files) per feed, as gather lists them


def patch(pub: Publication, store: Store, now: datetime, stored: kept.Stored, found: Found,
          listing: kept.Listing, refused: list[Problem], reads: Reads,
          readers: Readers) -> tuple[Collection, kept.Makings, dict[str, list[int] | None]] | None:
    """The collection of ``found``, made from the last one and the files changed since; None when it cannot be.

    ``stored``: the last collection kept, as filecache.last_collection gives it; ``listing``: ``found``
    as the kept collection notes it, each feed with its context (kept.listing); ``refused``: the
    problems of listing the files; ``readers`` read the changed ones.
    """
    if stored is None:
        return None
    try:
        content = orjson.loads(stored[1])
        makings = kept.Makings.from_json(content["makings"]) if content.get("makings") else None
        looked: dict[str, list[int] | None] = dict(content["looked"])
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None
    if makings is None or makings.blocked or makings.feeds_dir != str(pub.feeds_dir):
        return None
    changed = _changed(makings, found, listing)
    if changed is None or not kept.as_they_were(looked.items()):
        return None
    with readers:
        outcome = _patched(pub, store, now, found, listing, refused, reads, readers, makings, looked, *changed)
    if outcome is None:                      # nothing was written: the whole collect starts clean
        reads.pending.clear()
        reads.folded.clear()
        if reads.records is not None:
            reads.records.clear()
    return outcome


def _changed(makings: kept.Makings, found: Found, listing: kept.Listing
             ) -> tuple[dict[str, list], set[str], set[str]] | None:
    """(per feed, the files added or changed; the origins removed; the origins of both), or None when
    patching cannot tell."""
    if len(makings.listing) != len(found):
        return None
    fresh: dict[str, list] = {}
    removed: set[str] = set()
    count = 0
    for (feed, files), (name, context, before), (_, now_context, _) in zip(found, makings.listing, listing,
                                                                          strict=True):
        if feed.name != name or now_context != context:
            return None
        if files == before:
            continue
        known = dict(before)
        new = [(origin, stamp) for origin, stamp in files if known.get(origin) != stamp]
        removed |= known.keys() - set(files.origins)
        count += len(new)
        if count + len(removed) > LIMIT:
            return None
        if any(READERS.get(file_suffix(os.path.basename(origin))) is None for origin, _ in new):
            return None
        if new:
            fresh[feed.name] = new
    if not fresh and not removed:
        return None                          # only the refused links, or the files links were checked against
    touched = removed | {origin for files in fresh.values() for origin, _ in files}
    return None if touched & makings.entangled else (fresh, removed, touched)


def _patched(pub: Publication, store: Store, now: datetime, found: Found, listing: kept.Listing,
             refused: list[Problem], reads: Reads, readers: Readers, makings: kept.Makings,
             looked: dict[str, list[int] | None], fresh: dict[str, list], removed: set[str],
             touched: set[str]) -> tuple[Collection, kept.Makings, dict] | None:
    # Read the changed files (a touched file of the same bytes comes from the file cache).
    contexts = {name: context for name, context, _ in listing}
    to_read: list[tuple] = []
    looked_up: dict[str, tuple[list[Article], list[Problem]]] = {}
    for name, files in fresh.items():
        looked_up.update(look_all(store, str(pub.root), name, contexts[name], files, reads, to_read, []))
    outcomes = readers.read_all(to_read)
    read: dict[str, tuple[list[Article], list[Problem]]] = {}
    for files in fresh.values():
        for origin, stamp in files:
            result = looked_up.get(origin)
            read[origin] = result if result is not None else take(origin, stamp, next(outcomes), reads)
    # The last collection's articles, but those of the files touched.
    records: dict[str, list[tuple[Article, list[Any]]]] = {}
    for record in kept.kept_records(store):
        article = from_record(record)
        if article.origin not in touched:
            records.setdefault(article.origin, []).append((article, record))
    order = [origin for _, files in found for origin in files.origins]
    new = [a for origin in order if origin in read for a in read[origin][0]]
    every = [a for origin in order for a in ([a for a, _ in records.get(origin, ())] if origin not in read
                                             else read[origin][0])]
    # A kept article's links cannot lead to a touched file (the entangled ones were refused above), and the
    # new ones' links are made here against every article, as the whole collect would.
    entangled = set(makings.entangled) - removed
    new_looked: dict[str, list[int] | None] = {}
    linked, link_problems = link_local_files(pub, new, new_looked, entangled, targets=every)
    if _same_as_kept(linked, records, reads):
        return None
    unique = [a for a in linked if not a.draft]
    # Nothing falls back to the whole collect past this point: remembering writes to the state.
    known = known_articles.remember(store, unique, now)
    dated = [a if a.published is not None else replace(a, published=known.first_seen[a.id], precision="second")
             for a in unique]
    clean, repairs = sanitise_articles(dated, repaired=True)   # none is dropped: all are dated, ids unique
    final = dict(zip(map(id, unique), clean, strict=True))
    made = {id(before): final.get(id(after), after) for before, after in zip(new, linked, strict=True)}
    articles: list[Article] = []
    drafts: list[Article] = []
    for origin in order:
        if origin in read:
            for article in read[origin][0]:
                made_article = made[id(article)]
                (drafts if made_article.draft else articles).append(made_article)
        else:
            for article, record in records.get(origin, ()):
                (drafts if article.draft else articles).append(article)
                if reads.records is not None:
                    reads.records[id(article)] = (article, record)
    save_reads(store, reads.pending)
    if removed:
        filecache.forget_others(store, order)
    file_problems = {o: p for o, p in makings.file_problems.items() if o not in touched}
    file_problems.update({o: r[1] for o, r in read.items() if r[1]})
    by_link = {o: p for o, p in makings.link_problems.items() if o not in touched}
    by_link.update(kept.by_file(link_problems))          # the new articles' files: every one touched
    problems = [*refused, *(p for o in order for p in file_problems.get(o, ())),
                *(p for o in order for p in by_link.get(o, ())),
                *(Problem(a.origin, note) for a in (*articles, *drafts) for note in a.problems), *repairs]
    looked.update(new_looked)
    return (Collection(articles=tuple(articles), problems=tuple(problems), new_ids=known.new_ids,
                       changed_ids=known.changed_ids, drafts=tuple(drafts)),
            kept.Makings(makings.feeds_dir, listing, file_problems, by_link, entangled, blocked=False), looked)


def _same_as_kept(new: list[Article], records: dict[str, list[tuple[Article, list[Any]]]], reads: Reads) -> bool:
    """Whether a new article has the id, URL, or title and day of another one (kept, or new too)."""
    fresh = [a for a in new if not a.draft]
    days = {a.published.date().toordinal() for a in fresh if a.published}
    ids: set[str] = set()
    urls: set[str] = set()
    titles: set[tuple[int, int]] = set()      # two titles of one hash: the whole collect tells them apart
    for pairs in records.values():
        for article, _ in pairs:
            if article.draft:
                continue
            ids.add(article.id)
            urls.add(article.url)
            if article.published and article.published.date().toordinal() in days:
                titles.add(title_key(article))
    for article in fresh:
        keys = [article.id in ids, article.url in urls]
        title = None
        if article.published:
            title = title_key(article, reads.folded)
            keys.append(title in titles)
        if any(keys):
            return True
        ids.add(article.id)
        urls.add(article.url)
        if title:
            titles.add(title)
    return False
