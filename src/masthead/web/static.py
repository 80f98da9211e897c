"""The publication's ``output/``, served with feed content types, ETags and 304 answers.

Files are served with their feed content types and ``charset=utf-8``, a strong
ETag (a hash of the bytes) and Last-Modified, and 304 answers to conditional
requests. Nothing outside ``output/`` and no hidden file is ever served.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
import time
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any
from urllib.parse import unquote

from .pages import SECURITY, TEXT, Answer

BY_NAME = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml",
           "feed.json": "application/feed+json"}
BY_SUFFIX = {".html": "text/html", ".xml": "application/xml", ".json": "application/json",
             ".xsl": "text/xsl", ".opml": "text/x-opml", ".css": "text/css", ".txt": "text/plain",
             ".js": "text/javascript", ".svg": "image/svg+xml"}
FEED_XML = ("application/rss+xml", "application/atom+xml")


def content_type(path: Path, accept: str = "") -> str:
    """The Content-Type a published file is served with.

    Feeds go to feed readers as application/rss+xml or application/atom+xml. A
    browser (it asks for text/html first) gets the RSS and Atom files as
    application/xml instead: browsers show the feed media types as raw text or
    a download, and apply the feed's XSLT stylesheet only to XML they render.
    """
    kind = BY_NAME.get(path.name) or BY_SUFFIX.get(path.suffix.lower())
    if kind in FEED_XML and _is_browser(accept):
        kind = "application/xml"
    if kind is None:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return kind + TEXT if kind.startswith("text/") or kind.endswith(("xml", "json")) else kind


def _is_browser(accept: str) -> bool:
    """True when the first media type the client asks for is text/html, as browsers do."""
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first == "text/html"


RESOLVED_FOR = 5.0               # seconds a URL path's resolved file is trusted before resolving again
CACHE_BYTES = 64 * 1024 * 1024   # file bodies kept in memory (each under CACHE_FILE)
CACHE_FILE = 1024 * 1024


class Files:
    """Serves one folder.

    Its caches are the only state, guarded by a lock: which file a URL path
    resolves to (re-checked every RESOLVED_FOR seconds), and the bytes and
    ETag of small files, keyed by path, size and mtime, so a rewritten file is
    served new at once. Each request costs one stat of the file.
    """

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._resolved: dict[str, tuple[str | None, float]] = {}
        self._bodies: dict[tuple[str, int, int], tuple[str, bytes]] = {}
        self._kept = 0

    def serve(self, method: str, path: str, environ: dict[str, Any]) -> Answer:
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", [("Allow", "GET, HEAD")] + SECURITY, b""
        found = self.locate(path)
        if found is None:
            return self.not_found()
        target, stat = found
        if target == "":
            return "301 Moved Permanently", [("Location", path + "/")] + SECURITY, b""
        etag, body = self.content(target, stat)
        headers = [("ETag", etag), ("Last-Modified", formatdate(stat.st_mtime, usegmt=True)),
                   ("Cache-Control", "public, no-cache")] + SECURITY
        name = os.path.basename(target)
        if name in BY_NAME:
            headers.append(("Vary", "Accept"))  # browsers and feed readers get different types
        if self.not_modified(environ, etag, stat.st_mtime):
            return "304 Not Modified", headers, b""
        kind = content_type(Path(name), environ.get("HTTP_ACCEPT", ""))
        return "200 OK", [("Content-Type", kind), *headers], body

    def locate(self, path: str) -> tuple[str, os.stat_result] | None:
        """The file a URL path serves and its stat; ("", stat) when a folder wants its trailing slash."""
        now = time.monotonic()
        with self._lock:
            cached = self._resolved.get(path)
        if cached is None or now - cached[1] > RESOLVED_FOR:
            real = self.resolve(path)
            target: str | None = None
            if real is not None:
                if real.is_dir():
                    target = "" if not path.endswith("/") else str(real / "index.html")
                else:
                    target = str(real)
            with self._lock:
                if len(self._resolved) > 8192:
                    self._resolved.clear()
                self._resolved[path] = (target, now)
        else:
            target = cached[0]
        if target is None:
            return None
        try:   # lstat: a file swapped for a link since it was resolved is not followed
            stat = os.lstat(target) if target else os.stat(self.root)
        except OSError:
            stat = None
        if stat is None or (target and not S_ISREG(stat.st_mode)):
            with self._lock:
                self._resolved.pop(path, None)
            return None
        return target, stat

    def content(self, target: str, stat: os.stat_result) -> tuple[str, bytes]:
        """The ETag (a hash of the bytes) and the bytes of a file, from memory when it did not change."""
        key = (target, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            kept = self._bodies.get(key)
        if kept is not None:
            return kept
        body = Path(target).read_bytes()
        found = ('"' + hashlib.sha256(body).hexdigest()[:32] + '"', body)
        if len(body) <= CACHE_FILE:
            with self._lock:
                if self._kept + len(body) > CACHE_BYTES:
                    self._bodies.clear()
                    self._kept = 0
                self._bodies[key] = found
                self._kept += len(body)
        return found

    def resolve(self, path: str) -> Path | None:
        """The file or folder under output/ that ``path`` names, or None if it may not be served."""
        parts = [p for p in unquote(path).split("/") if p]
        if any(p.startswith(".") or "\x00" in p or "\\" in p for p in parts):
            return None
        target = self.root.joinpath(*parts)
        try:
            real = target.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if real != self.root and self.root not in real.parents:
            return None
        return real

    @staticmethod
    def not_modified(environ: dict[str, Any], etag: str, mtime: float) -> bool:
        match = environ.get("HTTP_IF_NONE_MATCH")
        if match is not None:
            tags = [t.strip().removeprefix("W/") for t in match.split(",")]
            return "*" in tags or etag in tags
        since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if since:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return int(mtime) <= when.timestamp()
        return False

    def not_found(self) -> Answer:
        return ("404 Not Found", [("Content-Type", "text/plain" + TEXT)] + SECURITY,
                b"404 Not Found\n")
