"""Markdown articles with YAML front matter. Explicit metadata wins over anything inferred.

GitHub Flavored Markdown's tables and footnotes on CommonMark, rendered by
cmark-gfm (GitHub's own renderer, in C: a tenth of the time of a Python one).
Footnote anchors are numbered and carry the file's name (fn-<file>-1,
fnref-<file>-1, fnref-<file>-1-2 for a second reference), so two articles on
one page do not share them. ``draft: true`` is read here and honoured by the
collector.
"""

from __future__ import annotations

import re
from typing import Any

import cmarkgfm
import frontmatter
import yaml
from cmarkgfm.cmark import Options

from ..errors import InputError
from ..text import decode, split_name
from . import fields
from .raw import RawEntry

# Raw HTML is kept here and sanitised with every other body (normalise); footnotes are GitHub's.
_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES
_NOT_ID = re.compile(r"[^a-z0-9-]+")
_NOTE = re.compile(r'<li id="fn-([^"]+)">')
_BACKREF = re.compile(r'href="#fnref-([^"]+)"[^>]*? data-footnote-backref-idx="([0-9-]+)"')
_ANCHOR = re.compile(r'(id="|href="#)(fn|fnref)-([^"]+)"')


def render(body: str, doc_id: str) -> str:
    """The Markdown ``body`` as HTML, its footnote anchors numbered and named after ``doc_id``."""
    markup: str = cmarkgfm.markdown_to_html_with_extensions(body, options=_OPTIONS, extensions=["table"])
    if "data-footnote" not in markup:
        return markup
    # cmark-gfm names anchors after the labels ([^source] -> fn-source, percent-encoded): the notes' numbers
    # (their order in the list, and "n-k" for the k-th reference to note n) make plain, unique ids instead.
    numbers = {"fn": {label: str(n) for n, label in enumerate(_NOTE.findall(markup), start=1)},
               "fnref": dict(_BACKREF.findall(markup))}

    def scoped(match: re.Match[str]) -> str:
        number = numbers[match.group(2)].get(match.group(3))
        return match.group(0) if number is None else f'{match.group(1)}{match.group(2)}-{doc_id}-{number}"'
    return _ANCHOR.sub(scoped, markup)


# libyaml's safe loader when PyYAML was built with it (5x faster than the pure-Python one).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """YAML's safe loader, except that an impossible date (2022-13-45) stays a string.

    The normaliser then reports the date as a problem and still collects the
    article, instead of the whole file failing with a ValueError.
    """


def _timestamp_or_text(loader: _Loader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


class _Handler(frontmatter.YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=_Loader)
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def read_markdown(data: bytes, origin: str) -> list[RawEntry]:
    text, _ = decode(data, origin)
    try:
        post = frontmatter.loads(text, handler=_Handler())
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):      # libyaml's limit, where the Python loader recurses
            raise InputError("the front matter is nested too deeply", where=origin,
                             hint="check the block between the two '---' lines") from None
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"the front matter is not valid YAML{line}", where=origin,
                         hint="check the block between the two '---' lines") from None
    except RecursionError:
        raise InputError("the front matter is nested too deeply", where=origin,
                         hint="check the block between the two '---' lines") from None
    meta = dict(post.metadata)
    body = post.content
    title = fields.text_value(meta, "title")
    if not title:
        heading = _HEADING.search(body)
        if heading:
            title = heading.group(1)
            body = body[: heading.start()] + body[heading.end():]
    published, raw = fields.date_value(meta, "date", "published", "date_published")
    updated, _ = fields.date_value(meta, "updated", "date_modified")
    image, image_problem = fields.image_value(meta)
    enclosures, enclosure_problem = fields.enclosures_value(meta)
    draft, draft_problem = fields.flag(meta, "draft")
    problems = fields.unknown_keys(meta) + tuple(p for p in (image_problem, enclosure_problem, draft_problem) if p)
    doc_id = _NOT_ID.sub("-", split_name(origin.rpartition("/")[2])[0].lower()).strip("-") or "article"
    return [RawEntry(
        origin=origin, key="", title=title or "",
        body_html=render(body, doc_id), summary=fields.text_value(meta, "summary", "description"),
        published=published, published_raw=raw, updated=updated,
        date_text=None if published else body,
        language=fields.text_value(meta, "lang", "language"),
        authors=fields.names(meta, "authors", "author"),
        tags=fields.names(meta, "tags", "categories"),
        source=fields.text_value(meta, "source"),
        photo_credit=fields.text_value(meta, "photo_credit"),
        publisher=fields.text_value(meta, "publisher"),
        image=image, url=fields.text_value(meta, "url"), id=fields.text_value(meta, "id"),
        slug=fields.text_value(meta, "slug"), problems=problems, enclosures=enclosures, draft=draft,
    )]
