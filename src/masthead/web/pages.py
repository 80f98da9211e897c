"""The small HTML pages ``masthead serve`` answers forms with, in Arabic or English.

Each page is a complete document with ``lang`` and ``dir`` set, one heading,
its content and the site's name. Addresses are shown masked and isolated
left-to-right (``<bdi dir="ltr">``), feed titles isolated (``<bdi>``), so a
Latin address or title inside Arabic text keeps its order.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from ..i18n import interface_language, word
from ..text import direction_of

TEXT = "; charset=utf-8"
SECURITY = [("X-Content-Type-Options", "nosniff")]
PAGE_HEADERS = SECURITY + [
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" with the
    # page's own form, which the origin check must refuse.
    ("Cache-Control", "no-store"), ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
]
Answer = tuple[str, list[tuple[str, str]], bytes]

def masked(email: str) -> str:
    """``r•••@example.com``: enough for the owner to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def fill(lang: str, key: str, *, who: str | None = None, feeds: Iterable[str] = ()) -> str:
    """The web word ``key`` as HTML, with ``{who}`` (a masked address) and ``{feed}`` (titles) isolated."""
    text = html.escape(word(lang, f"web.{key}"))
    if who is not None:
        text = text.replace("{who}", f'<bdi dir="ltr">{html.escape(masked(who))}</bdi>')
    titles = word(lang, "web.and").join(f"<bdi>{html.escape(t)}</bdi>" for t in feeds)
    return text.replace("{feed}", titles)


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'


def page(site_title: str, lang: str, status: str, title_key: str, content: str) -> Answer:
    """A complete page in ``lang``: the web word ``title_key`` as heading, then ``content`` (HTML)."""
    title = html.escape(word(lang, f"web.{title_key}"))
    site = html.escape(site_title)
    body = (f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction_of(lang)}"><head>'
            f'<meta charset="utf-8"><meta name="robots" content="noindex">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} · {site}</title>"
            f"<style>body{{font-family:Tahoma,Arial,'Segoe UI','Geeza Pro',sans-serif;"
            f"max-width:32em;margin:3em auto;padding:0 1em;line-height:1.6}}"
            f"button{{font:inherit;padding:.5em 1.2em}}label{{display:block;margin:.4em 0}}</style>"
            f"</head><body><h1>{title}</h1>{content}<p><small>{site}</small></p></body></html>\n")
    return status, [("Content-Type", "text/html" + TEXT)] + PAGE_HEADERS, body.encode("utf-8")


def text(lang: str, key: str) -> str:
    """The web word ``key`` as an HTML paragraph."""
    return f"<p>{html.escape(word(lang, f'web.{key}'))}</p>"


def language_of(code: str) -> str:
    """The language a page speaks for a language code: its own when masthead has its words, else English."""
    return interface_language(code)
