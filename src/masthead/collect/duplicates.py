"""One record per article: what the collector keeps of articles met twice."""

from __future__ import annotations

from collections.abc import Mapping

from ..records import Article, Problem
from ..text import fold_for_key
from .sanitise import places


def dedupe(articles: list[Article], folded: Mapping[str, str] | None = None) -> tuple[list[Article], list[Problem]]:
    """One record per article: the same id, the same URL, or the same title on the same day.

    ``folded`` may give titles' comparison keys (``fold_for_key``) already made.
    """
    kept: list[Article] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Article] = {}
    place = places(articles)
    for article in articles:
        keys = [("id", article.id), ("url", article.url)]
        if article.published:
            title = folded.get(article.title) if folded else None
            keys.append(("title", f"{title if title is not None else fold_for_key(article.title)}|"
                                  f"{article.published.date()}"))
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            problems.append(Problem(place(article), f"the same article as {place(first)} "
                                    f"(same {next(k[0] for k in keys if k in seen)}): kept once"))
            continue
        for key in keys:
            seen[key] = article
        kept.append(article)
    return kept, problems
