"""The job: collect -> feeds -> digests -> send, in that order, in one place.

Each stage is a plain function with explicit arguments; nothing is passed
through a shared dict. ``run`` returns a RunReport that the CLI prints (human
summary or --json) and that library users can inspect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from .collect import Progress, collect_publication
from .config import Publication
from .digest.edition import build_digests
from .digest.files import write_digest_files
from .feeds.incremental import Ledger, input_fingerprint, settings_fingerprint
from .feeds.pages import article_path
from .feeds.plan import sanitise_articles
from .feeds.xmlfeeds import build_feeds
from .records import Article, Collection, Digest, FeedOutput, Problem
from .send.delivery import DigestDelivery, deliver
from .send.smtp import smtp_settings
from .state.atomic import atomic_write, remove_stale_temps
from .state.db import Store, open_store
from .state.lock import publication_lock

MANIFEST = "output/manifest.json"


@dataclass(frozen=True, slots=True)
class RunReport:
    now: datetime
    collection: Collection
    feeds: tuple[FeedOutput, ...] = ()
    changed_files: tuple[str, ...] = ()      # written, relative to the publication
    removed_files: tuple[str, ...] = ()      # no longer made, so deleted from output/
    extra: dict[str, object] = field(default_factory=dict)
    feed_problems: tuple[Problem, ...] = ()  # repairs the feeds made (feedplan.sanitise_articles)
    digests: tuple[Digest, ...] = ()         # this run's digests (latest period of each feed)
    digest_problems: tuple[Problem, ...] = ()  # e.g. an image left out of a digest
    deliveries: tuple[DigestDelivery, ...] = ()  # per digest: recipients, sent, failed, ... (to_dict())

    @property
    def all_problems(self) -> tuple[Problem, ...]:
        return (*self.collection.problems, *self.feed_problems, *self.digest_problems)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(str(p) for p in self.all_problems)


def run(pub: Publication, *, now: datetime, wait: float = 0.0,
        progress: Progress | None = None) -> RunReport:
    """Run the whole job once for ``pub`` as if at ``now``.

    Holds the publication's lock throughout (LockedError after ``wait`` seconds
    when another run has it). ``progress(done, total, path)`` is called for each file collected.
    """
    with publication_lock(pub.state_dir, now, wait=wait), open_store(pub.state_dir) as store:
        remove_stale_temps(pub.output_dir)
        collection = collect_publication(pub, store, now, progress)
        changed: list[str] = []
        removed: list[str] = []
        # -- feeds (issue 3) --
        articles, feed_problems = sanitise_articles(collection.articles)
        feeds = _feeds(pub, store, articles, now, changed, removed)
        # -- digests (issue 4) --
        made = build_digests(pub, store, articles, now)
        digest_entries = []
        for digest in made.digests:
            entry, written = write_digest_files(pub, store, digest, now)
            digest_entries.append(entry)
            changed.extend(written)
        manifest = {"feeds": [_feed_entry(f) for f in feeds], "digests": digest_entries}
        if atomic_write(pub.root / MANIFEST, _json_bytes(manifest)):
            changed.append(MANIFEST)
        # -- sending (issue 5): last, once everything is published --
        deliveries = deliver(pub, store, made.digests, now=now, smtp=smtp_settings())
    return RunReport(now=now, collection=collection, feeds=feeds, changed_files=tuple(changed),
                     removed_files=tuple(removed), feed_problems=feed_problems, digests=made.digests,
                     digest_problems=made.problems, deliveries=deliveries)


def _feeds(pub: Publication, store: Store, articles: tuple[Article, ...], now: datetime,
           changed: list[str], removed: list[str]) -> tuple[FeedOutput, ...]:
    """Build and write the feeds, skipping what the last build already wrote."""
    ledger = Ledger(store, settings_fingerprint(pub))
    fingerprint = input_fingerprint(ledger.settings, articles)
    if ledger.unchanged(pub.root, fingerprint):
        previous = ledger.previous_feeds(pub.root)
        if previous is not None:
            return previous
    feeds = tuple(build_feeds(pub, articles, now,
                              lambda path, a: ledger.page_is_current(pub.root, path, a)))
    for feed in feeds:
        for path, content in feed.contents.items():
            if atomic_write(pub.root / path, content):
                changed.append(path)
    pages = {page: a for a in articles if (page := article_path(pub.site, a)) is not None}
    produced = {path for feed in feeds for path in feed.contents} | set(pages)
    stale = sorted(p for p in ledger.previous_files() - produced if p.startswith("output/"))
    for path in stale:  # an article deleted, a tag gone: its files leave the site too
        (pub.root / path).unlink(missing_ok=True)
        removed.append(path)
    ledger.record(fingerprint, feeds, pages, produced)  # after the disk holds what it describes
    return feeds


def _feed_entry(feed: FeedOutput) -> dict[str, object]:
    return {"name": feed.name, "title": feed.title, "language": feed.language,
            "items": feed.items, "files": dict(feed.files), "urls": dict(feed.urls)}


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
