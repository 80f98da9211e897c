"""Digests: for each feed with a cadence, the newsletter of the latest complete period.

``make_digests(pub, store, articles, now)`` finds, per feed, the latest daily or
weekly period that ended before ``now`` in the site's time zone, picks the
articles published in it that no earlier digest of that feed held, renders
them once (templates + CSS inlining, digest_render.py) and records the digest
in the state. Its id is ``<feed>/<cadence>/<first day>``; running again for the
same period re-renders the recorded articles and so changes nothing.

The email must stay under Gmail's clipping limit: when the rendered message
would be too big, it shows fewer articles and links to the web copy, which
holds them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ..config import FeedSettings, Publication
from ..errors import ConfigError
from ..i18n import words_for
from ..records import Article, Digest, Problem, Recipient
from ..send import message as mail
from ..state.db import Store
from ..text import direction_of, summarise
from .render import (
    FONTS,
    ArticleView,
    article_view,
    inline_css,
    make_environment,
    period_label,
    render_subject,
    render_template,
)

# Gmail clips a message over about 102 KB; the sample message (placeholder
# recipient) must fit in this, which leaves room for longer real values.
MESSAGE_BUDGET = 100_000
CADENCE_DAYS = {"daily": 1, "weekly": 7}


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span [start, end) of whole local days."""

    cadence: str
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return self.end.date() - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DigestResult:
    """What the digest stage made, and notes about articles it had to change or drop parts of."""

    digests: tuple[Digest, ...]
    problems: tuple[Problem, ...] = ()


def latest_period(cadence: str, weekday: int, tz: ZoneInfo, now: datetime) -> Period:
    """The latest complete daily or weekly period that ended at or before ``now``, in ``tz``.

    Weekly periods start on ``weekday`` (0 = Monday).
    """
    if cadence not in CADENCE_DAYS:
        raise ValueError(f"no period for cadence {cadence!r}")
    end_day = now.astimezone(tz).date()
    if cadence == "weekly":
        end_day -= timedelta(days=(end_day.weekday() - weekday) % 7)
    start_day = end_day - timedelta(days=CADENCE_DAYS[cadence])
    return Period(cadence, datetime.combine(start_day, time(), tz), datetime.combine(end_day, time(), tz))


def digest_id(feed: str, period: Period) -> str:
    return f"{feed}/{period.cadence}/{period.first_day.isoformat()}"


def web_url(pub: Publication, did: str) -> str:
    """The public URL of a digest's web copy (output/ is served at the site's base URL)."""
    return f"{pub.site.base_url}digests/{did}.html"


def sample_recipient(pub: Publication, language: str) -> Recipient:
    """The placeholder reader of the sample .eml and of the size check (example.com, RFC 2606)."""
    name = "قارئ النشرة" if language.split("-")[0] == "ar" else "Sample Reader"
    token = "sample-token-" + "0" * 64
    return Recipient(email="reader@example.com", name=name,
                     unsubscribe_url=f"{pub.site.email.unsubscribe_url}?token={token}")


def make_digests(pub: Publication, store: Store, articles: tuple[Article, ...] | list[Article],
                 now: datetime) -> list[Digest]:
    """The digest of the latest complete period of every feed with a cadence (none when empty)."""
    return list(build_digests(pub, store, articles, now).digests)


def build_digests(pub: Publication, store: Store, articles: tuple[Article, ...] | list[Article],
                  now: datetime) -> DigestResult:
    """make_digests, with the notes about articles (e.g. an image left out) as Problems."""
    if any(f.digest.cadence != "off" for f in pub.feeds):
        _require_https_unsubscribe(pub)
    env = make_environment(pub)
    digests: list[Digest] = []
    problems: list[Problem] = []
    first_seen = {row["id"]: row["first_seen"] for row in store.db.execute("SELECT id, first_seen FROM articles")}
    for feed in pub.feeds:
        if feed.digest.cadence == "off":
            continue
        period = latest_period(feed.digest.cadence, feed.digest.weekday, pub.site.timezone, now)
        did = digest_id(feed.name, period)
        chosen = _select(store, pub, feed, period, did, articles, first_seen)
        if not chosen:
            continue
        digest, notes = render_digest(pub, env, feed, period, chosen)
        problems.extend(notes)
        _record(store, digest, now)
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


def _select(store: Store, pub: Publication, feed: FeedSettings, period: Period, did: str,
            articles: tuple[Article, ...] | list[Article], first_seen: dict[str, str]) -> list[Article]:
    """The period's articles of this feed (and those it includes) that no earlier digest held."""
    row = store.db.execute("SELECT article_ids FROM digests WHERE id = ?", (did,)).fetchone()
    names = {feed.name, *feed.include}
    candidates = [a for a in articles if a.feed in names]
    if row is not None:                          # made before: the same articles again
        recorded = set(json.loads(row["article_ids"]))
        chosen = [a for a in candidates if a.id in recorded]
    else:
        held: set[str] = set()
        for (ids,) in store.db.execute("SELECT article_ids FROM digests WHERE feed = ? AND id <> ?",
                                       (feed.name, did)):
            held.update(json.loads(ids))
        chosen = [a for a in candidates if a.id not in held
                  and period.start <= _when(a, first_seen, pub) < period.end]
    unique = {a.id: a for a in chosen}
    return sorted(unique.values(), key=lambda a: (_when(a, first_seen, pub), a.id), reverse=True)


def _when(article: Article, first_seen: dict[str, str], pub: Publication) -> datetime:
    """When the article counts as published: its date, else when the collector first saw it."""
    if article.published is not None:
        return article.published
    seen = first_seen.get(article.id)
    if seen:
        return datetime.fromisoformat(seen)
    return datetime.min.replace(tzinfo=pub.site.timezone)


@dataclass(frozen=True, slots=True)
class Edition:
    """Everything a digest's templates need except how many articles to show and for whom."""

    id: str
    subject: str
    context: dict[str, Any]            # site, feed, lang, dir, labels, period_label...
    views: tuple[ArticleView, ...]     # newest first
    web_url: str


def prepare_edition(pub: Publication, env: Any, feed: FeedSettings, period: Period,
                    chosen: list[Article]) -> tuple[Edition, list[Problem]]:
    """The template data of one digest (subject rendered), and notes about its articles."""
    did = digest_id(feed.name, period)
    language = feed.language
    views: list[ArticleView] = []
    problems: list[Problem] = []
    for article in chosen:
        view, notes = article_view(article, pub.site.timezone)
        views.append(view)
        problems.extend(Problem(where=article.origin or article.id, message=n) for n in notes)
    direction = direction_of(language)
    context: dict[str, Any] = {
        "site": {"title": pub.site.title, "url": pub.site.base_url, "description": pub.site.description,
                 "language": pub.site.language, "postal_address": pub.site.email.postal_address},
        "feed": {"name": feed.name, "title": feed.title, "description": feed.description,
                 "url": f"{pub.site.base_url}{feed.name}/"},
        "lang": language, "dir": direction, "labels": words_for(language), "font": FONTS[direction],
        "start": "right" if direction == "rtl" else "left", "end": "left" if direction == "rtl" else "right",
        "period_label": period_label(period.first_day, period.last_day, period.cadence, language),
        "cadence": period.cadence, "count": len(chosen), "first_title": chosen[0].title,
    }
    subject = render_subject(pub, env, feed.digest.subject, feed.name, context)
    context["preheader"] = summarise(" • ".join(view.title for view in views[:3]), 180)
    return Edition(did, subject, context, tuple(views), web_url(pub, did)), problems


def render_edition(pub: Publication, env: Any, edition: Edition, shown: int,
                   recipient: dict[str, str] | None) -> tuple[str, str]:
    """HTML (CSS inlined) and text showing the first ``shown`` articles.

    ``recipient`` holds name/email/unsubscribe_url (mail.py's placeholders for
    the email); None renders the public web copy, which names no one.
    """
    web = recipient is None
    values = recipient if recipient is not None else {
        "name": "", "email": "", "unsubscribe_url": ""}
    context = dict(edition.context, web=web, articles=edition.views[:shown], recipient=values,
                   digest={"id": edition.id, "subject": edition.subject,
                           "preheader": edition.context["preheader"], "web_url": edition.web_url,
                           "total": len(edition.views), "shown": shown,
                           "hidden": len(edition.views) - shown, "more_url": edition.web_url})
    html = inline_css(render_template(pub, env, "digest.html", context))
    return html, render_template(pub, env, "digest.txt", context)


PLACEHOLDER_VALUES = {"name": mail.NAME, "email": mail.EMAIL, "unsubscribe_url": mail.UNSUBSCRIBE_URL}


def render_digest(pub: Publication, env: Any, feed: FeedSettings, period: Period,
                  chosen: list[Article]) -> tuple[Digest, list[Problem]]:
    """Render ``chosen`` (newest first) once; the email shows as many as fit the size budget."""
    edition, problems = prepare_edition(pub, env, feed, period, chosen)
    web_html, web_text = render_edition(pub, env, edition, len(chosen), None)
    reader = sample_recipient(pub, feed.language)

    def attempt(shown: int) -> tuple[Digest, int]:
        html, text = render_edition(pub, env, edition, shown, PLACEHOLDER_VALUES)
        digest = Digest(id=edition.id, feed=feed.name, period_start=period.start, period_end=period.end,
                        subject=edition.subject, article_ids=tuple(a.id for a in chosen), html=html,
                        text=text, web_html=web_html, web_text=web_text, shown=shown)
        return digest, len(bytes(mail.build_message(pub, digest, reader, date=period.end)))

    shown = min(len(chosen), feed.digest.max_items)
    digest, size = attempt(shown)
    if size > MESSAGE_BUDGET and shown > 1:      # too big for Gmail: the largest count that fits
        low, high, best = 1, shown - 1, None
        while low <= high:
            middle = (low + high) // 2
            candidate, size = attempt(middle)
            if size <= MESSAGE_BUDGET:
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        digest = best or attempt(1)[0]
    return digest, problems


def _record(store: Store, digest: Digest, now: datetime) -> None:
    """Remember the digest and its articles; a digest already recorded stays as first made."""
    with store.transaction() as db:
        db.execute(
            "INSERT OR IGNORE INTO digests (id, feed, period_start, period_end, created, subject, article_ids)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (digest.id, digest.feed, digest.period_start.isoformat(), digest.period_end.isoformat(),
             now.isoformat(), digest.subject, json.dumps(list(digest.article_ids), ensure_ascii=False)),
        )


def created_at(store: Store, did: str) -> datetime | None:
    """When the digest was first made (the sample .eml's Date), or None."""
    row = store.db.execute("SELECT created FROM digests WHERE id = ?", (did,)).fetchone()
    return datetime.fromisoformat(row["created"]) if row else None
