"""Build every feed file of a publication: plan, render, and the files around the feeds.

``build_feeds`` plans the feeds (plan.py), renders RSS and Atom (xmlfeeds.py),
JSON Feed (jsonfeed.py), the OPML list, the XSL stylesheet and the pages
(pages.py), and returns one FeedOutput per feed with every file's bytes in
``contents``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..config import Publication
from ..records import Article, FeedOutput
from . import jsonfeed, opml, pages
from .plan import FeedPlan, plan_feeds, shortened
from .xmlfeeds import FILES, STYLESHEET, entry_id, output_path, public_url, render_xml

MAX_FEED_BYTES = 4_000_000       # per RSS / Atom file; older entries are left out beyond it, and counted


def _within_budget(pub: Publication, plan: FeedPlan) -> tuple[FeedPlan, dict[str, bytes]]:
    """Render, dropping the oldest entries while a file is over MAX_FEED_BYTES.

    The W3C validator refuses files over 5 MB and readers time out on them; one
    entry is at most MAX_BODY_BYTES (feedplan), so a few entries always fit.
    """
    xml = render_xml(pub, plan)
    while len(plan.articles) > 1 and max(map(len, xml.values())) > MAX_FEED_BYTES:
        share = MAX_FEED_BYTES / max(map(len, xml.values()))
        plan = shortened(plan, min(len(plan.articles) - 1, int(len(plan.articles) * share)) or 1)
        xml = render_xml(pub, plan)
    return plan, xml


def build_feeds(pub: Publication, articles: tuple[Article, ...] | list[Article],
                now: datetime,
                page_is_current: Callable[[str, Article], bool] | None = None) -> list[FeedOutput]:
    """Every feed of the publication as FeedOutputs, with the bytes of every file to write.

    ``articles`` are as the collector gives them (collect/sanitise.py made them
    fit for feeds: dated, titled, unique ids, no characters XML cannot carry).

    ``now`` is accepted for the stage contract; the output depends only on the
    articles and settings, so the same records give the same bytes at any time.
    The first FeedOutput also carries the publication-wide files: the OPML
    list, the XSL stylesheet, the site's index page and the article pages
    (less those ``page_is_current`` says are on disk as they would be rendered).
    """
    plans = plan_feeds(pub, articles)
    outputs: list[FeedOutput] = []
    for plan in plans:
        files = {kind: output_path(plan, kind) for kind in FILES}
        wanted = len(plan.articles)
        plan, xml = _within_budget(pub, plan)
        contents = {files["rss"]: xml["rss"], files["atom"]: xml["atom"],
                    files["json"]: jsonfeed.render(pub, plan, entry_id)}
        contents.update(pages.feed_pages(pub, plan, files))
        outputs.append(FeedOutput(
            name=plan.name, title=plan.title, language=plan.language, items=len(plan.articles),
            files=files, urls={k: public_url(pub.site, p) for k, p in files.items()},
            contents=contents, left_out=wanted - len(plan.articles)))
    if outputs:
        extra = {f"output/{STYLESHEET}": pages.stylesheet(pub),
                 opml.PATH: opml.render(pub, plans, outputs)}
        extra.update(pages.site_pages(pub, plans, tuple(articles), page_is_current))
        outputs[0].contents.update(extra)
    return outputs
