"""``masthead serve``: output/, unsubscribe and sign-up over HTTP, for local use."""

from __future__ import annotations

import re
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import click

from ..config import SMTP_ENV
from .common import project_option

_TOKEN = re.compile(r"token=[^&\s]+")


class _Handler(WSGIRequestHandler):
    """wsgiref's access log, with unsubscribe and sign-up tokens blotted out."""

    def log_message(self, format: str, *args: object) -> None:
        super().log_message(format, *(_TOKEN.sub("token=…", a) if isinstance(a, str) else a
                                      for a in args))


@click.command()
@project_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
def serve(project: Path, host: str, port: int) -> None:
    """Serve output/ (feeds with ETag and 304), /unsubscribe and /subscribe, for local use.

    Sign-up confirmations are mailed over the server in MASTHEAD_SMTP_URL.

    In production run the same app under a WSGI server, e.g.
    gunicorn 'masthead.serve:make_app("/srv/news")'.

    Example: masthead serve --port 8000
    """
    from ..serve import make_app

    app = make_app(project)
    with make_server(host, port, app, handler_class=_Handler) as server:
        click.echo(f"serving {app.pub.relative(app.pub.output_dir)}/, {app.site.unsubscribe_path} and "
                   f"{app.site.subscribe_path} on http://{host}:{server.server_port}/ (Ctrl-C stops)",
                   err=True)
        if app.site.smtp is None:
            click.echo(f"sign-up answers 503: set {SMTP_ENV} to mail confirmation links", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
