"""The ``masthead`` command: a thin click layer over the library.

Each command lives in its own module here and registers itself on ``main``.
Only MastheadError is caught (printed as ``Error: ...`` with its exit code);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__
from ..errors import MastheadError

# Every command, and the module (under cli/) that defines it. A module is imported
# only when its command runs; modules import what is heavy (feedgen, premailer,
# the mail stack) inside their commands, so that `masthead --version` and
# `masthead --help` start as fast as click itself.
COMMANDS = {"run": "run", "inspect": "inspect", "init": "init", "check": "init", "preview": "preview",
            "subscribers": "subscribers", "send": "send", "serve": "serve", "dkim": "dkim", "bounces": "bounces",
            "report": "report", "db": "db"}

# The first sentence of each command's docstring, for `masthead --help` without
# importing twelve modules (a test keeps the two the same).
SUMMARIES = {
    "bounces": "Read bounces (DSNs) and complaints (ARF) and suppress the addresses they name.",
    "check": "Check the settings and templates without building anything.",
    "db": "The state database (.masthead/state.db, or MASTHEAD_DATABASE_URL's PostgreSQL database).",
    "dkim": "DKIM signing keys (kept in .masthead/dkim/, never under output/).",
    "init": "Start a new publication in DIRECTORY, ready for `masthead run`.",
    "inspect": "Print the record each article file gives: one JSON object per line.",
    "preview": "Write the latest digest's email HTML to a file and print its path.",
    "report": "Write .masthead/report.html: per digest over time, list size, copies sent, bounces, complaints, "
              "unsubscribes.",
    "run": "Collect the articles, write the feeds, make and send the digests.",
    "send": "Send pending digest copies over the server in MASTHEAD_SMTP_URL.",
    "serve": "Serve output/ (feeds with ETag and 304), /unsubscribe and /subscribe.",
    "subscribers": "Manage subscribers (kept in .masthead/state.db, never under output/).",
}


def _shortened(text: str, limit: int) -> str:
    """``text`` cut at a word to fit ``limit`` characters, with '...' (as click lists commands)."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 3)].rsplit(" ", 1)[0].rstrip(" ,;:") + "..."


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        with formatter.section("Commands"):
            formatter.write_dl([(name, _shortened(SUMMARIES[name], limit))
                                for name in names])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MastheadError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, package_name="masthead")
def main() -> None:
    """Publish RSS, Atom and JSON feeds and email digests from article files.

    Every command acts on the publication in the current folder unless
    --project DIR names another.
    """
