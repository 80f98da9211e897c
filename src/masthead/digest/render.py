"""Rendering a digest: jinja2 templates -> HTML (CSS inlined once) and plain text.

Templates come from the publication's ``templates/`` folder when it has them,
else from the package (``masthead/templates``); an override can extend the
packaged one as ``default/digest.html``. Undefined variables are errors
(StrictUndefined), and every template error becomes a ConfigError naming the
template file and line.

Per-recipient values appear in the output as mail.py's placeholders, so the
expensive part (templates + premailer) runs once per digest, not per reader.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
import regex
from markupsafe import Markup, escape

from ..config import Publication
from ..errors import ConfigError
from ..i18n import day_label, names, word
from ..records import Article
from ..send import message as mail
from ..text import file_size, summarise

SUMMARY_LIMIT = 320          # characters of summary per article in a digest
TITLE_LIMIT = 200            # a runaway title must not blow the email's size budget
IMAGE_WIDTH = 552            # px: the 600 px column less its paddings
PACKAGE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# A run of Latin script inside right-to-left text ("Photo : Creative Commons"):
# starts and ends with a Latin letter or digit, may hold spaces and punctuation.
_LATIN_RUN = regex.compile(
    r"[\p{Latin}][\p{Latin}\p{Nd}\s.,:;'’&/()+@#%-]*[\p{Latin}\p{Nd}.)]|\p{Latin}"
)
# A run of right-to-left script (Arabic, Hebrew, Syriac, Thaana) inside left-to-right text.
_RTL_RUN = regex.compile(
    r"[\p{Arabic}\p{Hebrew}\p{Syriac}\p{Thaana}]"
    r"(?:[\p{Arabic}\p{Hebrew}\p{Syriac}\p{Thaana}\p{Mn}\s\u200c،؛]*[\p{Arabic}\p{Hebrew}\p{Syriac}\p{Thaana}\p{Mn}])?"
)

FONTS = {
    "rtl": "Tahoma, 'Geeza Pro', 'Segoe UI', 'Noto Naskh Arabic', Arial, sans-serif",
    "ltr": "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
}

def isolate(text: object, direction: str = "rtl") -> Markup:
    """HTML-escape ``text`` and isolate runs of the other direction in ``<span dir>``.

    In right-to-left text, Latin runs (``Photo : Creative Commons``) get
    ``<span dir="ltr">``; in left-to-right text, Arabic-script runs get
    ``<span dir="rtl">``, so punctuation and numbers beside them stay in place.
    """
    value = str(text)
    run, other = (_LATIN_RUN, "ltr") if direction == "rtl" else (_RTL_RUN, "rtl")
    out: list[str] = []
    last = 0
    for match in run.finditer(value):
        out.append(str(escape(value[last:match.start()])))
        out.append(f'<span dir="{other}">{escape(match.group())}</span>')
        last = match.end()
    out.append(str(escape(value[last:])))
    return Markup("".join(out))


def make_environment(pub: Publication) -> jinja2.Environment:
    """The template environment: the publication's folder first, the package's second."""
    packaged = jinja2.FileSystemLoader(PACKAGE_TEMPLATES)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(pub.templates_dir),
            packaged,
            jinja2.PrefixLoader({"default": packaged}),
        ]),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["isolate"] = isolate
    return env


def render_template(pub: Publication, env: jinja2.Environment, name: str,
                    context: Mapping[str, Any]) -> str:
    """Render template ``name``; any template mistake becomes a ConfigError with file and line."""
    return _guarded(pub, lambda: env.get_template(name).render(context), default_where=name)


def render_subject(pub: Publication, env: jinja2.Environment, source: str, feed_name: str,
                   context: Mapping[str, Any]) -> str:
    """The subject line from feed.toml's ``[digest] subject`` template: one line, or a ConfigError."""
    where = f"feeds/{feed_name}/feed.toml: digest.subject"
    subject = _guarded(pub, lambda: env.from_string(source).render(context), default_where=where,
                       string_where=where)
    if any(ch in subject for ch in "\r\n\x0b\x0c\x85\u2028\u2029"):
        raise ConfigError(f"the subject template produces a line break: {subject!r}", where=where,
                          hint="a subject must be one line; check the template and the values it uses")
    subject = " ".join(subject.split())
    if not subject:
        raise ConfigError("the subject template produces an empty subject", where=where,
                          hint="write a subject such as '{{ feed.title }}: {{ period_label }}'")
    return subject


def inline_css(html: str) -> str:
    """Inline the <style> rules into style attributes, keeping @media rules and !important."""
    from premailer import Premailer  # with cssutils and requests: a quarter second, only when a digest is made

    inliner = Premailer(
        html, strip_important=False, allow_network=False, allow_loading_external_files=False,
        keep_style_tags=False, remove_classes=False, disable_validation=True,
        cssutils_logging_level=logging.CRITICAL, align_floating_images=False,
        disable_basic_attributes=["width", "height"],   # keep the numeric sizes Outlook needs
    )
    out = str(inliner.transform())
    for token in mail.PLACEHOLDERS:              # the placeholders must survive inlining intact
        if token in html and token not in out:
            raise RuntimeError(f"CSS inlining damaged the placeholder {token}")
    return out


def _guarded(pub: Publication, render: Callable[[], str], *, default_where: str,
             string_where: str | None = None) -> str:
    try:
        return render()
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"template {exc.name!r} not found", where=f"templates/{exc.name}",
                          hint="restore the template, or delete the override to use the default") from None
    except jinja2.TemplateSyntaxError as exc:
        where = _where(pub, exc.filename, exc.lineno, string_where or default_where)
        raise ConfigError(f"template syntax error: {exc.message}", where=where,
                          hint="fix the template at that line") from None
    except jinja2.UndefinedError as exc:
        filename, line = _template_frame(exc)
        where = _where(pub, filename, line, string_where or default_where)
        raise ConfigError(f"template uses an unknown variable: {exc.message}", where=where,
                          hint="use only the variables the README lists for digest templates") from None
    except jinja2.TemplateError as exc:
        filename, line = _template_frame(exc)
        raise ConfigError(f"template error: {exc}", where=_where(pub, filename, line, default_where),
                          hint="fix the template at that line") from None


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost traceback frame that is a template (jinja2 rewrites frames to template lines)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == "<template>" or Path(frame.filename).suffix in (".html", ".txt"):
            return frame.filename, frame.lineno
    return None, None


def _where(pub: Publication, filename: str | None, line: int | None, fallback: str) -> str:
    if not filename or filename == "<template>":
        return f"{fallback} (line {line})" if line else fallback
    path = Path(filename)
    shown = pub.relative(path) if path.is_absolute() else filename
    if path.is_absolute() and path.resolve().is_relative_to(PACKAGE_TEMPLATES):
        shown = f"masthead/templates/{path.resolve().relative_to(PACKAGE_TEMPLATES).as_posix()}"
    return f"{shown}:{line}" if line else shown


@dataclass(frozen=True, slots=True)
class ArticleView:
    """What a template shows of one article: display-ready strings, nothing to compute."""

    id: str
    title: str
    url: str
    summary: str
    date_label: str
    lang: str
    dir: str
    source: str
    photo_credit: str
    publisher: str
    authors: tuple[str, ...]
    image: dict[str, Any] | None
    media: tuple[dict[str, str], ...] = ()   # audio, video, documents: url, label, size


def article_view(article: Article, tz: ZoneInfo) -> tuple[ArticleView, list[str]]:
    """An Article as a template sees it, and notes about what had to be left out."""
    notes: list[str] = []
    summary = article.summary.strip() or summarise(article.body_text, SUMMARY_LIMIT)
    summary = summarise(summary, SUMMARY_LIMIT)
    image = None
    if article.image is not None:
        parts = urlsplit(article.image.url)
        if parts.scheme == "https" and parts.netloc:
            width = min(IMAGE_WIDTH, article.image.width or IMAGE_WIDTH)
            height = (round(article.image.height * width / article.image.width)
                      if article.image.width and article.image.height else None)
            image = {"url": article.image.url, "alt": article.image.alt or article.title,
                     "width": width, "height": height}
        else:
            notes.append(f"image {article.image.url!r} is not an https URL: left out of the digest "
                         "(mail clients block or warn about insecure images)")
    when = ""
    if article.published is not None:
        local = article.published.astimezone(tz)
        if article.precision == "year":
            when = str(local.year)
        elif article.precision == "month":
            when = f"{names(article.language, 'dates.months')[local.month - 1]} {local.year}"
        else:
            when = day_label(local.date(), article.language)
        if article.precision in ("minute", "second"):
            when += f" {local:%H:%M}"
    offers = {"audio": "article.listen", "video": "article.watch", "file": "article.download"}
    media = tuple({"url": e.url, "label": word(article.language, offers[e.kind]), "size": file_size(e.length)}
                  for e in article.media if urlsplit(e.url).scheme in ("http", "https"))
    view = ArticleView(
        id=article.id, title=summarise(article.title, TITLE_LIMIT), url=article.url, summary=summary, date_label=when,
        lang=article.language, dir=article.direction, source=article.source or "",
        photo_credit=article.photo_credit or "", publisher=article.publisher or "",
        authors=article.authors, image=image, media=media,
    )
    return view, notes
