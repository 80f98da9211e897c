"""A new user's first Markdown publication, made with `masthead init`, as a writer would make it.

Two articles that link to each other, a local picture, a footnote and a table,
a draft, and one article's summary taken from `description`: the run (from
inside the feed's folder) exits 0 with --strict, every link and picture in
output/ leads to a file that exists, and the draft is neither published nor
mailed. Also: `check` and `run` name what `init` left as placeholders.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import pytest
from click.testing import CliRunner

from masthead.cli import main

BASE = "https://mine.example.net/"
NOW = "2022-05-07T06:00:00Z"
FIRST = """\
---
title: "Tides of the Gulf"
date: 2022-05-06T09:00:00+03:00
description: "Why the Gulf's tides are small, and where they are not."
---

# A heading the summary must not show

The Gulf is shallow and almost closed, so its tides are small.[^1]

![A tide gauge at Dammam](images/gauge.png)

| Port | Range |
|---|---|
| Dammam | 1.3 m |

Read on in [the second part](second.md#bahrain), and see the [gauge picture](images/gauge.png).

[^1]: Measured at the Dammam gauge.
"""
SECOND = """\
---
title: "Tides of Bahrain"
date: 2022-05-06T11:00:00+03:00
---

## Bahrain

مد البحر في المنامة ١٤٤٤ هـ: The first part is [here](first.md).
"""
DRAFT = """\
---
title: "Not ready yet"
date: 2022-05-06T12:00:00+03:00
draft: true
---

Half a thought.
"""


def png() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def publication(tmp_path: Path) -> Path:
    """`masthead init`, the example article replaced by the writer's own, sender and address set."""
    root = tmp_path / "mypub"
    assert 0 == invoke("init", str(root), "--title", "Gulf Notes", "--base-url", BASE).exit_code
    site = root / "feeds" / "site.toml"
    site.write_text(site.read_text("utf-8").replace(
        '# from = "Gulf Notes <newsletter@example.org>"', 'from = "Gulf Notes <news@mine.example.net>"').replace(
        '# postal_address = "Street, City"  (shown in every digest\'s footer)',
        'postal_address = "1 Corniche Road, Dammam"'), "utf-8")
    news = root / "feeds" / "news"
    (news / "welcome.md").unlink()
    (news / "first.md").write_text(FIRST, "utf-8")
    (news / "second.md").write_text(SECOND, "utf-8")
    (news / "draft.md").write_text(DRAFT, "utf-8")
    (news / "images").mkdir()
    (news / "images" / "gauge.png").write_bytes(png())
    return root


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("href", "src") and value]


def links(markup: str) -> list[str]:
    parser = _Links()
    parser.feed(markup)
    return parser.urls


def urls_in(path: Path, output: Path) -> list[str]:
    """Every link and picture a page, feed or digest in output/ points at, made absolute."""
    here = BASE + path.relative_to(output).as_posix()
    if path.suffix == ".html":
        return [urljoin(here, u) for u in links(path.read_text("utf-8"))]
    if path.suffix == ".json":
        items = json.loads(path.read_text("utf-8")).get("items", [])
        return [u for i in items for u in [i["url"], *links(i["content_html"]),
                                           *(a["url"] for a in i.get("attachments", []))]]
    parsed = feedparser.parse(path.read_bytes())
    return [u for e in parsed.entries for u in [*(link.href for link in e.get("links", [])),
                                                 *links("".join(c.value for c in e.get("content", [])))]]


def test_a_writers_first_publication_runs_strict_and_every_link_leads_somewhere(
        publication: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from inside feeds/news/ with --strict: exit 0, the picture copied, and every site link or picture in output/ is a file."""
    monkeypatch.chdir(publication / "feeds" / "news")
    result = invoke("run", "--strict", "--now", NOW)
    assert (0, "") == (result.exit_code, "\n".join(line for line in result.output.splitlines()
                                                   if line.startswith(("problem", "warning"))))
    output = publication / "output"
    assert (publication / "feeds/news/images/gauge.png").read_bytes() == (output / "news/images/gauge.png").read_bytes()
    dynamic = {BASE + "unsubscribe", "https://mine.example.net/subscribe"}
    checked = 0
    for path in sorted(output.rglob("*")):
        if path.suffix not in (".html", ".xml", ".json") or path.name == "manifest.json":
            continue
        for url in urls_in(path, output):
            if not url.startswith(BASE) or url.split("#")[0] in dynamic:
                continue
            target = unquote(urlsplit(url).path).lstrip("/")
            target = target + "index.html" if target.endswith("/") or not target else target
            assert (output / target).is_file(), f"{path.relative_to(output)} links to {url}"
            checked += 1
    assert checked > 20


def test_the_articles_read_as_written(publication: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sibling links become page URLs, the picture an absolute URL, the footnote and table render, the summary is the description."""
    monkeypatch.chdir(publication)
    assert 0 == invoke("run", "--now", NOW).exit_code
    feed = json.loads((publication / "output/news/feed.json").read_text("utf-8"))
    first, second = (next(i for i in feed["items"] if i["title"] == t) for t in ("Tides of the Gulf", "Tides of Bahrain"))
    assert f'href="{BASE}news/second.html#bahrain"' in first["content_html"]
    assert f'src="{BASE}news/images/gauge.png"' in first["content_html"]
    assert re.search(r'<sup><a href="[^"]*#fn-first-1" id="fnref-first-1"', first["content_html"])
    assert '<li id="fn-first-1">' in first["content_html"] and "<td>Dammam</td>" in first["content_html"]
    assert "Why the Gulf's tides are small, and where they are not." == first["summary"]
    assert f'href="{BASE}news/first.html"' in second["content_html"]
    assert second["summary"].startswith("مد البحر في المنامة ١٤٤٤ هـ:")     # no heading, the tatweel kept


def test_a_draft_is_collected_but_never_published_nor_mailed(publication: Path) -> None:
    """`draft: true` shows in inspect and in the run's count, and nowhere in feeds, pages or the digest."""
    inspected = invoke("inspect", "--project", str(publication), str(publication / "feeds/news/draft.md"))
    assert (0, True) == (inspected.exit_code, json.loads(inspected.output)["draft"])
    result = invoke("run", "--project", str(publication), "--now", NOW, "--json")
    report = json.loads(result.output[:result.output.rindex("}") + 1])
    assert ["feeds/news/draft.md"] == report["drafts"]
    assert "2 articles (2 new, 0 changed), 1 draft not published" in result.output
    assert ["news/daily/2022-05-06"] == [d["id"] for d in report["digests"]]
    everything = b"".join(p.read_bytes() for p in (publication / "output").rglob("*") if p.is_file())
    everything += b"".join(p.read_bytes() for p in (publication / ".masthead" / "digests").rglob("*.eml"))
    assert b"Not ready yet" not in everything and b"Half a thought" not in everything
    assert not (publication / "output/news/draft.html").exists()


def test_init_placeholders_are_named_by_check_and_run(tmp_path: Path) -> None:
    """Right after init, check and run name the base URL, the sender, the example article and the missing postal address."""
    root = tmp_path / "fresh"
    assert 0 == invoke("init", str(root)).exit_code
    checked = invoke("check", "--project", str(root))
    warnings = [line for line in checked.output.splitlines() if line.startswith("warning:")]
    assert 0 == checked.exit_code
    assert [True] * 4 == [any(word in w for w in warnings) for word in (
        "base_url is still the placeholder https://example.org/", "sender newsletter@example.org",
        "feeds/news/welcome.md is init's example article", "postal_address is empty")]
    ran = invoke("run", "--project", str(root), "--now", NOW)
    named = [line for line in ran.output.splitlines() if line.startswith("warning:")]
    assert 4 == len(named) and set(named) <= set(warnings)


def test_every_command_finds_the_publication_upward(publication: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a folder deep inside the publication, check finds it as git finds its repository; outside, it says so."""
    monkeypatch.chdir(publication / "feeds" / "news" / "images")
    assert "ok: 1 feeds" in invoke("check").output
    monkeypatch.chdir(publication.parent)
    outside = invoke("check")
    assert 2 == outside.exit_code and "no feeds/ folder" in outside.output
