"""An article's HTML as feeds, JSON Feed and article pages show it.

The body is wrapped in one element that states its direction and language
(``<div dir="rtl" lang="ar">``): feeds have no per-entry direction, so the
content must carry it. The picture, source agency, photo credit and publisher
line go inside the same wrapper, labelled in the article's own language.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urljoin, urlsplit

from ..i18n import word
from ..records import Article

# href / src attributes of sanitised HTML (nh3 writes them double-quoted).
_LINK_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')

def credits_line(article: Article) -> str:
    """Source, photo credit and publisher as one plain-text line ('' when none)."""
    lang = article.language
    parts = []
    if article.source:
        parts.append(f"{word(lang, 'article.source')}: {article.source}")
    if article.photo_credit:
        parts.append(f"{word(lang, 'article.photo')}: {article.photo_credit}")
    if article.publisher:
        parts.append(article.publisher)
    return word(lang, "article.sep").join(parts)


def absolute_links(html: str, base: str) -> str:
    """Relative href and src values made absolute against ``base``: readers have no base URL."""
    def fix(match: re.Match[str]) -> str:
        value = match.group(2)
        if not value or value.startswith("#") or urlsplit(value).scheme:
            return match.group(0)
        return match.group(1) + urljoin(base, value) + match.group(3)
    return _LINK_ATTR.sub(fix, html)


def inner_html(article: Article) -> str:
    """Picture, body and credits, without the direction wrapper."""
    pieces = []
    if article.image is not None:
        img = f'<img src="{escape(article.image.url)}" alt="{escape(article.image.alt)}"'
        if article.image.width and article.image.height:
            img += f' width="{article.image.width}" height="{article.image.height}"'
        pieces.append(f"<figure>{img} /></figure>")
    pieces.append(absolute_links(article.body_html.strip(), article.url))
    line = credits_line(article)
    if line:
        pieces.append(f'<p class="credits"><small>{escape(line, quote=False)}</small></p>')
    return "\n".join(p for p in pieces if p)


def entry_html(article: Article) -> str:
    """The article's full HTML, wrapped so that its direction is explicit."""
    return (f'<div dir="{article.direction}" lang="{escape(article.language)}">'
            f"\n{inner_html(article)}\n</div>")
