"""One digest issue: its template data, and its rendering within Gmail's size limit.

An Edition holds everything a digest's templates need. ``render_digest``
renders it once (templates + CSS inlining, render.py) with placeholders where
each reader's values go (send/message.py fills them per copy), plus the public
web copy that names no one. The email must stay under Gmail's clipping limit:
when the rendered message would be too big, it shows fewer articles and links
to the web copy, which holds them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import FeedSettings, Publication
from ..i18n import period_label, section, word
from ..records import Article, Digest, Problem, Recipient
from ..send import message as mail
from ..text import direction_of, summarise
from .periods import Period, digest_id
from .render import FONTS, ArticleView, article_view, inline_css, render_subject, render_template

# Gmail clips a message over about 102 KB; the sample message (placeholder
# recipient) must fit in this, which leaves room for longer real values.
MESSAGE_BUDGET = 100_000


def web_url(pub: Publication, did: str) -> str:
    """The public URL of a digest's web copy (output/ is served at the site's base URL)."""
    return f"{pub.site.base_url}digests/{did}.html"


def sample_recipient(pub: Publication, language: str) -> Recipient:
    """The placeholder reader of the sample .eml and of the size check (example.com, RFC 2606)."""
    name = word(language, "digest.sample_reader")
    token = "sample-token-" + "0" * 64
    return Recipient(email="reader@example.com", name=name,
                     unsubscribe_url=f"{pub.site.email.unsubscribe_url}?token={token}")


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
        "lang": language, "dir": direction, "font": FONTS[direction],
        "labels": {**section(language, "article"), **section(language, "digest")},
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


