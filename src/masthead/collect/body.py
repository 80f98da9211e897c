"""An article's body as every output carries it: sanitised HTML and its plain text.

Bodies over MAX_BODY characters are cut, trees nested deeper than MAX_DEPTH
become plain paragraphs (the sanitiser slows down sharply on them), scripts and
event handlers are removed (and reported), and relative URLs of an upstream
item are made absolute against its base (xml:base, then the feed's URL).
"""

from __future__ import annotations

import html
import re

from ..text import absolute_links, clean_text, html_to_text, paragraphs_to_html, sanitise_html

MAX_BODY = 2_000_000        # characters of body kept; larger bodies are cut, with a note
MAX_DEPTH = 100             # element nesting kept as HTML; deeper bodies become plain paragraphs


def body(html_source: str | None, text_source: str | None, base: str | None,
         problems: list[str]) -> tuple[str, str]:
    """(sanitised HTML, plain text) of a body given as HTML or as paragraphs of text."""
    if html_source:
        source = html_source
        if len(source) > MAX_BODY:
            source = source[:MAX_BODY]
            problems.append(f"body longer than {MAX_BODY:,} characters: cut")
        if _depth(source) > MAX_DEPTH:
            problems.append(f"HTML nested more than {MAX_DEPTH} levels deep: kept as plain text")
            source = paragraphs_to_html([p for p in html_to_text(source).split("\n\n") if p])
        safe = sanitise_html(source)
        if _has_active_content(source):
            problems.append("scripts, event handlers or javascript: links were removed from the body")
        if base:
            safe = absolute_links(safe, base)
        return safe, html_to_text(safe)
    text = clean_text(text_source or "")
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY]
        problems.append(f"body longer than {MAX_BODY:,} characters: cut")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return paragraphs_to_html(paragraphs), "\n\n".join(paragraphs)


_TAG = re.compile(r"<[^>]*>?")
_OPEN_CLOSE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "source", "area", "col",
                   "embed", "param", "track", "base"})


def _depth(markup: str) -> int:
    """How deeply the elements of ``markup`` nest (void and self-closed tags do not count)."""
    depth = deepest = 0
    for closing, name, self_closed in _OPEN_CLOSE.findall(markup):
        if closing:
            depth = max(0, depth - 1)
        elif not self_closed and name.lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


# Nothing active can hide in markup without one of these (entity-encoded URLs need "&#" or a name with "script").
_SUSPECT = re.compile(r"script|iframe|object|embed|applet|on[a-z]+\s*=|&#", re.IGNORECASE)
_ACTIVE_ELEMENT = re.compile(r"<\s*(script|iframe|object|embed|applet)\b")
_HANDLER = re.compile(r"[\s/\"']on[a-z]+\s*=")
_SCRIPT_URL = re.compile(r"(javascript|vbscript):")
_BLANKS = re.compile(r"[\x00-\x20]+")


def _has_active_content(markup: str) -> bool:
    """True when a tag in ``markup`` holds a script, an event handler or a script URL.

    Only tags are looked at (entities decoded, blanks dropped from URLs), so prose
    or code samples that mention "javascript:" are not reported.
    """
    if not _SUSPECT.search(markup):
        return False
    for tag in _TAG.findall(markup):
        text = html.unescape(tag).lower()
        if _ACTIVE_ELEMENT.match(text) or _HANDLER.search(text):
            return True
        if _SCRIPT_URL.search(_BLANKS.sub("", text)):
            return True
    return False


_IMG_ALT = re.compile(r'<img\b[^>]*\balt="([^"]+)"')


def image_alt(safe_html: str) -> str:
    """The description of the first picture in sanitised HTML that has one ('' when none)."""
    match = _IMG_ALT.search(safe_html)
    return html.unescape(match.group(1)) if match else ""
