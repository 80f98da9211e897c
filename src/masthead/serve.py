"""A small WSGI app: the publication's ``output/`` and the unsubscribe endpoint.

Files are served with their feed content types and ``charset=utf-8``, a
strong ETag (a hash of the bytes) and Last-Modified, and 304 answers to
conditional requests. ``/unsubscribe`` (the path of ``email.unsubscribe_url``):

- GET shows a page with a confirm button and changes nothing: mail scanners
  and link previews follow links;
- POST with ``List-Unsubscribe=One-Click`` (RFC 8058, what mail providers
  send) or the page's form unsubscribes at once;
- a missing, damaged or forged token gets 400 or 403 and changes nothing.

Locally ``masthead serve`` runs it with wsgiref; in production any WSGI
server can: ``gunicorn 'masthead.serve:make_app("/srv/news")'``.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .config import Publication, load_publication
from .store import open_store
from .subscribers import get_subscriber, set_status
from .tokens import load_secret, verify_token

StartResponse = Callable[..., Any]
MAX_FORM = 8192
TEXT = "; charset=utf-8"
BY_NAME = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml",
           "feed.json": "application/feed+json"}
BY_SUFFIX = {".html": "text/html", ".xml": "application/xml", ".json": "application/json",
             ".xsl": "text/xsl", ".opml": "text/x-opml", ".css": "text/css", ".txt": "text/plain",
             ".js": "text/javascript", ".svg": "image/svg+xml"}
FEED_XML = ("application/rss+xml", "application/atom+xml")
SECURITY = [("X-Content-Type-Options", "nosniff")]
PAGE_HEADERS = SECURITY + [
    ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
]

WORDS = {
    "ar": {"confirm_title": "إلغاء الاشتراك", "confirm": "هل تريد إيقاف النشرات إلى {who}؟",
           "button": "نعم، ألغِ اشتراكي", "done_title": "تم إلغاء الاشتراك",
           "done": "لن تصل بعد الآن نشرات إلى هذا العنوان.", "bad_title": "رابط غير صالح",
           "bad": "هذا الرابط غير صالح أو ناقص. استخدم الرابط الموجود في آخر رسالة وصلتك."},
    "en": {"confirm_title": "Unsubscribe", "confirm": "Stop sending digests to {who}?",
           "button": "Yes, unsubscribe me", "done_title": "You are unsubscribed",
           "done": "No more digests will be sent to this address.", "bad_title": "Invalid link",
           "bad": "This link is not valid or is incomplete. Use the link in the latest message you received."},
}


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


def masked(email: str) -> str:
    """``r•••@example.com``: enough for the owner to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


class App:
    """The WSGI callable. One per publication; safe to share between threads."""

    def __init__(self, pub: Publication, secret: bytes):
        self.pub = pub
        self.secret = secret
        self.root = pub.output_dir.resolve()
        self.unsubscribe_path = urlsplit(pub.site.email.unsubscribe_url).path or "/unsubscribe"
        lang = pub.site.language.split("-")[0].lower()
        self.lang = lang if lang in WORDS else "en"
        self.words = WORDS[self.lang]
        self.direction = "rtl" if self.lang == "ar" else "ltr"
        self._etags: dict[tuple[str, int, int], str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.rstrip("/") == self.unsubscribe_path.rstrip("/"):
            status, headers, body = self.unsubscribe(method, environ)
        else:
            status, headers, body = self.static(method, path, environ)
        if not status.startswith("304"):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    # -- unsubscribe --------------------------------------------------------

    def unsubscribe(self, method: str, environ: dict[str, Any]) -> tuple[str, list, bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=20)
        if method in ("GET", "HEAD"):
            email = self._check(query.get("token", [""])[0])
            if isinstance(email, tuple):
                return email
            return self.page("200 OK", "confirm_title", self.confirm_form(query["token"][0], email))
        if method != "POST":
            return "405 Method Not Allowed", [("Allow", "GET, HEAD, POST")] + SECURITY, b""
        form = self._form(environ)
        token = form.get("token", query.get("token", [""]))[0]
        one_click = form.get("List-Unsubscribe", [""])[0] == "One-Click"
        if not (one_click or form.get("confirm")):
            return self.page("400 Bad Request", "bad_title", f"<p>{self.words['bad']}</p>")
        email = self._check(token)
        if isinstance(email, tuple):
            return email
        with open_store(self.pub.state_dir) as store:
            subscriber = get_subscriber(store, email)
            if subscriber is not None and subscriber.status == "active":
                set_status(store, email, "unsubscribed", now=datetime.now(UTC))
        return self.page("200 OK", "done_title", f"<p>{self.words['done']}</p>")

    def _check(self, token: str) -> str | tuple[str, list, bytes]:
        if not token:
            return self.page("400 Bad Request", "bad_title", f"<p>{self.words['bad']}</p>")
        email = verify_token(self.secret, token)
        if email is None:
            return self.page("403 Forbidden", "bad_title", f"<p>{self.words['bad']}</p>")
        return email

    def _form(self, environ: dict[str, Any]) -> dict[str, list[str]]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(min(max(length, 0), MAX_FORM)) if length else b""
        return parse_qs(raw.decode("utf-8", "replace"), max_num_fields=20)

    def confirm_form(self, token: str, email: str) -> str:
        w = self.words
        before, _, after = w["confirm"].partition("{who}")      # the address stays left-to-right
        who = f'<bdi dir="ltr">{html.escape(masked(email))}</bdi>'
        return (f"<p>{html.escape(before)}{who}{html.escape(after)}</p>"
                f'<form method="post" action="{html.escape(self.unsubscribe_path)}">'
                f'<input type="hidden" name="token" value="{html.escape(token)}">'
                f'<input type="hidden" name="confirm" value="yes">'
                f'<button type="submit">{html.escape(w["button"])}</button></form>')

    def page(self, status: str, title_key: str, content: str) -> tuple[str, list, bytes]:
        title = html.escape(self.words[title_key])
        site = html.escape(self.pub.site.title)
        body = (f'<!DOCTYPE html>\n<html lang="{self.lang}" dir="{self.direction}"><head>'
                f'<meta charset="utf-8"><meta name="robots" content="noindex">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{title} · {site}</title>"
                f"<style>body{{font-family:Tahoma,Arial,'Segoe UI','Geeza Pro',sans-serif;"
                f"max-width:32em;margin:3em auto;padding:0 1em;line-height:1.6}}"
                f"button{{font:inherit;padding:.5em 1.2em}}</style></head>"
                f"<body><h1>{title}</h1>{content}<p><small>{site}</small></p></body></html>\n")
        return status, [("Content-Type", "text/html" + TEXT)] + PAGE_HEADERS, body.encode("utf-8")

    # -- static files ---------------------------------------------------------

    def static(self, method: str, path: str, environ: dict[str, Any]) -> tuple[str, list, bytes]:
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

    def not_found(self) -> tuple[str, list, bytes]:
        return ("404 Not Found", [("Content-Type", "text/plain" + TEXT)] + SECURITY,
                b"404 Not Found\n")


def make_app(project_dir: str | os.PathLike[str] = ".") -> App:
    """The WSGI app for the publication in ``project_dir`` (for gunicorn, waitress, uwsgi...)."""
    pub = load_publication(Path(project_dir))
    return App(pub, load_secret(pub.state_dir))
