"""An article's HTML as feeds, JSON Feed and article pages show it.

The body is wrapped in one element that states its direction and language
(``<div dir="rtl" lang="ar">``): feeds have no per-entry direction, so the
content must carry it. The picture, source agency, photo credit and publisher
line go inside the same wrapper, labelled in the article's own language.
"""

from __future__ import annotations

from html import escape

from ..i18n import word
from ..records import Article
from ..text import absolute_links, file_size

_OFFER = {"audio": "article.listen", "video": "article.watch", "file": "article.download"}


def media(article: Article) -> list[dict[str, str]]:
    """The article's audio, video and documents as a page offers them: url, kind, mime type, label, size."""
    return [{"url": e.url, "kind": e.kind, "type": e.mime_type, "label": word(article.language, _OFFER[e.kind]),
             "size": file_size(e.length)} for e in article.media]


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


def inner_html(article: Article) -> str:
    """Picture, body and credits, without the direction wrapper."""
    pieces = []
    if article.image is not None:
        img = f'<img src="{escape(article.image.url)}" alt="{escape(article.image.alt)}"'
        if article.image.width and article.image.height:
            img += f' width="{article.image.width}" height="{article.image.height}"'
        pieces.append(f"<figure>{img} /></figure>")
    pieces.append(absolute_links(article.body_html.strip(), article.url, fragments=True))
    line = credits_line(article)
    if line:
        pieces.append(f'<p class="credits"><small>{escape(line, quote=False)}</small></p>')
    return "\n".join(p for p in pieces if p)


def entry_html(article: Article) -> str:
    """The article's full HTML, wrapped so that its direction is explicit."""
    return (f'<div dir="{article.direction}" lang="{escape(article.language)}">'
            f"\n{inner_html(article)}\n</div>")
