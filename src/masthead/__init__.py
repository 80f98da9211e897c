"""masthead: publish RSS, Atom and JSON feeds and email digests from article files.

The same steps the ``masthead`` command runs are functions here, for people who
embed the job in their own scheduler::

    from masthead import load_publication, run
    report = run(load_publication(Path("mypub")), now=datetime.now(timezone.utc))
"""

from .config import Publication, load_publication
from .errors import ConfigError, LockedError, MastheadError
from .records import Article, Collection, Digest, FeedOutput, Problem, Recipient

__version__ = "0.1.0"

__all__ = [
    "Article", "Collection", "ConfigError", "Digest", "FeedOutput", "LockedError",
    "MastheadError", "Problem", "Publication", "Recipient", "load_publication", "run",
]


def __getattr__(name: str) -> object:
    # The pipeline imports every stage; load it only when asked for.
    if name == "run":
        from .pipeline import run
        return run
    raise AttributeError(name)
