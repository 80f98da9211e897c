"""The WSGI app: one route table over the publication's output/, unsubscribe and sign-up.

``/unsubscribe`` and ``/subscribe`` (the paths of ``email.unsubscribe_url`` and
``email.subscribe_url``) go to their handlers (unsubscribe.py, signup.py),
``/hooks/bounce`` to the providers' bounce webhooks (hooks.py);
every other path is a file under ``output/`` (static.py). Every answer is a
complete page or file with its Content-Length; HEAD gets the headers only.
A malformed or oversized request is 400 or 413 with a page; a storage
failure (disk full, database locked) 503; a bug 500 with a plain page, its
traceback going to the server's log only.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ..config import Publication, SmtpSettings
from ..errors import StorageError
from .forms import BadRequest
from .hooks import BounceHooks, Fetch, fetch_https
from .pages import SECURITY, TEXT, Answer, text
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
                 fetch: Fetch = fetch_https, database: str | None = None):
        self.site = Site(pub, secret, smtp, clock, database)
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
        status, headers, body = self.answer(method, path, environ)
        if not status.startswith("304"):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    def answer(self, method: str, path: str, environ: dict[str, Any]) -> Answer:
        """The answer to one request; never an exception."""
        site = self.site
        try:
            handler = self.routes.get(path.rstrip("/"))
            if handler is not None:
                return handler(site, method, environ)
            return self.files.serve(method, path, environ)
        except BadRequest as exc:
            return site.page(site.lang, exc.status, "bad_title", text(site.lang, "bad_request"))
        except StorageError as exc:
            environ["wsgi.errors"].write(f"masthead: {exc}\n")
            return site.page(site.lang, "503 Service Unavailable", "check_title", text(site.lang, "unavailable"),
                             retry_after=60)
        except Exception:
            environ["wsgi.errors"].write(f"masthead: error answering {method} {path[:200]!r}:\n"
                                         + traceback.format_exc())
            return ("500 Internal Server Error", [("Content-Type", "text/plain" + TEXT)] + SECURITY,
                    b"500 Internal Server Error: the server's log says why.\n")
