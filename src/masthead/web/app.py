"""The WSGI app: one route table over the publication's output/, unsubscribe and sign-up.

``/unsubscribe`` and ``/subscribe`` (the paths of ``email.unsubscribe_url`` and
``email.subscribe_url``) go to their handlers (unsubscribe.py, signup.py),
``/hooks/bounce`` to the providers' bounce webhooks (hooks.py);
every other path is a file under ``output/`` (static.py). Every answer is a
complete page or file with its Content-Length; HEAD gets the headers only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ..config import Publication, SmtpSettings
from .hooks import BounceHooks, Fetch, fetch_https
from .pages import Answer
from .signup import subscribe
from .site import Site, _utc_now
from .static import Files
from .unsubscribe import unsubscribe

StartResponse = Callable[..., Any]
Handler = Callable[[Site, str, dict[str, Any]], Answer]


class App:
    """The WSGI callable. One per publication; safe to share between threads."""

    def __init__(self, pub: Publication, secret: bytes, *, smtp: SmtpSettings | None = None,
                 clock: Callable[[], datetime] = _utc_now, mailgun_key: str | None = None,
                 fetch: Fetch = fetch_https):
        self.site = Site(pub, secret, smtp, clock)
        self.files = Files(pub.output_dir)
        self.routes: dict[str, Handler] = {
            self.site.unsubscribe_path.rstrip("/"): unsubscribe,
            self.site.subscribe_path.rstrip("/"): subscribe,
            "/hooks/bounce": BounceHooks(mailgun_key=mailgun_key, fetch=fetch).handle,
        }

    @property
    def pub(self) -> Publication:
        return self.site.pub

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        handler = self.routes.get(path.rstrip("/"))
        if handler is not None:
            status, headers, body = handler(self.site, method, environ)
        else:
            status, headers, body = self.files.serve(method, path, environ)
        if not status.startswith("304"):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]
