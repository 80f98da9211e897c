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
from typing import Any
from urllib.parse import parse_qs

from ..errors import ConfigError, InputError
from ..i18n import word
from ..subscribers.signup import (
    SignupUnavailable,
    check_form,
    confirm_signup,
    read_confirmation,
    request_signup,
    signup_language,
)
from ..tokens import SignupRequest
from .pages import SECURITY, Answer, fill, hidden, language_of, read_form, text
from .site import Site


def subscribe(site: Site, method: str, environ: dict[str, Any]) -> Answer:
    """Answer one request to the sign-up path."""
    query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=20)
    if method in ("GET", "HEAD"):
        token = query.get("token", [""])[0]
        return confirm_page(site, token) if token else form_page(site)
    if method != "POST":
        return "405 Method Not Allowed", [("Allow", "GET, HEAD, POST")] + SECURITY, b""
    form = read_form(environ)
    token = form.get("token", query.get("token", [""]))[0]
    if token:
        return confirm(site, token, bool(form.get("confirm")))
    return sign_up(site, form, environ)


def sign_up(site: Site, form: dict[str, list[str]], environ: dict[str, Any]) -> Answer:
    lang = site.lang
    try:
        signup = check_form(site.pub, form.get("email", [""])[0], form.get("name", [""])[0],
                            form.get("feed", []))
        lang = language_of(signup_language(site.pub, signup.feeds))
        with site.store() as store:
            request_signup(site.pub, store, site.secret, signup, now=site.clock(), smtp=site.smtp)
    except (InputError, ConfigError):
        return site.page(lang, "400 Bad Request", "bad_title", text(lang, "form_bad"))
    except SignupUnavailable as exc:
        environ["wsgi.errors"].write(f"masthead: sign-up mail not sent: {exc}\n")   # never the address
        return site.page(lang, "503 Service Unavailable", "check_title",
                        text(lang, "unavailable"))
    # The same answer whether the address is new, subscribed, suppressed or rate-limited.
    return site.page(lang, "200 OK", "check_title", text(lang, "check"))


def _read(site: Site, token: str) -> SignupRequest | Answer:
    found = read_confirmation(site.secret, token, now=site.clock())
    if found is None:
        return site.page(site.lang, "403 Forbidden", "bad_title", text(site.lang, "bad"))
    if found == "expired":
        return site.page(site.lang, "410 Gone", "bad_title", text(site.lang, "expired"))
    return found


def _titles(site: Site, request: SignupRequest) -> list[str]:
    return [f.title for f in site.pub.feeds if f.name in request.feeds]


def confirm_page(site: Site, token: str) -> Answer:
    request = _read(site, token)
    if not isinstance(request, SignupRequest):
        return request
    lang = language_of(signup_language(site.pub, request.feeds))
    button = html.escape(word(lang, "web.join_button"))
    return site.page(lang, "200 OK", "join_title",
                    f"<p>{fill(lang, 'join', who=request.email, feeds=_titles(site, request))}</p>"
                    f'<form method="post" action="{html.escape(site.subscribe_path)}">'
                    f'{hidden("token", token)}{hidden("confirm", "yes")}'
                    f'<button type="submit">{button}</button></form>')


def confirm(site: Site, token: str, confirmed: bool) -> Answer:
    if not confirmed:
        return site.page(site.lang, "400 Bad Request", "bad_title", text(site.lang, "bad"))
    request = _read(site, token)
    if not isinstance(request, SignupRequest):
        return request
    lang = language_of(signup_language(site.pub, request.feeds))
    try:
        with site.store() as store:
            confirm_signup(site.pub, store, request, now=site.clock())
    except InputError:
        return site.page(lang, "410 Gone", "bad_title", text(lang, "expired"))
    return site.page(lang, "200 OK", "joined_title",
                    f"<p>{fill(lang, 'joined', feeds=_titles(site, request))}</p>")


def form_page(site: Site) -> Answer:
    """The sign-up form on its own: address, name, a box per feed with a digest."""
    lang = site.lang
    labels = [html.escape(word(lang, "signup_form.email")), html.escape(word(lang, "signup_form.name")),
              html.escape(word(lang, "signup_form.button"))]
    boxes = "".join(
        f'<label><input type="checkbox" name="feed" value="{html.escape(f.name)}" checked> '
        f"<bdi>{html.escape(f.title)}</bdi></label>"
        for f in site.pub.feeds if f.name in site.pub.digest_feeds)
    return site.page(lang, "200 OK", "join_title",
                    f'<form method="post" action="{html.escape(site.subscribe_path)}">'
                    f'<label>{labels[0]} <input type="email" name="email" required dir="ltr"></label>'
                    f'<label>{labels[1]} <input type="text" name="name"></label>{boxes}'
                    f'<button type="submit">{labels[2]}</button></form>')
