"""``/subscribe`` (the path of ``email.subscribe_url``): sign-up with double opt-in over HTTP.

- GET without a token: a small sign-up form (the feed pages carry the same form);
- POST with ``email`` (and ``name``, one or more ``feed``): queues a
  confirmation link for the background sender and answers "check your inbox",
  the same page for every address. A filled-in ``website`` field (hidden from
  people: only bots fill it) gets the same page and nothing else; a client over
  its limit 429, the domain's or the total limit 503; a POST from another
  site's page 403;
- GET with ``?token=``: a confirm button, nothing else (mail scanners follow links);
- POST with the token and ``confirm``: subscribes, once. An expired or used
  link gets 410, a forged one 403, another site's POST 403, and none of them
  changes anything.
"""

from __future__ import annotations

import html
from typing import Any

from ..errors import ConfigError, InputError
from ..i18n import word
from ..subscribers.signup import (
    LinkUsed,
    SignupUnavailable,
    TooManySignups,
    check_form,
    confirm_signup,
    read_confirmation,
    request_signup,
    signup_language,
)
from ..tokens import SignupRequest
from .forms import read_form, read_query
from .pages import SECURITY, Answer, fill, hidden, language_of, text
from .site import Site

HONEYPOT = "website"          # a field people never see (hidden by CSS); bots fill it in
SMTPUTF8_WAIT = 5.0           # seconds a sign-up may wait to learn whether the server takes UTF-8 addresses


def subscribe(site: Site, method: str, environ: dict[str, Any]) -> Answer:
    """Answer one request to the sign-up path."""
    query = read_query(environ)
    if method in ("GET", "HEAD"):
        token = query.get("token", [""])[0]
        return confirm_page(site, token) if token else form_page(site)
    if method != "POST":
        return "405 Method Not Allowed", [("Allow", "GET, HEAD, POST")] + SECURITY, b""
    form = read_form(environ)
    if not site.same_origin(environ):
        return site.page(site.lang, "403 Forbidden", "bad_title", text(site.lang, "other_site"))
    token = form.get("token", query.get("token", [""]))[0]
    if token:
        return confirm(site, token, bool(form.get("confirm")))
    return sign_up(site, form, environ)


def sign_up(site: Site, form: dict[str, list[str]], environ: dict[str, Any]) -> Answer:
    lang = site.lang
    try:
        signup = check_form(site.pub, form.get("email", [""])[0], form.get("name", [""])[0],
                            form.get("feed", []))
    except (InputError, ConfigError):
        return site.page(lang, "400 Bad Request", "bad_title", text(lang, "form_bad"))
    lang = language_of(signup_language(site.pub, signup.feeds))
    checked = site.page(lang, "200 OK", "check_title", text(lang, "check"))
    if any(v.strip() for v in form.get(HONEYPOT, [])):
        return checked                          # a bot: the same answer, and nothing happens
    if site.outbox is None:
        environ["wsgi.errors"].write("masthead: sign-up unavailable: no SMTP server (MASTHEAD_SMTP_URL)\n")
        return site.page(lang, "503 Service Unavailable", "check_title", text(lang, "unavailable"))
    if not signup.email.partition("@")[0].isascii():
        utf8 = site.outbox.speaks_smtputf8(SMTPUTF8_WAIT)
        if utf8 is None:
            return site.page(lang, "503 Service Unavailable", "check_title", text(lang, "unavailable"))
        if not utf8:
            return site.page(lang, "400 Bad Request", "bad_title", text(lang, "not_ascii"))
    try:
        with site.store() as store:
            outcome = request_signup(site.pub, store, site.secret, signup, now=site.clock(),
                                     client=site.client(environ))
    except TooManySignups:
        return site.page(lang, "429 Too Many Requests", "check_title", text(lang, "too_many"),
                         retry_after=site.pub.site.signup.window * 60)
    except SignupUnavailable as exc:
        environ["wsgi.errors"].write(f"masthead: sign-up refused: {exc}\n")   # never the address
        return site.page(lang, "503 Service Unavailable", "check_title", text(lang, "unavailable"),
                         retry_after=site.pub.site.signup.window * 60)
    if outcome == "queued":
        site.outbox.nudge()
    # The same answer whether the address is new, subscribed, suppressed or limited.
    return checked


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
            confirm_signup(site.pub, store, site.secret, token, request, now=site.clock())
    except LinkUsed:
        return site.page(lang, "410 Gone", "bad_title", text(lang, "used"))
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
                    f'<label>{labels[1]} <input type="text" name="name" maxlength="100"></label>{boxes}'
                    f'<label style="position:absolute;left:-9999px" aria-hidden="true">Website '
                    f'<input type="text" name="{HONEYPOT}" tabindex="-1" autocomplete="off"></label>'
                    f'<button type="submit">{labels[2]}</button></form>')
