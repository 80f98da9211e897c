"""The job: collect -> feeds -> digests -> (WebSub hubs told) -> send, in that order, in one place.

Each stage is a plain function with explicit arguments; nothing is passed
through a shared dict. ``run`` returns a RunReport that the CLI prints (human
summary or --json) and that library users can inspect. Settings from the
environment (the SMTP server, the signing key, the state database) are the
caller's to pass: the library reads no environment variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import orjson

from .collect import Progress, collect_publication
from .collect.cache import Bodies
from .config import Publication
from .digest.build import build_digests
from .digest.files import write_digest_files
from .feeds import websub
from .feeds.incremental import Written, write_feeds
from .records import Collection, Digest, FeedOutput, Paths, Problem
from .state import feedback, sends
from .state.atomic import Folders, atomic_write, remove_stale_temps
from .state.db import open_store
from .state.feedback import DigestNumbers
from .state.lock import publication_lock
from .state.private import secure_state

if TYPE_CHECKING:            # the mail code loads only when there is mail to send
    from .send.delivery import DigestDelivery
    from .send.smtp import SmtpSettings

MANIFEST = "output/manifest.json"
HELD = "left to the send workers by --no-send"


@dataclass(frozen=True, slots=True)
class RunReport:
    now: datetime
    collection: Collection                   # lean: bodies, summaries, slugs are not carried (collect.cache.Bodies)
    feeds: tuple[FeedOutput, ...] = ()
    changed_files: Sequence[str] = ()        # written, relative to the publication (records.Paths)
    removed_files: tuple[str, ...] = ()      # no longer made, so deleted from output/
    digests: tuple[Digest, ...] = ()         # this run's digests (latest period of each feed)
    digest_problems: tuple[Problem, ...] = ()  # e.g. an image left out of a digest
    feed_problems: tuple[Problem, ...] = ()    # e.g. two articles on one page path
    deliveries: tuple[DigestDelivery, ...] = ()  # per digest: recipients, sent, failed, ... (to_dict())
    smtp_configured: bool = False            # pending copies are a failure only when mail could go
    mail: tuple[DigestNumbers, ...] = ()     # each feed's latest digests: sent, bounced, complained, unsubscribed
    websub: tuple[websub.Notice, ...] = ()   # per hub and changed feed URL: what the hub said

    @property
    def websub_problems(self) -> tuple[Problem, ...]:
        """One problem per hub that did not take every changed feed URL."""
        problems = []
        for hub in dict.fromkeys(n.hub for n in self.websub):
            failed = [n for n in self.websub if n.hub == hub and not n.ok]
            if failed:
                problems.append(Problem(hub, f"WebSub hub did not take {len(failed)} of "
                                             f"{sum(n.hub == hub for n in self.websub)} changed feed URLs "
                                             f"({failed[0].error}); readers subscribed through it see the "
                                             "change at their next poll, and the next change notifies again"))
        return tuple(problems)

    @property
    def all_problems(self) -> tuple[Problem, ...]:
        return (*self.collection.problems, *self.feed_problems, *self.digest_problems, *self.websub_problems)

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(str(p) for p in self.all_problems)


def run(pub: Publication, *, now: datetime, wait: float = 0.0, progress: Progress | None = None,
        smtp: SmtpSettings | None = None, secret: bytes | None = None, database: str | None = None,
        send: bool = True) -> RunReport:
    """Run the whole job once for ``pub`` as if at ``now``.

    Holds the publication's lock throughout (LockedError after ``wait`` seconds
    when another run has it). ``progress(done, total, path)`` is called for each
    file collected. When feed files changed, the site's WebSub hubs are told
    (network: one POST per hub and changed feed URL; the report's ``websub``
    says what each answered). Digests go over ``smtp`` (None: nothing is sent, and the
    report says so), their links signed with ``secret`` (None: the key in the
    state folder). The state is in ``database`` (a PostgreSQL URL; None: the
    SQLite file in the state folder). ``send=False`` plans every copy and
    leaves the sending to send workers (``masthead send --worker``).
    """
    with open_store(pub.state_dir, database) as store, \
            publication_lock(pub.state_dir, now, wait=wait, store=store):
        secure_state(pub.state_dir)          # owner-only, whatever an older masthead or a umask left
        remove_stale_temps(pub.output_dir)
        collection = collect_publication(pub, store, now, progress, lean=True)
        bodies = Bodies(store)               # the articles come without bodies: read for what is rendered
        folders = Folders()                  # every folder written into: fsynced once, below
        written = write_feeds(pub, store, collection.articles, now, folders, fill=bodies.fill)
        changed: list[str] = []              # besides the feeds' (a large archive's pages: not copied)
        made = build_digests(pub, store, collection.articles, now, fill=bodies.fill)
        digest_entries = []
        for digest in made.digests:
            entry, files = write_digest_files(pub, store, digest, now, folders)
            digest_entries.append(entry)
            changed.extend(files)
        folders.sync(keep=pub.output_dir)    # what the manifest lists is on disk for sure...
        manifest = _json_bytes({"feeds": [_feed_entry(f) for f in written.feeds], "digests": digest_entries})
        if atomic_write(pub.root / MANIFEST, manifest, folders=folders):
            changed.append(MANIFEST)
        folders.sync()                       # ...then output/ with the manifest; the feeds build is recorded
        # once the feeds are on disk: hubs fetch them as soon as they hear
        notices = websub.publish(pub.site.hubs, changed_feed_urls(written)) if pub.site.hubs else ()
        # last, once everything is published
        deliveries: tuple[DigestDelivery, ...] = ()
        if made.digests or sends.pending_digest_ids(store):     # else deliver has nothing to plan nor send
            from .send.delivery import deliver
            deliveries = deliver(pub, store, made.digests, now=now, smtp=smtp, secret=secret,
                                 hold=None if send else HELD)
        recent = feedback.latest_digests(store, per_feed=2)
        mail = feedback.digest_numbers(store, recent + [d.digest_id for d in deliveries if d.digest_id not in recent])
    return RunReport(now=now, collection=collection, feeds=written.feeds, changed_files=Paths(written.changed, changed),
                     removed_files=written.removed, digests=made.digests, digest_problems=made.problems,
                     feed_problems=written.problems,
                     deliveries=deliveries, smtp_configured=smtp is not None and send, mail=tuple(mail),
                     websub=notices)


def changed_feed_urls(written: Written) -> list[str]:
    """The public URL of each current feed document (RSS, Atom, JSON Feed) this run wrote anew."""
    documents = {path for feed in written.feeds for path in feed.files.values()}
    changed = documents.intersection(written.changed)     # not a set of every page written
    return [feed.urls[kind] for feed in written.feeds for kind, path in feed.files.items() if path in changed]


def _feed_entry(feed: FeedOutput) -> dict[str, object]:
    return {"name": feed.name, "title": feed.title, "language": feed.language,
            "items": feed.items, "files": feed.files, "urls": feed.urls,
            "archives": [{"page": a.number, "items": a.items, "full": a.full, "files": a.files, "urls": a.urls}
                         for a in feed.archives]}


def _json_bytes(data: object) -> bytes:
    # What json.dumps(data, ensure_ascii=False, indent=2) + "\n" gives, byte for byte, in a thirtieth of the time.
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
