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
    # One table per kind of key, keyed by the bare value: a large archive holds three keys per article.
    seen: dict[str, dict[object, Article]] = {"id": {}, "url": {}, "title": {}}
    place = places(articles)
    for article in articles:
        keys: list[tuple[str, object]] = [("id", article.id), ("url", article.url)]
        if article.published:
            keys.append(("title", title_key(article, folded)))
        same = next(((kind, seen[kind][value]) for kind, value in keys if value in seen[kind]), None)
        if same is not None:
            kind, first = same
            problems.append(Problem(place(article), f"the same article as {place(first)} (same {kind}): kept once"))
            continue
        for kind, value in keys:
            seen[kind][value] = article
        kept.append(article)
    return kept, problems


def title_key(article: Article, folded: Mapping[str, str] | None = None) -> tuple[str, int]:
    """What makes two dated articles the same by title: the folded title and the day (``article`` is dated)."""
    assert article.published is not None
    title = folded.get(article.title) if folded else None
    return (title if title is not None else fold_for_key(article.title), article.published.date().toordinal())
