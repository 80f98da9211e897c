"""``/unsubscribe`` (the path of ``email.unsubscribe_url``): leaving a feed, or every feed.

- GET shows a page with a confirm button and changes nothing: mail scanners
  and link previews follow links;
- POST with ``List-Unsubscribe=One-Click`` (RFC 8058, what mail providers
  send, url-encoded or multipart/form-data, with no cookie nor Origin) or the
  page's form (only from our own pages: another site's POST is refused)
  unsubscribes at once: from the one feed the token
  names (the page also offers every feed), or from every feed for an older
  token that names only the address;
- a missing, damaged or forged token gets 400 or 403 and changes nothing.
"""

from __future__ import annotations

import html
from typing import Any

from ..i18n import word
from ..state import roster
from ..tokens import Unsubscribe, read_token
from .forms import read_form, read_query
from .pages import SECURITY, Answer, fill, hidden, text
from .site import Site


def unsubscribe(site: Site, method: str, environ: dict[str, Any]) -> Answer:
    """GET: the confirm page. POST: one-click (RFC 8058) or the page's form.

    A token naming a feed leaves that feed: one-click does only that, the
    page offers it first and "leave every list" second. An older token
    (address only) leaves every feed, as it always did.
    """
    query = read_query(environ)
    if method in ("GET", "HEAD"):
        found = _check(site, query.get("token", [""])[0])
        if not isinstance(found, Unsubscribe):
            return found
        return site.page(site.language(found.feed), "200 OK", "confirm_title",
                         confirm_form(site, query["token"][0], found))
    if method != "POST":
        return "405 Method Not Allowed", [("Allow", "GET, HEAD, POST")] + SECURITY, b""
    form = read_form(environ)
    token = form.get("token", query.get("token", [""]))[0]
    one_click = form.get("List-Unsubscribe", [""])[0] == "One-Click"
    confirmed = bool(form.get("confirm"))
    if not (one_click or confirmed):
        return site.page(site.lang, "400 Bad Request", "bad_title", text(site.lang, "bad"))
    if confirmed and not one_click and not site.same_origin(environ):
        return site.page(site.lang, "403 Forbidden", "bad_title", text(site.lang, "other_site"))
    found = _check(site, token)
    if not isinstance(found, Unsubscribe):
        return found
    everything = found.feed is None or (confirmed and form.get("scope", [""])[0] == "all")
    lang = site.language(found.feed)
    with site.store() as store:
        if everything:
            roster.set_status(store, found.email, "unsubscribed", now=site.clock(), only_if="active")
            return site.page(lang, "200 OK", "done_title", text(lang, "done"))
        assert found.feed is not None
        roster.leave_feed(store, found.email, found.feed, now=site.clock())
    return site.page(lang, "200 OK", "done_title",
                     f"<p>{fill(lang, 'done_feed', feeds=[site.title(found.feed)])}</p>")

def _check(site: Site, token: str) -> Unsubscribe | Answer:
    if not token:
        return site.page(site.lang, "400 Bad Request", "bad_title", text(site.lang, "bad"))
    found = read_token(site.secret, token)
    if found is None:
        return site.page(site.lang, "403 Forbidden", "bad_title", text(site.lang, "bad"))
    return found

def confirm_form(site: Site, token: str, found: Unsubscribe) -> str:
    lang = site.language(found.feed)
    action = html.escape(site.unsubscribe_path)
    fields = hidden("token", token) + hidden("confirm", "yes")
    if found.feed is None:
        return (f"<p>{fill(lang, 'confirm', who=found.email)}</p>"
                f'<form method="post" action="{action}">{fields}'
                f'<button type="submit">{html.escape(word(lang, "web.button"))}</button></form>')
    title = [site.title(found.feed)]
    return (f"<p>{fill(lang, 'confirm_feed', who=found.email, feeds=title)}</p>"
            f'<form method="post" action="{action}">{fields}'
            f'<label><input type="radio" name="scope" value="feed" checked> '
            f"{fill(lang, 'leave_feed', feeds=title)}</label>"
            f'<label><input type="radio" name="scope" value="all"> {html.escape(word(lang, "web.leave_all"))}</label>'
            f'<button type="submit">{html.escape(word(lang, "web.button"))}</button></form>')
