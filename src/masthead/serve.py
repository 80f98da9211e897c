"""The WSGI entry point: ``masthead.serve:make_app``.

WSGI servers are pointed here (``gunicorn 'masthead.serve:make_app("/srv/news")'``);
like the command line, it reads the environment (``MASTHEAD_SMTP_URL`` for
sign-up confirmations, ``MASTHEAD_SECRET`` for the signing key,
``MASTHEAD_DATABASE_URL`` for a state shared by many servers,
``MASTHEAD_DKIM_KEY_FILE`` for the DKIM key, ``MASTHEAD_MAILGUN_SIGNING_KEY``
for Mailgun's bounce webhooks). The app itself lives in ``masthead.web``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from .config import load_publication, read_environment, shared_secret
from .send.dkim import load_key
from .state.private import secure_state
from .tokens import load_secret
from .web.app import App


def make_app(project_dir: str | os.PathLike[str] = ".") -> App:
    """The WSGI app for the publication in ``project_dir`` (for gunicorn, waitress, uwsgi...).

    Several processes (gunicorn workers, several hosts on one PostgreSQL
    state) may serve one publication: every sign-up limit and the
    confirmation queue live in the state, and each process's sender claims
    a queued mail before sending it.
    """
    pub = load_publication(Path(project_dir))
    env = read_environment()
    secure_state(pub.state_dir)
    smtp = replace(env.smtp, dkim=load_key(pub, env.dkim_key_file)) if env.smtp else None
    return App(pub, load_secret(pub.state_dir, shared_secret(env)), smtp=smtp, mailgun_key=env.mailgun_key,
               database=env.database)


__all__ = ["App", "make_app"]
