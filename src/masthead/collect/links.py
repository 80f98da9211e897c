"""Links between a publication's own files: sibling articles, and the pictures and files beside them.

A Markdown, HTML or JSON article may link to another article by its file
(``[x](second.md)``) and show or offer files that sit beside it
(``![](images/a.jpg)``, ``image: images/a.jpg``, an enclosure
``audio/episode.mp3``). Once every file is read, such relative URLs become
absolute: a link to an article becomes that article's URL (its page), and a
file becomes the public URL of its copy in output/ (``feeds/news/images/a.jpg``
is published as ``output/news/images/a.jpg``), which the feeds stage makes.
Feeds and mail carry only absolute URLs.

A link to a file that is not there, that lies outside feeds/, or that is not a
picture, sound, video or document is a problem naming the article and the
link; the link is left as written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from html import escape, unescape
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

from ..config import Publication
from ..records import Article, LocalFile, Problem
from ..text import relative_links

# Pictures, sound and video a feed folder may hold beside its articles: never articles, copied when referred to.
MEDIA_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg", ".ico",
    ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac",
    ".mp4", ".m4v", ".webm", ".mov", ".ogv", ".vtt", ".srt",
})
# Documents: copied when an article links to them; one nothing links to may be an article left unread.
DOCUMENT_SUFFIXES = frozenset({".pdf", ".epub", ".csv", ".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"})
ASSET_SUFFIXES = MEDIA_SUFFIXES | DOCUMENT_SUFFIXES
LINKING = (".md", ".markdown", ".html", ".htm", ".json")   # article files whose bodies may link to files
_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


Looked = dict[str, "list[int] | None"]   # absolute path -> [size, mtime_ns], None when it is not there


def link_local_files(pub: Publication, articles: list[Article], looked: Looked | None = None,
                     entangled: set[str] | None = None, *,
                     targets: list[Article] | None = None) -> tuple[list[Article], list[Problem]]:
    """Articles with links to sibling articles and local files made absolute, and problems for the rest.

    ``looked`` gets every file the links were checked against, with its size
    and mtime (None when missing): what the result depends on besides the
    articles. ``entangled`` gets the file of every article with relative links
    and of every article one links to: those whose change can change another
    article. ``targets``: the articles links may lead to (default: ``articles``).
    """
    by_origin: dict[str, list[Article]] = {}     # made when a link first needs it: most articles have none

    def origins() -> dict[str, list[Article]]:
        return _by_origin(by_origin, articles if targets is None else targets)

    out: list[Article] = []
    problems: list[Problem] = []
    for article in articles:
        if not article.origin.endswith(LINKING) or "://" in article.origin:
            out.append(article)
            continue
        linked, notes = _link(pub, article, origins, {} if looked is None else looked,
                              set() if entangled is None else entangled)
        out.append(linked)
        problems += [Problem(article.origin, note) for note in notes]
    return out, problems


def _by_origin(by_origin: dict[str, list[Article]], targets: list[Article]) -> dict[str, list[Article]]:
    """``by_origin`` (empty until the first call) filled with ``targets`` by their files."""
    if not by_origin:
        for target in targets:
            by_origin.setdefault(target.origin, []).append(target)
    return by_origin


def _link(pub: Publication, article: Article, origins: Callable[[], dict[str, list[Article]]],
          looked: Looked, entangled: set[str]) -> tuple[Article, list[str]]:
    wanted = set(relative_links(article.body_html))
    if article.image is not None and _relative(article.image.url):
        wanted.add(article.image.url)
    wanted.update(e.url for e in article.enclosures if _relative(e.url))
    if not wanted:
        return article, []
    by_origin = origins()
    entangled.add(article.origin)
    folder = (pub.root / article.origin).parent
    resolved: dict[str, str] = {}
    files: dict[str, LocalFile] = {}
    stats: list[str] = []
    notes: list[str] = []
    for link in sorted(wanted):
        url, note = _target(pub, folder, link, by_origin, files, stats, looked, entangled)
        if url is not None:
            resolved[link] = url
        if note:
            notes.append(note)
    if not resolved:
        return article, notes

    def fix(match: re.Match[str]) -> str:
        value = unescape(match.group(2))
        if value not in resolved:
            return match.group(0)
        return match.group(1) + escape(resolved[value], quote=False).replace('"', "&quot;") + match.group(3)

    image = article.image
    if image is not None and image.url in resolved:
        image = replace(image, url=resolved[image.url])
    enclosures = tuple(replace(e, url=resolved.get(e.url, e.url)) for e in article.enclosures)
    # A changed picture must rebuild the feeds even when the article's text did not change.
    fingerprint = hashlib.sha256((article.content_hash + "|".join(stats)).encode()).hexdigest()[:16]
    return replace(article, body_html=_ATTR.sub(fix, article.body_html), image=image, enclosures=enclosures,
                   local_files=tuple(files[k] for k in sorted(files)), content_hash=fingerprint), notes


def _relative(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc and bool(parts.path) and not url.startswith("#")


def _target(pub: Publication, folder: Path, link: str, by_origin: dict[str, list[Article]],
            files: dict[str, LocalFile], stats: list[str], looked: Looked,
            entangled: set[str]) -> tuple[str | None, str | None]:
    """(absolute URL, note) for one relative link of an article in ``folder``."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return None, None
    if not parts.path:
        return None, None
    suffix = "#" + parts.fragment if parts.fragment else ""
    path = (folder / unquote(parts.path)).resolve()
    feeds = pub.feeds_dir.resolve()
    if not path.is_relative_to(feeds):
        return None, f"links to {link!r}, which lies outside the publication's feeds/ folder: left as written"
    origin = path.relative_to(pub.root.resolve()).as_posix()
    targets = by_origin.get(origin)
    entangled.add(origin)
    if targets:
        if len(targets) > 1:
            return None, f"links to {link!r}, a file of {len(targets)} articles: link to one article's page instead"
        note = f"links to {link!r}, a draft: the link works once it is published" if targets[0].draft else None
        return targets[0].url + suffix, note
    if not path.is_file():
        looked[str(path)] = None
        return None, f"links to {link!r}, which does not exist: check the path"
    if path.suffix.lower() not in ASSET_SUFFIXES:
        return None, (f"links to {link!r}: only pictures, sound, video and documents beside articles are "
                      f"published ({', '.join(sorted(ASSET_SUFFIXES))})")
    inside = PurePosixPath(path.relative_to(feeds).as_posix())
    files[origin] = LocalFile(source=origin, target=f"output/{inside}")
    stat = path.stat()
    stats.append(f"{origin}:{stat.st_size}:{stat.st_mtime_ns}")
    looked[str(path)] = [stat.st_size, stat.st_mtime_ns]
    return pub.site.base_url + quote(str(inside), safe="/") + (f"?{parts.query}" if parts.query else "") + suffix, None
