"""Digests: for each feed with a cadence, the newsletter of the latest complete period.

``build_digests(pub, store, articles, now)`` finds, per feed, the latest daily
or weekly period that ended before ``now`` in the site's time zone, picks the
articles published in it that no earlier digest of that feed held, renders
them once (edition.py) and records the digest in the state. Running again for
the same period re-renders the recorded articles and so changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from ..config import FeedSettings, Publication
from ..errors import ConfigError
from ..records import Article, Digest, Fill, Problem
from ..state import digests as recorded
from ..state.db import Store
from .periods import Period, digest_id, latest_period


@dataclass(frozen=True, slots=True)
class DigestResult:
    """What the digest stage made, and notes about articles it had to change or drop parts of."""

    digests: tuple[Digest, ...]
    problems: tuple[Problem, ...] = ()


def build_digests(pub: Publication, store: Store, articles: tuple[Article, ...] | list[Article],
                  now: datetime, fill: Fill = list) -> DigestResult:
    """The digest of the latest complete period of every feed with a cadence (none when it is empty),
    with notes about articles (e.g. an image left out) as Problems. ``fill`` gives the chosen
    articles their bodies (a lean collection's)."""
    if any(f.digest.cadence != "off" for f in pub.feeds):
        _require_https_unsubscribe(pub)
    env = None                       # templates, CSS inliner: loaded for the first digest made
    digests: list[Digest] = []
    problems: list[Problem] = []
    for feed in pub.feeds:
        if feed.digest.cadence == "off":
            continue
        period = latest_period(feed.digest.cadence, feed.digest.weekday, pub.site.timezone, now)
        chosen = _select(store, feed, period, articles)
        if not chosen:
            continue
        from .edition import render_digest
        from .render import make_environment
        env = env or make_environment(pub)
        digest, notes = render_digest(pub, env, feed, period, fill(chosen))
        problems.extend(notes)
        recorded.record(store, digest, now)
        digests.append(digest)
    return DigestResult(tuple(digests), tuple(problems))


def _require_https_unsubscribe(pub: Publication) -> None:
    url = pub.site.email.unsubscribe_url
    if urlsplit(url).scheme != "https":
        raise ConfigError(
            f"key 'email.unsubscribe_url' must be an https URL when digests are on, not {url!r}",
            where="feeds/site.toml",
            hint="mail providers require an https List-Unsubscribe link; set [email] unsubscribe_url "
                 "(or base_url) to the https address where 'masthead serve' answers",
        )


def _select(store: Store, feed: FeedSettings, period: Period,
            articles: tuple[Article, ...] | list[Article]) -> list[Article]:
    """The period's articles of this feed (and those it includes) that no earlier digest held.

    Articles come from the collector, so each has a date (an undated one took
    the moment it was first collected).
    """
    did = digest_id(feed.name, period)
    names = {feed.name, *feed.include}
    candidates = [a for a in articles if a.feed in names and a.published is not None]
    made_with = recorded.articles_of(store, did)
    if made_with is not None:                    # made before: the same articles again
        chosen = [a for a in candidates if a.id in set(made_with)]
    else:
        held = recorded.held_by_others(store, feed.name, did)
        chosen = [a for a in candidates if a.id not in held
                  and a.published is not None and period.start <= a.published < period.end]
    unique = {a.id: a for a in chosen}
    return sorted(unique.values(), key=lambda a: (a.published, a.id), reverse=True)
