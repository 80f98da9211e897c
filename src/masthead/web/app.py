"""A small WSGI app: the publication's ``output/``, the unsubscribe and sign-up endpoints.

Files are served with their feed content types and ``charset=utf-8``, a
strong ETag (a hash of the bytes) and Last-Modified, and 304 answers to
conditional requests. ``/unsubscribe`` (the path of ``email.unsubscribe_url``):

- GET shows a page with a confirm button and changes nothing: mail scanners
  and link previews follow links;
- POST with ``List-Unsubscribe=One-Click`` (RFC 8058, what mail providers
  send) or the page's form unsubscribes at once: from the one feed the token
  names (the page also offers every feed), or from every feed for an older
  token that names only the address;
- a missing, damaged or forged token gets 400 or 403 and changes nothing.

``/subscribe`` (the path of ``email.subscribe_url``) is sign-up with double
opt-in: see serve_signup.py. Confirmation mail goes over ``MASTHEAD_SMTP_URL``.

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

from ..config import FeedSettings, Publication, load_publication
from ..send.smtp import SmtpSettings, smtp_settings
from ..state.db import open_store
from ..subscribers.roster import get_subscriber, leave_feed, set_status
from ..tokens import Unsubscribe, load_secret, read_token
from .pages import SECURITY, TEXT, WORDS, Answer, fill, hidden, language_of, page, read_form
from .signup import subscribe

StartResponse = Callable[..., Any]
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


class App:
    """The WSGI callable. One per publication; safe to share between threads."""

    def __init__(self, pub: Publication, secret: bytes, *, smtp: SmtpSettings | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.pub = pub
        self.secret = secret
        self.smtp = smtp                  # where sign-up confirmations go; None: sign-up answers 503
        self.clock = clock
        self.root = pub.output_dir.resolve()
        self.unsubscribe_path = urlsplit(pub.site.email.unsubscribe_url).path or "/unsubscribe"
        self.subscribe_path = urlsplit(pub.site.email.subscribe_url).path or "/subscribe"
        self.lang = language_of(pub.site.language)
        self._etags: dict[tuple[str, int, int], str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path.rstrip("/") == self.unsubscribe_path.rstrip("/"):
            status, headers, body = self.unsubscribe(method, environ)
        elif path.rstrip("/") == self.subscribe_path.rstrip("/"):
            status, headers, body = subscribe(self, method, environ)
        else:
            status, headers, body = self.static(method, path, environ)
        if not status.startswith("304"):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    # -- unsubscribe --------------------------------------------------------

    def unsubscribe(self, method: str, environ: dict[str, Any]) -> Answer:
        """GET: the confirm page. POST: one-click (RFC 8058) or the page's form.

        A token naming a feed leaves that feed: one-click does only that, the
        page offers it first and "leave every list" second. An older token
        (address only) leaves every feed, as it always did.
        """
        query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=20)
        if method in ("GET", "HEAD"):
            found = self._check(query.get("token", [""])[0])
            if not isinstance(found, Unsubscribe):
                return found
            return self.page(self._lang(found.feed), "200 OK", "confirm_title",
                             self.confirm_form(query["token"][0], found))
        if method != "POST":
            return "405 Method Not Allowed", [("Allow", "GET, HEAD, POST")] + SECURITY, b""
        form = read_form(environ)
        token = form.get("token", query.get("token", [""]))[0]
        one_click = form.get("List-Unsubscribe", [""])[0] == "One-Click"
        confirmed = bool(form.get("confirm"))
        if not (one_click or confirmed):
            return self.page(self.lang, "400 Bad Request", "bad_title", f"<p>{WORDS[self.lang]['bad']}</p>")
        found = self._check(token)
        if not isinstance(found, Unsubscribe):
            return found
        everything = found.feed is None or (confirmed and form.get("scope", [""])[0] == "all")
        lang = self._lang(found.feed)
        with open_store(self.pub.state_dir) as store:
            if everything:
                subscriber = get_subscriber(store, found.email)
                if subscriber is not None and subscriber.status == "active":
                    set_status(store, found.email, "unsubscribed", now=self.clock())
                return self.page(lang, "200 OK", "done_title", f"<p>{WORDS[lang]['done']}</p>")
            assert found.feed is not None
            leave_feed(store, found.email, found.feed, now=self.clock())
        return self.page(lang, "200 OK", "done_title",
                         f"<p>{fill(lang, 'done_feed', feeds=[self._title(found.feed)])}</p>")

    def _check(self, token: str) -> Unsubscribe | Answer:
        if not token:
            return self.page(self.lang, "400 Bad Request", "bad_title", f"<p>{WORDS[self.lang]['bad']}</p>")
        found = read_token(self.secret, token)
        if found is None:
            return self.page(self.lang, "403 Forbidden", "bad_title", f"<p>{WORDS[self.lang]['bad']}</p>")
        return found

    def _feed(self, name: str | None) -> FeedSettings | None:
        return next((f for f in self.pub.feeds if f.name == name), None)

    def _lang(self, feed: str | None) -> str:
        """The page's language: the feed's (a reader of en-news reads English), else the site's."""
        settings = self._feed(feed)
        return language_of(settings.language) if settings else self.lang

    def _title(self, feed: str) -> str:
        settings = self._feed(feed)
        return settings.title if settings else feed     # a feed removed since the mail went

    def confirm_form(self, token: str, found: Unsubscribe) -> str:
        lang = self._lang(found.feed)
        w = WORDS[lang]
        action = html.escape(self.unsubscribe_path)
        fields = hidden("token", token) + hidden("confirm", "yes")
        if found.feed is None:
            return (f"<p>{fill(lang, 'confirm', who=found.email)}</p>"
                    f'<form method="post" action="{action}">{fields}'
                    f'<button type="submit">{html.escape(w["button"])}</button></form>')
        title = [self._title(found.feed)]
        return (f"<p>{fill(lang, 'confirm_feed', who=found.email, feeds=title)}</p>"
                f'<form method="post" action="{action}">{fields}'
                f'<label><input type="radio" name="scope" value="feed" checked> '
                f"{fill(lang, 'leave_feed', feeds=title)}</label>"
                f'<label><input type="radio" name="scope" value="all"> {html.escape(w["leave_all"])}</label>'
                f'<button type="submit">{html.escape(w["button"])}</button></form>')

    def page(self, lang: str, status: str, title_key: str, content: str) -> Answer:
        return page(self.pub.site.title, lang, status, title_key, content)

    # -- static files ---------------------------------------------------------

    def static(self, method: str, path: str, environ: dict[str, Any]) -> Answer:
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


def make_app(project_dir: str | os.PathLike[str] = ".") -> App:
    """The WSGI app for the publication in ``project_dir`` (for gunicorn, waitress, uwsgi...)."""
    pub = load_publication(Path(project_dir))
    return App(pub, load_secret(pub.state_dir), smtp=smtp_settings())
