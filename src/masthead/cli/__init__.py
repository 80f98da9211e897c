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
# only when its command runs or help lists it; modules import what is heavy
# (feedgen, premailer, the mail stack) inside their commands, so that
# `masthead --version` and `masthead --help` start as fast as click itself.
COMMANDS = {"run": "run", "inspect": "inspect", "init": "init", "check": "init", "preview": "preview",
            "subscribers": "subscribers", "send": "send", "serve": "serve", "dkim": "dkim", "bounces": "bounces",
            "report": "report"}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

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
