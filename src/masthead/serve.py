"""The WSGI entry point WSGI servers are pointed at: ``masthead.serve:make_app``.

The app itself lives in ``masthead.web``; this path stays for deployments
that name it (``gunicorn 'masthead.serve:make_app("/srv/news")'``).
"""

from .web.app import make_app

__all__ = ["make_app"]
