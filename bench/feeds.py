"""Feed generation for 10,000 records: masthead beside plain feedgen making the same entries.

Run: .venv/bin/python bench/feeds.py [COUNT]

Builds COUNT generated articles (Arabic and English, some with images and
tags) in a temporary copy of the sample publication whose feed limits are
raised to COUNT, then times, best of three:

- plain feedgen: one FeedGenerator, the same entries (id, title, link, dates,
  summary, the same content HTML, categories, enclosure), RSS and Atom strings;
- masthead RSS + Atom: feeds.render_xml for the same planned feed (feedgen
  plus our extensions: fixed links, xml:lang, dc:creator, stylesheet);
- masthead whole build: build_feeds for the publication (sanitising, every
  feed incl. the aggregate and its language splits, JSON Feed, OPML, pages).

and prints the figures and the ratio masthead / plain feedgen.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from feedgen.feed import FeedGenerator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.factories import article

import masthead.feeds.build
from masthead.collect.sanitise import sanitise_articles
from masthead.config import load_publication
from masthead.feeds.build import build_feeds
from masthead.feeds.content import entry_html
from masthead.feeds.plan import plan_feeds
from masthead.feeds.xmlfeeds import entry_id, render_xml
from masthead.records import Article, Image

BASE = "https://news.example.org/"
START = datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=3)))


def make_articles(count: int) -> list[Article]:
    made = []
    for n in range(count):
        arabic = n % 3 != 0
        feed = "ar-news" if arabic else "en-news"
        words = ("أكد الرئيس أن بناء التعاون الدولي أولوية مهمة " if arabic
                 else "The president said international cooperation is a priority ") * 12
        image = Image(url=f"{BASE}media/{n}.jpg", alt="صورة", length=20_000) if n % 4 == 0 else None
        made.append(article(
            n, feed=feed, title=f"{'خبر' if arabic else 'Story'} {n}", url=f"{BASE}{feed}/{n}.html",
            published=START + timedelta(hours=n), summary=words[:200], body_html=f"<p>{words}</p>" * 4,
            body_text=words * 4, authors=("هيئة التحرير",) if arabic else ("Desk",),
            tags=("اقتصاد", "سياسة") if n % 2 else (), source="تاس" if arabic else "Reuters",
            photo_credit="Creative Commons" if image else None, image=image,
            origin=f"feeds/{feed}/{n}.txt", slug=str(n)))
    return made


def plain_feedgen(plan, site) -> tuple[bytes, bytes]:
    fg = FeedGenerator()
    fg.id(f"{BASE}{plan.folder}/atom.xml")
    fg.title(plan.title)
    fg.description(plan.description or plan.title)
    fg.language(plan.language)
    fg.author({"name": site.author_name})
    fg.link(href=f"{BASE}{plan.folder}/rss.xml", rel="self")
    fg.link(href=f"{BASE}{plan.folder}/", rel="alternate")
    fg.updated(plan.updated)
    for a in plan.articles:
        fe = fg.add_entry(order="append")
        fe.id(entry_id(a, site))
        fe.title(a.title)
        fe.link(href=a.url)
        fe.published(a.published)
        fe.updated(a.updated)
        fe.summary(a.summary)
        fe.content(entry_html(a), type="html")
        if a.tags:
            fe.category([{"term": t} for t in a.tags])
        if a.image:
            fe.enclosure(a.image.url, str(a.image.length), a.image.mime_type)
    return fg.rss_str(pretty=True), fg.atom_str(pretty=True)


def best(label: str, fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    print(f"  {label:<44} {min(times) * 1000:9.0f} ms")
    return min(times)


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "feeds", root / "feeds")
        for toml in (root / "feeds").glob("*/feed.toml"):
            text = toml.read_text("utf-8")
            toml.write_text(text.replace("limit = 50", f"limit = {count}")
                            .replace("limit = 100", f"limit = {count}"), "utf-8")
        pub = load_publication(root)
        # Measure generation at full size: lift the per-file budget (4 MB) that would trim feeds.
        masthead.feeds.build.MAX_FEED_BYTES = 10**12
        articles = make_articles(count)
        clean, _ = sanitise_articles(articles)
        plan = next(p for p in plan_feeds(pub, clean) if p.name == "all")
        assert len(plan.articles) == count, len(plan.articles)
        print(f"{count} records, one feed of {count} entries (RSS + Atom):")
        plain = best("plain feedgen, same entries", lambda: plain_feedgen(plan, pub.site))
        ours = best("masthead render_xml (feedgen + fixes)", lambda: render_xml(pub, plan))
        print(f"  ratio masthead / plain feedgen: {ours / plain:.2f}x")
        outputs: list = []
        whole = best("masthead build_feeds (all feeds, JSON, pages)",
                     lambda: outputs.append(build_feeds(pub, clean, START)), repeat=1)
        files = sum(len(o.contents) for o in outputs[-1])
        size = sum(len(b) for o in outputs[-1] for b in o.contents.values())
        print(f"  whole build: {len(outputs[-1])} feeds, {files} files, {size / 1e6:.1f} MB, "
              f"{whole / plain:.2f}x one plain feedgen feed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
