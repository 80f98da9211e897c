"""``masthead serve``: output/, unsubscribe and sign-up over HTTP, on waitress."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import project_option


@click.command()
@project_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--quiet", "-q", is_flag=True, help="No access log on stderr.")
def serve(project: Path, host: str, port: int, quiet: bool) -> None:
    """Serve output/ (feeds with ETag and 304), /unsubscribe and /subscribe.

    Runs on waitress (several threads; slow clients time out; request and
    body sizes are capped). Sign-up confirmations are queued in the state and
    mailed by a background thread over the server in MASTHEAD_SMTP_URL. Put
    it behind your HTTPS proxy; for several processes run the same app under
    gunicorn: gunicorn -w 4 'masthead.serve:make_app("/srv/news")'.

    Example: masthead serve --port 8000
    """
    from ..config import SMTP_ENV
    from ..serve import make_app
    from ..web.server import CHANNEL_TIMEOUT, MAX_BODY, MAX_HEADER, THREADS, make_server

    app = make_app(project)
    server = make_server(app, host, port, log=None if quiet else sys.stderr)
    click.echo(f"serving {app.pub.relative(app.pub.output_dir)}/, {app.site.unsubscribe_path} and "
               f"{app.site.subscribe_path} on http://{host}:{server.effective_port}/ "
               f"({THREADS} threads, {CHANNEL_TIMEOUT} s idle timeout, headers <= {MAX_HEADER // 1024} KB, "
               f"bodies <= {MAX_BODY // 1024} KB; Ctrl-C stops)", err=True)
    if app.site.smtp is None:
        click.echo(f"sign-up answers 503: set {SMTP_ENV} to mail confirmation links", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
