"""Options and helpers every command shares."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..config import Environment, Publication, SmtpSettings
    from ..state.db import Store


def _project(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """--project as given; without it, the publication around the current folder (searched upward)."""
    if value is not None:
        return value
    from ..config import find_publication

    return find_publication(Path.cwd()) or Path(".")

project_option = click.option(
    "--project", "project", type=click.Path(file_okay=False, path_type=Path), default=None,
    callback=_project, show_default="the publication holding the current folder",
    help="The publication's folder (the one holding feeds/); found upward from here when not given.",
)


def parse_now(value: str | None) -> datetime:
    """--now as an aware datetime; the real clock when not given."""
    if not value:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        now = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an RFC 3339 time such as 2022-05-07T06:00:00Z",
                                 param_hint="--now") from None
    if now.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset; add Z or +03:00", param_hint="--now")
    return now


now_option = click.option(
    "--now", "now", metavar="RFC3339", default=None,
    help="Run as if it were this time (e.g. 2022-05-07T06:00:00Z): output is reproducible.",
)


# Commands import the library inside themselves, so that --help and --version stay light.

def publication(project: Path) -> Publication:
    """The publication in ``project``, its settings checked (ConfigError, exit 2, when wrong)."""
    from ..config import load_publication

    return load_publication(project)


def environment() -> Environment:
    """MASTHEAD_SMTP_URL, MASTHEAD_SECRET, MASTHEAD_DATABASE_URL: the CLI reads them, the library is given them."""
    from ..config import read_environment

    return read_environment()


def secret_for(pub: Publication, env: Environment) -> bytes:
    """The signing key: MASTHEAD_SECRET when set (required with a shared database), else the state folder's."""
    from ..config import shared_secret
    from ..tokens import load_secret

    return load_secret(pub.state_dir, shared_secret(env))


def smtp_for(pub: Publication, env: Environment) -> SmtpSettings | None:
    """MASTHEAD_SMTP_URL's server with the DKIM key every message is signed with (when one is set up)."""
    if env.smtp is None:
        return None
    from ..send.dkim import load_key

    return replace(env.smtp, dkim=load_key(pub, env.dkim_key_file))


def store_for(pub: Publication, env: Environment | None = None) -> Store:
    """The publication's state: in MASTHEAD_DATABASE_URL's database when set, else .masthead/state.db."""
    from ..state.db import open_store

    return open_store(pub.state_dir, (env or environment()).database)
