"""Real-world feeds (tests/corpus/) read as feedparser reads them, item by item.

Each file goes through masthead's collector as if fetched from
``https://upstream.example/<path>``, and each item is compared with
feedparser's own parse of the same bytes (JSON Feed files, which feedparser
cannot read, with the JSON document itself): title as plain text, link, date
(to the second, and with the offset the feed wrote), id and enclosures.

Where the feed gives no value masthead must make one, and the comparison
checks it did so by its documented rule: a title from the text (or the
picture's description, or a word for what the item is), a page on the site
for an item without a link, a ``urn:uuid`` id. A day, month or year date is
compared at that precision (masthead places it at noon; feedparser at
midnight UTC). Every other difference is listed, with its reason, in
tests/corpus/EXPECTED-DIFFERENCES.toml; the test fails on any difference
not listed and on any listed one that is gone, and the list holds at most
2% of the items.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from feedparser.datetimes import _parse_date as feedparser_date

from masthead.collect import read_entries, upstream
from masthead.collect.normalise import normalise
from masthead.config import load_publication
from masthead.errors import InputError
from masthead.records import Article

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = CORPUS / "EXPECTED-DIFFERENCES.toml"
ORIGIN = "https://upstream.example/"
NOT_FEEDS = {"LICENSE", "SOURCES.md", "EXPECTED-DIFFERENCES.toml", ".gitattributes"}
SHARE_ALLOWED = 0.02


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain(markup: str) -> str:
    """HTML as the text a reader shows (Python's own HTML parser: independent of masthead's)."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


_INVISIBLE = re.compile("[\u200b\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]")


def tidy(text: str | None) -> str:
    """What any reader does to a one-line value: NFC, invisible controls out, spaces collapsed."""
    return " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFC", text or "")).split())


@dataclass
class Item:
    """One item as the reference reads it."""

    title: str
    link: str | None
    date: datetime | None
    date_text: str
    id: str | None
    enclosures: list[tuple[str, int, str | None]]


def _length(value: object) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 16 else 0


def _utc(parsed: Any) -> datetime | None:
    return datetime(*tuple(parsed)[:6]).replace(tzinfo=UTC) if parsed else None


def reference_xml(parsed: Any, origin: str) -> list[Item]:
    """feedparser's reading, relative URLs joined to the document's URL."""
    items = []
    for e in parsed.entries:
        title = e.get("title", "")
        if "html" in (e.get("title_detail") or {}).get("type", ""):
            title = plain(title)
        link = e.get("link")
        items.append(Item(
            title=tidy(title), link=urljoin(origin, link.strip()) if link else None,
            date=_utc(e.get("published_parsed") or e.get("updated_parsed")),
            date_text=e.get("published") or dict.get(e, "updated") or "",
            id=tidy(e.get("id")) or None,
            enclosures=[(urljoin(origin, x["href"].strip()), _length(x.get("length")), x.get("type") or None)
                        for x in e.get("enclosures", []) if x.get("href")]))
    return items


def reference_json(data: bytes, origin: str) -> list[Item]:
    """The JSON Feed document itself; its dates read by feedparser's date parser."""
    items = []
    for item in json.loads(data.decode("utf-8-sig")).get("items", []):
        url = item.get("url") or item.get("external_url")
        written = str(item.get("date_published") or item.get("date_modified") or "")
        items.append(Item(
            title=tidy(item.get("title")), link=urljoin(origin, url) if url else None,
            date=_utc(feedparser_date(written)) if written else None, date_text=written,
            id=tidy(str(item["id"])) if item.get("id") not in (None, "") else None,
            enclosures=[(urljoin(origin, a["url"]), _length(a.get("size_in_bytes")), a.get("mime_type"))
                        for a in item.get("attachments") or [] if a.get("url")]))
    return items


_OFFSET = re.compile(r"(?:([+-])(\d{2}):?(\d{2})|(Z|GMT|UTC|UT))\s*$")


def written_offset(text: str) -> timedelta | None:
    """The offset a date string ends with, when it ends with one."""
    match = _OFFSET.search(text.strip())
    if not match:
        return None
    if match.group(4):
        return timedelta(0)
    sign = -1 if match.group(1) == "-" else 1
    return sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))


def differences(ref: Item, art: Article | None, base_url: str) -> dict[str, str]:
    """Field -> what differs, for one item ({} when masthead reads it as the reference does)."""
    if art is None:
        return {"kept": "masthead made no article of it"}
    found: dict[str, str] = {}
    if ref.title and ref.title != art.title and not (
            len(ref.title) > 200 and art.title.endswith("…") and ref.title.startswith(art.title[:-1])):
        found["title"] = f"{ref.title!r} / {art.title!r}"
    if not ref.title and not art.title:
        found["title"] = "no title made"
    if ref.link != art.url and not (ref.link is None and art.url.startswith(base_url)):
        found["link"] = f"{ref.link!r} / {art.url!r}"
    found.update(_date_difference(ref, art))
    if (ref.id is not None and ref.id != art.id) or (ref.id is None and not art.id.startswith("urn:uuid:")):
        found["id"] = f"{ref.id!r} / {art.id!r}"
    mine = [(e.url, e.length, e.mime_type) for e in art.enclosures]
    if [(u, n) for u, n, _ in ref.enclosures] != [(u, n) for u, n, _ in mine] or any(
            t is not None and t != m for (_, _, t), (_, _, m) in zip(ref.enclosures, mine, strict=True)):
        found["enclosure"] = f"{ref.enclosures!r} / {mine!r}"
    return found


def _date_difference(ref: Item, art: Article) -> dict[str, str]:
    got = art.published
    if ref.date is None and got is None:
        return {}
    if ref.date is None or got is None:
        return {"date": f"{ref.date_text!r}: {ref.date} / {got}"}
    if art.precision in ("day", "month", "year"):
        size = {"day": 10, "month": 7, "year": 4}[art.precision]
        same = ref.date.isoformat()[:size] == got.isoformat()[:size]
    else:
        same = ref.date == got.astimezone(UTC).replace(microsecond=0)
        offset = written_offset(ref.date_text)
        same = same and (offset is None or offset == got.utcoffset())
    return {} if same else {"date": f"{ref.date_text!r}: {ref.date} / {got.isoformat()}"}


def feed_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_FEEDS)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every corpus file read once by each side: the items compared, the differences, the unreadable files."""
    root = tmp_path_factory.mktemp("pub")
    (root / "feeds" / "corpus").mkdir(parents=True)
    (root / "feeds" / "site.toml").write_text(
        'title = "t"\nbase_url = "https://news.example.org/"\ntimezone = "Asia/Riyadh"\n', encoding="utf-8")
    (root / "feeds" / "corpus" / "feed.toml").write_text('title = "corpus"\nlanguage = "en"\n', encoding="utf-8")
    pub = load_publication(root)
    feed, site = pub.feeds[0], pub.site
    found: dict[tuple[str, int, str], str] = {}
    compared = 0
    unreadable: dict[str, str] = {}
    warnings.simplefilter("ignore", DeprecationWarning)
    for path in feed_files():
        rel = path.relative_to(CORPUS).as_posix()
        data, origin = path.read_bytes(), ORIGIN + rel
        # One parse per file: masthead reads feedparser's result, the reference is that result as it is.
        parsed = None if path.suffix == ".json" else upstream.parse_feed(data)
        try:
            entries, _ = read_entries(data, origin, "json") if parsed is None else upstream.read_parsed(parsed, origin)
        except InputError as exc:
            unreadable[rel] = exc.message
            continue
        reference = reference_json(data, origin) if parsed is None else reference_xml(parsed, origin)
        assert len(reference) == len(entries), rel
        for index, (ref, entry) in enumerate(zip(reference, entries, strict=True)):
            compared += 1
            try:
                article: Article | None = normalise(entry, feed, site)
            except InputError:
                article = None
            for field, what in differences(ref, article, site.base_url).items():
                found[(rel, index, field)] = what
    return {"compared": compared, "found": found, "unreadable": unreadable}


def listed() -> dict[tuple[str, int, str], str]:
    table = tomllib.loads(EXPECTED.read_text("utf-8"))
    return {(d["file"], d["item"], d["field"]): d["reason"] for d in table["difference"]}


def test_every_difference_is_listed_with_its_reason(comparison: dict[str, Any]) -> None:
    """Each item masthead reads differently from feedparser is in the expected-differences file, and nothing else is."""
    found, expected = comparison["found"], listed()
    new = {f"{k[0]} item {k[1]} {k[2]}: {v}" for k, v in found.items() if k not in expected}
    gone = {f"{k[0]} item {k[1]} {k[2]}" for k in expected if k not in found}
    assert (set(), set()) == (new, gone)


def test_differences_stay_under_two_percent(comparison: dict[str, Any]) -> None:
    """At most 2% of the items compared are listed as reading differently."""
    items = {(f, i) for f, i, _ in listed()}
    assert comparison["compared"] > 5000
    assert len(items) <= SHARE_ALLOWED * comparison["compared"], f"{len(items)} of {comparison['compared']}"


def test_only_broken_files_give_no_article(comparison: dict[str, Any]) -> None:
    """The files masthead cannot read at all are the broken ones kept under malformed/, each named with a reason."""
    unreadable = comparison["unreadable"]
    assert all("/malformed/" in f"/{rel}" for rel in unreadable), unreadable
    assert all(reason for reason in unreadable.values())
