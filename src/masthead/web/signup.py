"""``/subscribe`` (the path of ``email.subscribe_url``): sign-up with double opt-in over HTTP.

- GET without a token: a small sign-up form (the feed pages carry the same form);
- POST with ``email`` (and ``name``, one or more ``feed``): mails a confirmation
  link and answers "check your inbox", the same page for every address;
- GET with ``?token=``: a confirm button, nothing else (mail scanners follow links);
- POST with the token and ``confirm``: subscribes. An expired link gets 410, a
  forged one 403, and neither changes anything.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ..errors import ConfigError, InputError
from ..state.db import open_store
from ..subscribers.roster import digest_feeds
from ..subscribers.signup import (
    SignupUnavailable,
    check_form,
    confirm_signup,
    read_confirmation,
    request_signup,
    signup_language,
)
from ..tokens import SignupRequest
from .pages import SECURITY, WORDS, Answer, fill, hidden, language_of, read_form

if TYPE_CHECKING:
    from .app import App


def subscribe(app: App, method: str, environ: dict[str, Any]) -> Answer:
    """Answer one request to the sign-up path."""
    query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=20)
    if method in ("GET", "HEAD"):
        token = query.get("token", [""])[0]
        return confirm_page(app, token) if token else form_page(app)
    if method != "POST":
        return "405 Method Not Allowed", [("Allow", "GET, HEAD, POST")] + SECURITY, b""
    form = read_form(environ)
    token = form.get("token", query.get("token", [""]))[0]
    if token:
        return confirm(app, token, bool(form.get("confirm")))
    return sign_up(app, form, environ)


def sign_up(app: App, form: dict[str, list[str]], environ: dict[str, Any]) -> Answer:
    lang = app.lang
    try:
        signup = check_form(app.pub, form.get("email", [""])[0], form.get("name", [""])[0],
                            form.get("feed", []))
        lang = language_of(signup_language(app.pub, signup.feeds))
        with open_store(app.pub.state_dir) as store:
            request_signup(app.pub, store, app.secret, signup, now=app.clock(), smtp=app.smtp)
    except (InputError, ConfigError):
        return app.page(lang, "400 Bad Request", "bad_title", f"<p>{html.escape(WORDS[lang]['form_bad'])}</p>")
    except SignupUnavailable as exc:
        environ["wsgi.errors"].write(f"masthead: sign-up mail not sent: {exc}\n")   # never the address
        return app.page(lang, "503 Service Unavailable", "check_title",
                        f"<p>{html.escape(WORDS[lang]['unavailable'])}</p>")
    # The same answer whether the address is new, subscribed, suppressed or rate-limited.
    return app.page(lang, "200 OK", "check_title", f"<p>{html.escape(WORDS[lang]['check'])}</p>")


def _read(app: App, token: str) -> SignupRequest | Answer:
    found = read_confirmation(app.secret, token, now=app.clock())
    if found is None:
        return app.page(app.lang, "403 Forbidden", "bad_title", f"<p>{WORDS[app.lang]['bad']}</p>")
    if found == "expired":
        return app.page(app.lang, "410 Gone", "bad_title", f"<p>{WORDS[app.lang]['expired']}</p>")
    return found


def _titles(app: App, request: SignupRequest) -> list[str]:
    return [f.title for f in app.pub.feeds if f.name in request.feeds]


def confirm_page(app: App, token: str) -> Answer:
    request = _read(app, token)
    if not isinstance(request, SignupRequest):
        return request
    lang = language_of(signup_language(app.pub, request.feeds))
    button = html.escape(WORDS[lang]["join_button"])
    return app.page(lang, "200 OK", "join_title",
                    f"<p>{fill(lang, 'join', who=request.email, feeds=_titles(app, request))}</p>"
                    f'<form method="post" action="{html.escape(app.subscribe_path)}">'
                    f'{hidden("token", token)}{hidden("confirm", "yes")}'
                    f'<button type="submit">{button}</button></form>')


def confirm(app: App, token: str, confirmed: bool) -> Answer:
    if not confirmed:
        return app.page(app.lang, "400 Bad Request", "bad_title", f"<p>{WORDS[app.lang]['bad']}</p>")
    request = _read(app, token)
    if not isinstance(request, SignupRequest):
        return request
    lang = language_of(signup_language(app.pub, request.feeds))
    try:
        with open_store(app.pub.state_dir) as store:
            confirm_signup(app.pub, store, request, now=app.clock())
    except InputError:
        return app.page(lang, "410 Gone", "bad_title", f"<p>{WORDS[lang]['expired']}</p>")
    return app.page(lang, "200 OK", "joined_title",
                    f"<p>{fill(lang, 'joined', feeds=_titles(app, request))}</p>")


def form_page(app: App) -> Answer:
    """The sign-up form on its own: address, name, a box per feed with a digest."""
    lang = app.lang
    labels = {"ar": ("البريد الإلكتروني", "الاسم (اختياري)", "اشترك"),
              "en": ("Email address", "Name (optional)", "Subscribe")}[lang]
    boxes = "".join(
        f'<label><input type="checkbox" name="feed" value="{html.escape(f.name)}" checked> '
        f"<bdi>{html.escape(f.title)}</bdi></label>"
        for f in app.pub.feeds if f.name in digest_feeds(app.pub))
    return app.page(lang, "200 OK", "join_title",
                    f'<form method="post" action="{html.escape(app.subscribe_path)}">'
                    f'<label>{labels[0]} <input type="email" name="email" required dir="ltr"></label>'
                    f'<label>{labels[1]} <input type="text" name="name"></label>{boxes}'
                    f'<button type="submit">{labels[2]}</button></form>')
