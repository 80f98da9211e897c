"""The feeds and durability sections of bench/targets.py.

Feeds: one feed of COUNT entries (10,000; 1,000 with --quick), generated
Arabic and English articles (some with a picture, tags, links in the body),
sanitised and planned as a run would. Both sides start from the same planned
articles and write their files with ``Path.write_bytes``, interleaved:

- masthead: RSS 2.0, Atom 1.0 and JSON Feed for the feed's document
  (feeds.build.render_document: each entry's HTML made from the record, feedgen
  with masthead's extensions, the JSON Feed beside it);
- plain feedgen, as a user would write it with feedgen alone: one
  FeedGenerator, add_entry with id, title, link, both dates, author (in RSS as
  dc:creator through feedgen's dc extension, as masthead writes it: RSS's own
  <author> needs an e-mail address), summary, content, tags and the picture as
  enclosure, then rss_str and atom_str. Its content is the same HTML masthead
  puts in its entries, made by the same function (masthead.feeds.content.
  entry_html: the body wrapped in its direction and language, links made
  absolute, picture and credits), since a user of feedgen has to make that
  HTML too; it is made inside the timing on both sides.

Durability: a cold ``masthead run`` over a generated publication (3,000
articles; 200 with --quick: bench/job.py's) with ``os.fsync`` wrapped to
count calls on folders and on files (the writes themselves are real). The
line is folder fsyncs per folder fsynced (target: one each, i.e. 1.0); the
note gives the files written, all fsyncs, and those of the same run with
masthead as it was before folder fsyncs were batched (git BEFORE_REV).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ratio import ROOT, Result, child, interleaved

BASE = "https://news.example.org/"
BEFORE_REV = "cbc6ad6"      # masthead fsyncing the folder after every file it wrote
START = datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=3)))
sys.path.insert(0, str(ROOT))                # tests.factories


def make_articles(count: int) -> list:
    """``count`` articles, two in three Arabic; every fourth with a picture, every third with links."""
    from tests.factories import article

    from masthead.records import Image

    made = []
    for n in range(count):
        arabic = n % 3 != 0
        feed = "ar-news" if arabic else "en-news"
        words = ("أكد الرئيس أن بناء التعاون الدولي أولوية مهمة " if arabic
                 else "The president said international cooperation is a priority ") * 12
        body = f"<p>{words}</p>" * 4
        if n % 3 == 1:
            body += f'<p><a href="/{feed}/{n - 1}.html">{words[:30]}</a> <a href="https://other.example/">x</a></p>'
        image = Image(url=f"{BASE}media/{n}.jpg", alt="صورة", length=20_000) if n % 4 == 0 else None
        made.append(article(
            n, feed=feed, title=f"{'خبر' if arabic else 'Story'} {n}", url=f"{BASE}{feed}/{n}.html",
            published=START + timedelta(hours=n), summary=words[:200], body_html=body,
            body_text=words * 4, authors=("هيئة التحرير",) if arabic else ("Desk",),
            tags=("اقتصاد", "سياسة") if n % 2 else (), source="تاس" if arabic else "Reuters",
            photo_credit="Creative Commons" if image else None, image=image,
            origin=f"feeds/{feed}/{n}.txt", slug=str(n)))
    return made


def plain_feedgen(plan, site, contents: list[str]) -> tuple[bytes, bytes]:
    from feedgen.feed import FeedGenerator

    from masthead.feeds.xmlfeeds import entry_id

    fg = FeedGenerator()
    fg.id(f"{BASE}{plan.folder}/atom.xml")
    fg.title(plan.title)
    fg.description(plan.description or plan.title)
    fg.language(plan.language)
    fg.author({"name": site.author_name})
    fg.link(href=f"{BASE}{plan.folder}/rss.xml", rel="self")
    fg.link(href=f"{BASE}{plan.folder}/", rel="alternate")
    fg.updated(plan.updated)
    fg.load_extension("dc", atom=False, rss=True)       # RSS has no author without an e-mail: dc:creator
    for a, content in zip(plan.articles, contents, strict=True):
        fe = fg.add_entry(order="append")
        fe.id(entry_id(a, site))
        fe.title(a.title)
        fe.link(href=a.url)
        fe.published(a.published)
        fe.updated(a.updated)
        fe.author([{"name": name} for name in a.authors])
        fe.dc.dc_creator(list(a.authors))
        fe.summary(a.summary)
        fe.content(content, type="html")
        if a.tags:
            fe.category([{"term": t} for t in a.tags])
        if a.image:
            fe.enclosure(a.image.url, str(a.image.length), a.image.mime_type)
    return fg.rss_str(pretty=True), fg.atom_str(pretty=True)


def feeds(rounds: int, quick: bool, pub: Path) -> Result:
    from masthead.collect.sanitise import sanitise_articles
    from masthead.config import load_publication
    from masthead.feeds.build import render_document
    from masthead.feeds.content import entry_html
    from masthead.feeds.plan import plan_feeds
    from masthead.feeds.xmlfeeds import Place

    count = 1_000 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(pub / "feeds", root / "feeds")
        for toml in (root / "feeds").glob("*/feed.toml"):
            text = toml.read_text("utf-8")
            toml.write_text(text.replace("limit = 50", f"limit = {count}")
                            .replace("limit = 100", f"limit = {count}"), "utf-8")
        publication = load_publication(root)
        clean, _ = sanitise_articles(make_articles(count))
        plan = next(p for p in plan_feeds(publication, clean) if p.name == "all")
        assert len(plan.articles) == count, len(plan.articles)

        def ours() -> float:
            start = time.process_time()
            made = render_document(publication, plan, Place(plan.folder, plan.folder), None)
            for kind, data in made.items():
                (root / f"ours.{kind}").write_bytes(data)
            return time.process_time() - start

        def theirs() -> float:
            start = time.process_time()
            rss, atom = plain_feedgen(plan, publication.site, [entry_html(a) for a in plan.articles])
            (root / "plain.rss").write_bytes(rss)
            (root / "plain.atom").write_bytes(atom)
            return time.process_time() - start

        ours()                      # warm both: imports, the template environment, caches
        theirs()
        mine, plain = interleaved(rounds, ours, theirs)
    return Result(f"feeds: masthead RSS + Atom + JSON Feed / plain feedgen RSS + Atom, {count:,} entries",
                  mine, plain, "<= 1.2x", lambda r: r <= 1.2)


FSYNC_CODE = """
import collections, json, os, stat, sys, tempfile
from pathlib import Path
sys.path.insert(0, {bench!r})
from targets_runs import NOW, make_publication
from masthead import load_publication
from masthead.pipeline import run
folders, files = collections.Counter(), 0
real = os.fsync
def counting(fd):
    global files
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        folders[(info.st_dev, info.st_ino)] += 1
    else:
        files += 1
    real(fd)
os.fsync = counting
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp) / "pub"
    make_publication(root, {count})
    report = run(load_publication(root), now=NOW)
    written = {{(root / p).parent for p in report.changed_files}}
print(json.dumps({{"written": len(report.changed_files), "into": len(written), "files": files,
                  "folders": len(folders), "folder_fsyncs": sum(folders.values()),
                  "most": max(folders.values(), default=0)}}))
"""


def durability(quick: bool) -> Result:
    """Folder fsyncs of one cold run per folder fsynced, now and at BEFORE_REV (counts: no rounds).

    The folders fsynced are those the run wrote files into and the parents of
    folders it created (a new folder's name lives in its parent).
    """
    count = 200 if quick else 3_000
    code = FSYNC_CODE.format(bench=str(ROOT / "bench"), count=count)
    now = child(code)
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE_REV, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        before = child(code, src=Path(tmp) / "src")
    total = now["files"] + now["folder_fsyncs"]
    was = before["files"] + before["folder_fsyncs"]
    note = (f"{now['written']:,} files into {now['into']} folders: {total:,} fsyncs, {now['folder_fsyncs']} "
            f"on {now['folders']} folders; before ({BEFORE_REV}): {was:,} fsyncs, {before['folder_fsyncs']:,} "
            f"on folders, up to {before['most']:,} on one")
    return Result(f"durability: folder fsyncs / folders fsynced, a cold run over {count:,} articles",
                  [now["folder_fsyncs"]], [now["folders"]], "one each", lambda r: r <= 1.0, unit="",
                  note=note)


def measure(rounds: int, quick: bool, pub: Path) -> list[Result]:
    return [feeds(rounds, quick, pub), durability(quick)]
