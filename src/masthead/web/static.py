"""The publication's ``output/``, served with feed content types, ETags and 304 answers.

Files are served with their feed content types and ``charset=utf-8``, a strong
ETag (a hash of the bytes) and Last-Modified, and 304 answers to conditional
requests. Nothing outside ``output/`` and no hidden file is ever served.
"""

from __future__ import annotations

import hashlib
import mimetypes
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
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


class Files:
    """Serves one folder. Its ETag cache is the only state; a lost race only recomputes a tag."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._etags: dict[tuple[str, int, int], str] = {}

    def serve(self, method: str, path: str, environ: dict[str, Any]) -> Answer:
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", [("Allow", "GET, HEAD")] + SECURITY, b""
        target = self.resolve(path)
        if target is None:
            return self.not_found()
        if target.is_dir():
            if not path.endswith("/"):
                return "301 Moved Permanently", [("Location", path + "/")] + SECURITY, b""
            target = target / "index.html"
            if not target.is_file():
                return self.not_found()
        stat = target.stat()
        etag = self.etag(target, stat.st_mtime_ns, stat.st_size)
        headers = [("ETag", etag), ("Last-Modified", formatdate(stat.st_mtime, usegmt=True)),
                   ("Cache-Control", "public, no-cache")] + SECURITY
        if target.name in BY_NAME:
            headers.append(("Vary", "Accept"))  # browsers and feed readers get different types
        if self.not_modified(environ, etag, stat.st_mtime):
            return "304 Not Modified", headers, b""
        body = target.read_bytes()
        kind = content_type(target, environ.get("HTTP_ACCEPT", ""))
        return "200 OK", [("Content-Type", kind), *headers], body

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

    def etag(self, target: Path, mtime_ns: int, size: int) -> str:
        key = (str(target), mtime_ns, size)
        tag = self._etags.get(key)
        if tag is None:
            tag = '"' + hashlib.sha256(target.read_bytes()).hexdigest()[:32] + '"'
            if len(self._etags) > 4096:
                self._etags.clear()
            self._etags[key] = tag
        return tag

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
