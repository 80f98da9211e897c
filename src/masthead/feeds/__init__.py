"""Stage 2, feeds: records -> RSS 2.0, Atom 1.0 (through feedgen), JSON Feed, OPML and HTML pages.

Owns planning which articles go in which feed (plan.py), the archive pages
behind each feed (archive.py), rendering each format, the pages and the
stylesheet, the incremental build that writes only what changed
(incremental.py), and telling WebSub hubs which feeds changed (websub.py).
``build_feeds`` makes the bytes, ``write_feeds`` writes them.

Imports: the shared vocabulary (records, errors, config, text, i18n), state
and the standard library's urllib (one POST per hub and feed). Never collect,
digest, send, subscribers, web, the pipeline or the CLI: building feeds loads
no mail code.
"""

from typing import Any

from .incremental import write_feeds

__all__ = ["build_feeds", "write_feeds"]


def __getattr__(name: str) -> Any:
    if name == "build_feeds":            # loads feedgen and lxml: only for those who build
        from .build import build_feeds
        return build_feeds
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
