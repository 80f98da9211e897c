"""One record per article: what the collector keeps of articles met twice."""

from __future__ import annotations

from collections.abc import Mapping

from ..records import Article, Problem
from ..text import fold_for_key
from .sanitise import places


def dedupe(articles: list[Article], folded: Mapping[str, int] | None = None) -> tuple[list[Article], list[Problem]]:
    """One record per article: the same id, the same URL, or the same title on the same day.

    ``folded`` may give the hashes of titles' comparison keys already made (see ``title_key``).
    """
    kept: list[Article] = []
    problems: list[Problem] = []
    # One table per kind of key, keyed by the bare value (titles by day, then their key's hash): a
    # large archive holds three keys per article, and no key object of its own for any of them.
    ids: dict[str, Article] = {}
    urls: dict[str, Article] = {}
    titles: dict[int, dict[int, Article]] = {}
    place = places(articles)
    for article in articles:
        first, kind = ids.get(article.id), "id"
        if first is None:
            first, kind = urls.get(article.url), "url"
        if article.published:
            title, day = title_key(article, folded)
            same_day = titles.setdefault(day, {})
            if first is None:
                first, kind = same_day.get(title), "title"
                if first is not None and fold_for_key(first.title) != fold_for_key(article.title):
                    first = None         # two keys of one hash: not the same title (and the first keeps it)
        if first is not None:
            problems.append(Problem(place(article), f"the same article as {place(first)} (same {kind}): kept once"))
            continue
        ids[article.id] = article
        urls[article.url] = article
        if article.published:
            same_day.setdefault(title, article)
        kept.append(article)
    return kept, problems


def title_key(article: Article, folded: Mapping[str, int] | None = None) -> tuple[int, int]:
    """What makes two dated articles the same by title: the hash of the folded title, and the day.

    ``article`` is dated. A hash, not the folded title itself: a large archive
    holds one per article. Two titles of one hash on one day are told apart by
    folding them again (``dedupe``).
    """
    assert article.published is not None
    key = folded.get(article.title) if folded else None
    return (key if key is not None else hash(fold_for_key(article.title)), article.published.date().toordinal())
