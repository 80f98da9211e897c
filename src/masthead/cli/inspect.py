"""``masthead inspect PATH...``: the record each article file gives, as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ConfigError
from .common import project_option, publication

if TYPE_CHECKING:
    from ..config import FeedSettings, Publication

KEYS = ("id", "title", "url", "published", "updated", "precision", "language", "direction",
        "summary", "source", "photo_credit", "publisher", "authors", "tags", "origin", "draft")


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@project_option
@click.option("--body", is_flag=True, help="Include body_html and body_text.")
def inspect(paths: tuple[Path, ...], project: Path, body: bool) -> None:
    """Print the record each article file gives: one JSON object per line.

    Settings (time zone, base URL, feed language) come from the publication
    when the files lie inside one. Exits 1 when some path gave no article.

    Example: masthead inspect feeds/ar-news/000_dc9ff0ee3f199e80.txt
    """
    from ..collect import READERS, read_articles
    from ..collect.cache import article_to_dict

    pub = _publication(project)
    failed = False
    for path in paths:
        feed = _feed_for(pub, path)
        origin = pub.relative(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            failed = True
            _emit({"origin": origin, "problems": [f"cannot read it: {exc.strerror}"]})
            continue
        kind = READERS.get(path.suffix.lower(), "text")
        articles, problems = read_articles(data, origin, kind, feed, pub.site)
        for article in articles:
            record = article_to_dict(article)
            out = {key: record[key] for key in KEYS}
            if body:
                out.update(body_html=record["body_html"], body_text=record["body_text"])
            out["image"] = record["image"]
            out["enclosures"] = record["enclosures"]
            out["problems"] = list(article.problems) + [p.message for p in problems if not p.fatal]
            _emit(out)
        if not articles:
            failed = True
            _emit({"origin": origin, "problems": [p.message for p in problems] or ["no article found"]})
    raise SystemExit(1 if failed else 0)


def _emit(record: dict) -> None:
    click.echo(json.dumps(record, ensure_ascii=False))


def _publication(project: Path) -> Publication:
    try:
        return publication(project)
    except ConfigError:
        if (project / "feeds").is_dir():
            raise
        return _standalone()


def _standalone() -> Publication:
    """Settings for files outside any publication: UTC, no base URL of the user's."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "feeds" / "inspect").mkdir(parents=True)
        (root / "feeds" / "site.toml").write_text(
            'title = "inspect"\nbase_url = "https://example.invalid/"\n', encoding="utf-8")
        (root / "feeds" / "inspect" / "feed.toml").write_text('title = "inspect"\n', encoding="utf-8")
        return publication(root)


def _feed_for(pub: Publication, path: Path) -> FeedSettings:
    resolved = path.resolve()
    for feed in pub.feeds:
        if feed.folder in resolved.parents:
            return feed
    return pub.feeds[0]
