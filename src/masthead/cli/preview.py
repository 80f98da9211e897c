"""``masthead preview [FEED]``: look at the latest digest as a reader would get it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ConfigError, MastheadError
from .common import project_option, publication, store_for

if TYPE_CHECKING:
    from ..config import Publication

PREVIEW_DIR = "preview"       # under the state folder: the sample names a (placeholder) reader


def latest_digest(pub: Publication, feed: str | None) -> tuple[str, Path]:
    """The id and sample .eml of the latest digest (of ``feed``, or of any feed)."""
    if feed is not None:
        pub.feed(feed)                           # a ConfigError naming the feeds when unknown
    from ..state import digests as recorded

    with store_for(pub) as store:
        digest_id = recorded.latest(store, feed)
    if digest_id is None:
        raise MastheadError(f"no digest has been made yet{' for ' + feed if feed else ''}",
                            hint="run 'masthead run' first (digests need a feed with [digest] cadence)")
    eml = pub.state_dir / "digests" / f"{digest_id}.eml"
    if not eml.is_file():
        raise MastheadError(f"the sample message of {digest_id} is missing", where=pub.relative(eml),
                            hint="run 'masthead run' again to rewrite it")
    return digest_id, eml


def preview_html(eml: Path) -> bytes:
    """The HTML part of a sample message, as the reader's mail client gets it."""
    import email
    from email import policy
    from email.message import EmailMessage

    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = message.get_body(("html",)) if isinstance(message, EmailMessage) else None
    if body is None:
        raise ConfigError("the sample message has no HTML part", where=str(eml),
                          hint="check that templates/digest.html renders HTML")
    return str(body.get_content()).encode("utf-8")


@click.command()
@click.argument("feed", required=False)
@project_option
@click.option("--serve", is_flag=True, help="Serve the preview on 127.0.0.1 instead of printing its path.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port for --serve (0: any free port).")
def preview(feed: str | None, project: Path, serve: bool, port: int) -> None:
    """Write the latest digest's email HTML to a file and print its path.

    The preview is the sample message addressed to a placeholder reader, kept
    in the state folder (never under output/). Open it in a browser, or pass
    --serve to view it at http://127.0.0.1:PORT/ until Ctrl-C.

    Example: masthead preview ar-news --project mypub
    """
    pub = publication(project)
    digest_id, eml = latest_digest(pub, feed)
    target = pub.state_dir / PREVIEW_DIR / f"{digest_id.replace('/', '_')}.html"
    from ..state.atomic import atomic_write

    atomic_write(target, preview_html(eml), mode=0o600)     # it sits with the private state
    if not serve:
        click.echo(str(target))
        return
    _serve(digest_id, target, port)


def _serve(digest_id: str, target: Path, port: int) -> None:
    """Answer every GET on 127.0.0.1:``port`` with the one preview page, until Ctrl-C."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    with http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler) as server:
        click.echo(f"serving {digest_id} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
