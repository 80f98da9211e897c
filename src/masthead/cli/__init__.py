"""The ``masthead`` command: a thin click layer over the library.

Each command lives in its own module here and registers itself on ``main``.
Only MastheadError is caught (printed as ``Error: ...`` with its exit code);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib

import click

from ..errors import MastheadError

# One module per command (group); each defines click commands added to ``main``.
COMMAND_MODULES = ("run", "inspect", "init", "preview", "subscribers", "send", "serve", "dkim", "bounces", "report")


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MastheadError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="masthead")
def main() -> None:
    """Publish RSS, Atom and JSON feeds and email digests from article files.

    Every command acts on the publication in the current folder unless
    --project DIR names another.
    """


for _name in COMMAND_MODULES:
    _module = importlib.import_module(f"{__name__}.{_name}")
    for _command in _module.COMMANDS:
        main.add_command(_command)
