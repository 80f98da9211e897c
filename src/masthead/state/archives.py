"""Table ``archive_entries``: which article each feed put on which archive page, and in what order.

Written with the feeds build it describes (feeds/archive.py reads it back to
shelve the next articles without moving any shelved one). A feed's pages are
rebuilt from the rows: page numbers start at 1, a page number without rows is
an empty page (its articles were deleted).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from .db import Store


def shelved(store: Store) -> dict[str, list[list[str]]]:
    """Every feed's archive pages: feed name -> ids on each page (oldest page first, in the order shelved)."""
    found: dict[str, list[list[str]]] = {}
    rows = store.rows("SELECT feed, page, article_id FROM archive_entries ORDER BY feed, page, position")
    for feed, page, article_id in rows:
        pages = found.setdefault(feed, [])
        while len(pages) < page:
            pages.append([])
        pages[page - 1].append(article_id)
    return found


def replace(store: Store, feeds: Mapping[str, Sequence[Sequence[str]]],
            previous: Mapping[str, Sequence[Sequence[str]]] | None = None) -> None:
    """Remember the archive pages of every feed as the build just written left them.

    ``previous``: the pages as ``shelved`` gave them before this build; then
    only the rows that differ are written (a run that shelved one article
    writes one row, not one per article of the archive). The rows are made
    as they are written: a large archive has one per article.
    """
    there = _places(previous) if previous is not None else {}

    moved = ({"feed": feed, "article_id": article_id, "page": number, "position": position}
             for feed, article_id, number, position in _placed(feeds)
             if there.get((feed, article_id)) != (number, position))

    with store.transaction():
        if previous is None:
            store.execute("DELETE FROM archive_entries")
        elif there:                 # articles shelved before: those no longer shelved leave
            shelved_now = {feed: {i for page in pages for i in page} for feed, pages in feeds.items()}
            gone = [{"feed": feed, "article_id": article_id} for feed, article_id in there
                    if article_id not in shelved_now.get(feed, ())]
            store.executemany("DELETE FROM archive_entries WHERE feed = :feed AND article_id = :article_id", gone)
        store.executemany("INSERT INTO archive_entries (feed, page, position, article_id) "
                          "VALUES (:feed, :page, :position, :article_id) "
                          "ON CONFLICT (feed, article_id) DO UPDATE SET page = excluded.page, "
                          "position = excluded.position", moved)


def _places(feeds: Mapping[str, Sequence[Sequence[str]]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(feed, article id) -> (page, position) of every article shelved."""
    return {(feed, article_id): (number, position) for feed, article_id, number, position in _placed(feeds)}


def _placed(feeds: Mapping[str, Sequence[Sequence[str]]]) -> Iterator[tuple[str, str, int, int]]:
    """(feed, article id, page, position) of every article shelved, one at a time."""
    for feed, pages in feeds.items():
        for number, page in enumerate(pages, start=1):
            for position, article_id in enumerate(page):
                yield feed, article_id, number, position
