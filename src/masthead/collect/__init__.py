"""(package docstring follows)"""

from .gather import READERS, Progress, collect_publication, dedupe, read_articles, read_entries

__all__ = ["READERS", "Progress", "collect_publication", "dedupe", "read_articles", "read_entries"]
