"""masthead: publish RSS, Atom and JSON feeds and email digests from article files.

The same steps the ``masthead`` command runs are functions here, for people who
embed the job in their own scheduler::

    from masthead import load_publication, run
    report = run(load_publication(Path("mypub")), now=datetime.now(timezone.utc))

or stage by stage: ``collect_publication`` -> ``build_feeds`` -> ``build_digests``
-> ``deliver`` (see pipeline.py for how ``run`` chains them under the lock).
"""

__version__ = "0.1.0"

__all__ = [
    "Article", "Collection", "ConfigError", "Digest", "FeedOutput", "LockedError",
    "MastheadError", "Problem", "Publication", "Recipient", "build_digests", "build_feeds",
    "collect_publication", "deliver", "load_publication", "open_store", "run",
]

# Every name is loaded from its module only when asked for: the stages import heavy
# libraries (feedgen, premailer), and `masthead --version` should not wait for them.
_LAZY = {
    "Article": "records", "Collection": "records", "Digest": "records", "FeedOutput": "records",
    "Problem": "records", "Recipient": "records", "ConfigError": "errors", "LockedError": "errors",
    "MastheadError": "errors", "Publication": "config", "load_publication": "config",
    "run": "pipeline", "collect_publication": "collect", "build_feeds": "feeds.build",
    "build_digests": "digest.build", "deliver": "send.delivery", "open_store": "state.db",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
