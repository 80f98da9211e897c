"""Stage 1, collect: article files and upstream feeds -> one normalised, sanitised record each.

Owns the readers (plain text, Markdown, JSON, upstream feeds), normalising
(dates, language, direction, ids), the file cache (cache.py), the last
collection kept whole for runs in which no file changed (kept.py), and
sanitising (run once, here, for every later stage). ``collect_publication``
is the entry point.

Imports: the shared vocabulary (records, errors, config, text, i18n) and
state. Never feeds, digest, send, subscribers, web, the pipeline or the CLI.
"""

from .duplicates import dedupe
from .gather import READERS, Progress, collect_publication, read_articles, read_entries
from .sanitise import sanitise_articles

__all__ = ["READERS", "Progress", "collect_publication", "dedupe", "read_articles", "read_entries",
           "sanitise_articles"]
