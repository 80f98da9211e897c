"""The HTML pages that feed links point at, so they resolve on any static host.

- ``output/<feed>/<slug>.html``: one page per article (its ``url`` under the site);
- ``output/<feed>/index.html``: each feed's page (the feeds' alternate link),
  with ``<link rel="alternate">`` discovery tags for its RSS, Atom and JSON files,
  and, for a feed with a digest, a sign-up form posting to ``email.subscribe_url``;
- ``output/index.html``: the site's page, listing every feed;
- ``output/site.css``: the one stylesheet of all these pages (and of the feeds'
  browser view), linked by a relative path so that pages work on any host.

Templates come from the publication's ``templates/page/`` when present, else
from the package; the XSL stylesheet likewise (``templates/feed.xsl``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, ItemsView, Iterator, Mapping
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from ..config import Publication, SiteSettings
from ..errors import ConfigError
from ..i18n import day_label, languages, names, section
from ..records import Article, Fill, Problem, by_id
from ..text import direction_of
from .content import credits_line, entry_html, media
from .pagelead import page_lead
from .plan import FeedPlan

if TYPE_CHECKING:          # jinja2 loads when a page is rendered, not for a run that renders none
    import jinja2


def url_path(path: str) -> str:
    """A path under output/ as it appears in a URL: each segment percent-encoded."""
    return quote(path, safe="/")


def home_url(site: SiteSettings, plan: FeedPlan) -> str:
    """The feed's page: the alternate link of its RSS, Atom and JSON files."""
    return site.base_url + url_path(f"{plan.folder}/")


def article_path(site: SiteSettings, article: Article) -> str | None:
    """Where the article's page goes (output/...), or None when its URL is not on the site."""
    if not article.url.startswith(site.base_url):
        return None
    rel = article.url[len(site.base_url):].partition("#")[0].partition("?")[0]
    if "%" in rel:
        rel = unquote(rel)
    if not rel or rel.endswith("/"):
        rel += "index.html"
    # No empty, "." or ".." segment (a name ending in .html is none of them, so only these can be).
    if (not rel.endswith(".html") or rel.startswith(("/", "./", "../"))
            or "//" in rel or "/./" in rel or "/../" in rel):
        return None
    return f"output/{rel}"


RESERVED = "output/digests/"     # digests' web copies: no article page may land there
PAGE_BATCH = 200                 # article pages whose articles are given their bodies at a time


class Pages(Mapping[str, Article]):
    """Each article page's path (output/...) and the article it is, in the order claimed.

    A large archive has a page per article, so the paths are not held: a page
    whose path is its URL's tail under the site (nearly every one) is held by
    that URL, which its article already holds, and its path is made when asked.
    Others (a URL with a query, a fragment or escapes) are held by their path.
    """

    __slots__ = ("_base", "_by")

    def __init__(self, base_url: str) -> None:
        self._base = base_url if not base_url.startswith("output/") else "\0"   # a URL key never looks like a path
        self._by: dict[str, Article] = {}

    def add(self, path: str, article: Article) -> None:
        url = article.url
        plain = url.startswith(self._base) and url[len(self._base):] == path[len("output/"):]
        self._by[url if plain else path] = article

    def key(self, path: str) -> str:
        """What the page at ``path`` (one of these) is held by: ``path_of`` gives the path back."""
        article = self._by.get(self._base + path[len("output/"):])
        return article.url if article is not None else path      # the URL its article holds, not a copy

    def path_of(self, key: str) -> str:
        """The path of a page held by ``key``; any other path as it is."""
        return "output/" + key[len(self._base):] if key.startswith(self._base) else key

    def __getitem__(self, path: str) -> Article:
        if path.startswith("output/"):
            article = self._by.get(self._base + path[len("output/"):])
            if article is not None:
                return article
            return self._by[path]
        raise KeyError(path)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path.startswith("output/") and (
            self._base + path[len("output/"):] in self._by or path in self._by)

    def __iter__(self) -> Iterator[str]:
        return map(self.path_of, self._by)

    def __len__(self) -> int:
        return len(self._by)

    def items(self) -> ItemsView[str, Article]:
        return _PageItems(self)

    def held(self) -> Iterator[tuple[str, Article]]:
        """(path, article) of each page, in the order claimed, with one lookup each."""
        path_of = self.path_of
        return ((path_of(key), article) for key, article in self._by.items())


class _PageItems(ItemsView[str, Article]):
    _mapping: Pages

    def __iter__(self) -> Iterator[tuple[str, Article]]:
        return self._mapping.held()


def claim_pages(site: SiteSettings, folders: set[str],
                articles: tuple[Article, ...] | list[Article]) -> tuple[Pages, list[Problem]]:
    """Which article gets each page path, and a Problem for every article whose page collides.

    A feed's page (``<folder>/index.html``), the site's page and the digests'
    folder are never an article's; of two articles on one path the one with the
    smaller id keeps it. Nothing is overwritten silently: each article left
    without its page is reported, naming what holds the path.
    """
    held = {f"output/{folder}/index.html": f"the page of feed {folder}" for folder in folders}
    held["output/index.html"] = "the site's page"
    owners = Pages(site.base_url)
    problems: list[Problem] = []
    for article in sorted(articles, key=by_id):
        path = article_path(site, article)
        if path is None:
            continue
        if path.startswith(RESERVED):
            holder = "the digests' folder"
        elif path in held:
            holder = held[path]
        elif path in owners:
            holder = f"the page of {owners[path].origin}"
        else:
            owners.add(path, article)
            continue
        problems.append(Problem(article.origin, f"its page {path} is {holder}: that is kept and this "
                                "article gets no page; give it another slug or url"))
    return owners, problems


COMPILED = "compiled-templates"   # under the state folder: the page templates as jinja2 compiled them


def _environment(pub: Publication) -> jinja2.Environment:
    compiled: Path | None = None     # no state folder (the library without a run): compiled each time
    if pub.state_dir.is_dir():
        try:
            pub.state_dir.joinpath(COMPILED).mkdir(mode=0o700, exist_ok=True)
            compiled = pub.state_dir / COMPILED
        except OSError:
            pass             # compiled again by each run that renders a page: slower, as right
    return _made_environment(pub.templates_dir, pub.templates_dir.is_dir(), compiled)


@functools.lru_cache(maxsize=8)
def _made_environment(templates: Path, own: bool, compiled: Path | None) -> jinja2.Environment:
    """One environment per templates folder: its compiled templates serve every page of a build.

    Jinja reloads a template whose file changed, so edits between runs in one
    process are seen; a templates folder made since is a new key. Compiled
    templates are kept in ``compiled`` for the next run (jinja2 checks each
    against its source's checksum, so an edited template is compiled anew).
    """
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if own:
        loaders.append(jinja2.FileSystemLoader(templates))
    loaders.append(jinja2.PackageLoader("masthead", "templates"))
    cache = jinja2.FileSystemBytecodeCache(str(compiled)) if compiled is not None else None
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, bytecode_cache=cache,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["direction"] = direction_of
    env.filters["day"] = _day
    env.globals["words"] = page_words
    return env


def _day(when: datetime, language: str, precision: str | None = "day") -> str:
    """A date as people read it, no more precise than its source: '6 May 2022', 'December 2003', '2003'."""
    if precision == "year":
        return str(when.year)
    if precision == "month":
        return f"{names(language, 'dates.months')[when.month - 1]} {when.year}"
    return day_label(when.date(), language)


def page_words(language: str) -> dict[str, str]:
    """The pages' own words in ``language`` (English for what it lacks): ``words(lang)`` in templates."""
    return section(language, "page")


def _render(env: jinja2.Environment, name: str, **values: object) -> bytes:
    import jinja2

    try:
        template = env.get_template(name)
        return template.render(**values).encode("utf-8")
    except jinja2.TemplateError as exc:
        where = getattr(exc, "filename", None) or f"templates/{name}"
        raise ConfigError(f"template error: {exc}", where=where,
                          hint="fix the template, or delete it to use the built-in one") from None


def _root(path: str) -> str:
    """The relative way from a page at ``path`` (under output/) up to output/ itself."""
    return "../" * path.count("/")


def _source(env: jinja2.Environment, name: str) -> bytes:
    """A template file's text as it is (CSS is not rendered: ``{#`` is common in it)."""
    assert env.loader is not None
    return env.loader.get_source(env, name)[0].encode("utf-8")


def signup_form(pub: Publication, feed: str) -> dict[str, str] | None:
    """What a feed page's sign-up form needs (in the feed's language), or None for a feed without digest."""
    if feed not in pub.digest_feeds:
        return None
    settings = pub.feed(feed)
    words = section(settings.language, "signup_form")
    return {"action": pub.site.email.subscribe_url, "feed": feed,
            **words, "intro": words["intro"].replace("{feed}", settings.title)}


def _feed_links(site: SiteSettings, plan: FeedPlan) -> list[dict[str, str]]:
    return [{"type": kind_type, "title": f"{plan.title} ({label})",
             "href": site.base_url + url_path(f"{plan.folder}/{name}")}
            for label, name, kind_type in (("RSS", "rss.xml", "application/rss+xml"),
                                           ("Atom", "atom.xml", "application/atom+xml"),
                                           ("JSON Feed", "feed.json", "application/feed+json"))]


def feed_pages(pub: Publication, plan: FeedPlan, files: dict[str, str], fill: Fill = list) -> dict[str, bytes]:
    """The feed's own page, ``output/<folder>/index.html``: its latest articles, given their summaries by
    ``fill``."""
    env = _environment(pub)
    page = _render(env, "page/feed.html", site=pub.site, feed=plan, root=_root(f"{plan.folder}/"),
                   links=_feed_links(pub.site, plan), articles=fill(plan.articles),
                   signup=signup_form(pub, plan.name))
    return {f"output/{plan.folder}/index.html": page}


def each_site_page(pub: Publication, plans: tuple[FeedPlan, ...], articles: tuple[Article, ...],
                   is_current: Callable[[str, Article], bool] | None = None,
                   fill: Fill = list,
                   owners: Mapping[str, Article] | None = None) -> Iterator[tuple[str, bytes]]:
    """The site's index page, its stylesheet and one page per article whose URL lies on the site, one at a time.

    Pages for which ``is_current(path, article)`` holds are already on disk as
    they would be rendered, and are left out. ``fill`` gives the articles
    rendered their bodies, a batch at a time. ``owners``: ``claim_pages``'s
    answer for ``articles``, when the caller has it.
    """
    env = _environment(pub)
    site = pub.site
    feeds = [{"plan": p, "url": home_url(site, p), "links": _feed_links(site, p)} for p in plans]
    yield "output/index.html", _render(env, "page/site.html", site=site, feeds=feeds, root="",
                                       direction=direction_of(site.language))
    yield "output/site.css", _source(env, "page/site.css")
    by_name = {p.name: p for p in plans}
    links = {p.name: _feed_links(site, p) for p in plans}
    if owners is None:       # collisions: reported by write_feeds
        owners = claim_pages(site, {p.folder for p in plans}, articles)[0]
    # Checked a batch at a time as they are rendered (each page before it is written): a first run over a
    # large archive renders every page, and holds a batch of them, not one entry per page.
    due = ((path, article) for path, article in owners.items() if is_current is None or not is_current(path, article))
    while batch := list(islice(due, PAGE_BATCH)):
        filled = fill([article for _, article in batch])
        for (path, _), article in zip(batch, filled, strict=True):
            yield path, _article_page(env, pub, by_name, links, path, article)


def _article_page(env: jinja2.Environment, pub: Publication, by_name: dict[str, FeedPlan],
                  links: dict[str, list[dict[str, str]]], path: str, article: Article) -> bytes:
    site = pub.site
    plan = by_name.get(article.feed)
    lead, shown = page_lead(article)
    return _render(env, "page/article.html", site=site, article=article,
                   content=entry_html(shown), credits=credits_line(article), media=media(article),
                   links=links.get(article.feed, []), feed=plan, lead=lead,
                   root=_root(path.removeprefix("output/")), feed_url=home_url(site, plan) if plan else "")


def stylesheet(pub: Publication) -> bytes:
    """The XSL that turns a feed into a readable page (the publication's own, or ours), with every language's words."""
    every = [{"code": code, "words": page_words(code), "months": names(code, "dates.months")}
             for code in languages()]
    return _render(_environment(pub), "feed.xsl", languages=every, english=every[0])
