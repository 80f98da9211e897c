"""The web app ``masthead serve`` runs: output/, unsubscribe and sign-up, for strangers on the internet.

Owns the WSGI app and its route table (app.py), static files (static.py),
the unsubscribe and sign-up handlers (unsubscribe.py, signup.py) with the
state they share (site.py), their pages (pages.py), and the bounce webhooks
of sending services (hooks.py). The deployable entry
point that reads the environment is ``masthead.serve:make_app``.

Imports: the shared vocabulary, state, subscribers and send. Never collect,
feeds, digest, the pipeline or the CLI.
"""

from .app import App

__all__ = ["App"]
