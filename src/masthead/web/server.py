"""The WSGI server ``masthead serve`` runs the app under: waitress, with timeouts and size limits.

waitress reads every request in full on its own I/O loop before a worker
thread sees it, so a client that sends its headers or its body slowly (or
never) holds a socket, not a thread, and is closed after ``CHANNEL_TIMEOUT``
seconds of silence. Request lines and headers over ``MAX_HEADER`` bytes are
refused with 431, bodies over ``MAX_BODY`` with 413. The access log blots out
unsubscribe and confirmation tokens.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

THREADS = 4                   # worker threads: the app never waits on I/O for long, so a few suffice
CHANNEL_TIMEOUT = 30          # seconds a connection may stay silent
CONNECTION_LIMIT = 1000       # open connections at once; past it new ones wait in the backlog
MAX_HEADER = 16 * 1024        # request line and headers, in bytes
MAX_BODY = 64 * 1024          # request body (our forms are far smaller)
_TOKEN = re.compile(r"token=[^&\s]+")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def blot(text: str) -> str:
    """``text`` with every ``token=...`` replaced by ``token=…``: tokens never reach a log."""
    return _TOKEN.sub("token=…", text)


class AccessLog:
    """WSGI middleware writing one line per request (``host - [time] "METHOD path" status``), tokens blotted."""

    def __init__(self, app: WsgiApp, stream: IO[str]):
        self.app, self.stream = app, stream

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def logged(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            query = environ.get("QUERY_STRING") or ""
            target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            when = time.strftime("%d/%b/%Y %H:%M:%S")
            self.stream.write(f'{environ.get("REMOTE_ADDR", "-")} - [{when}] '
                              f'"{environ.get("REQUEST_METHOD", "")} {blot(target)[:500]}" {status.split()[0]}\n')
            return start_response(status, headers, *args)

        return self.app(environ, logged)


def make_server(app: WsgiApp, host: str, port: int, *, log: IO[str] | None = sys.stderr) -> Any:
    """A waitress server for ``app`` on ``host:port`` (0: a free port); ``.run()`` serves until closed."""
    from waitress.server import create_server  # imported by the command that serves, not by the library

    wrapped = AccessLog(app, log) if log is not None else app
    return create_server(wrapped, host=host, port=port, threads=THREADS, channel_timeout=CHANNEL_TIMEOUT,
                         connection_limit=CONNECTION_LIMIT, max_request_header_size=MAX_HEADER,
                         max_request_body_size=MAX_BODY, cleanup_interval=5, backlog=1024,
                         asyncore_use_poll=True, ident="masthead", expose_tracebacks=False,
                         # the app decides whom to believe ([serve] trusted_proxies in site.toml)
                         clear_untrusted_proxy_headers=False)
