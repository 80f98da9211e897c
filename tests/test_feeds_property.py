"""Round trip: generated records -> RSS, Atom and JSON Feed -> feedparser -> the same facts.

hypothesis makes articles with Arabic, Latin and awkward characters (markup,
entities, XML-illegal controls), any time zone offset and ids that are or are
not URIs; every format must give back each title, link, id and date.
"""

from __future__ import annotations

import calendar
import json
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masthead.collect.sanitise import sanitise_articles
from masthead.config import Publication, load_publication
from masthead.feeds.build import build_feeds
from masthead.feeds.plan import newest_first
from masthead.feeds.xmlfeeds import entry_id
from masthead.records import Article
from tests.factories import article

from .conftest import ROOT

BASE = "https://news.example.org/"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
ALPHABET = st.sampled_from(list("أبتثجحخدذرسشصضطظعغفقكلمنهويءآةى ًٌٍَُِّْ٠١٢٣") +
                           list("abcXYZ019 .,;:!?-'\"&<>/é") + ["\x0b", "\x00", "\u200f", "\u0640"])
TITLE = st.text(ALPHABET, min_size=1, max_size=60).filter(lambda t: t.strip(" \x0b\x00"))


@st.composite
def articles(draw: st.DrawFn) -> list[Article]:
    count = draw(st.integers(1, 6))
    made = []
    for n in range(count):
        offset = timedelta(minutes=15 * draw(st.integers(-48, 56)))
        published = draw(st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2029, 12, 31),
                                      timezones=st.just(timezone(offset))))
        edited = draw(st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=30))))
        feed, language = draw(st.sampled_from([("ar-news", "ar"), ("en-news", "en")]))
        slug = draw(st.text("abcدرس-_0123456789", min_size=1, max_size=12))
        plain_id = draw(st.booleans())
        made.append(article(
            n, feed=feed, language=language,
            id=f"story {n} {slug}" if plain_id else f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            title=draw(TITLE), url=f"{BASE}{feed}/{quote(slug)}-{n}.html",
            published=published, updated=published + edited if edited is not None else None,
            precision="second", summary=draw(st.text(ALPHABET, max_size=80)), body_html=f"<p>{n}</p>",
            body_text=str(n), tags=tuple(draw(st.lists(st.sampled_from(["اقتصاد", "sport", "a&b"]), max_size=2))),
            slug=f"{slug}-{n}"))
    return made


_PUB: dict[str, Publication] = {}


def publication(tmp_path_factory) -> Publication:
    if "pub" not in _PUB:
        root = tmp_path_factory.mktemp("prop")
        shutil.copytree(ROOT / "feeds", root / "feeds")
        _PUB["pub"] = load_publication(Path(root))
    return _PUB["pub"]


def _utc(value: datetime) -> tuple[int, ...]:
    return tuple(value.astimezone(UTC).timetuple()[:6])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made=articles())
def test_titles_links_ids_and_dates_survive_every_format(made: list[Article], tmp_path_factory) -> None:
    """Each article comes back from RSS, Atom and JSON Feed with its title, link, id and dates."""
    pub = publication(tmp_path_factory)
    clean, _ = sanitise_articles(made)
    expected = {entry_id(a, pub.site): a for a in clean}
    out = next(o for o in build_feeds(pub, clean, NOW) if o.name == "all")
    assert len(expected) == out.items
    for kind in ("rss", "atom"):
        parsed = feedparser.parse(out.contents[out.files[kind]])
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert [entry_id(a, pub.site) for a in newest_first(clean)] == [e.id for e in parsed.entries]
        for entry in parsed.entries:
            a = expected[entry.id]
            assert (a.title.strip(), a.url) == (entry.title.strip(), entry.link), kind
            assert _utc(a.published) == tuple(entry.published_parsed[:6]), kind
            if kind == "atom":
                assert _utc(a.updated) == tuple(entry.updated_parsed[:6])
                assert calendar.timegm(entry.published_parsed) == int(a.published.timestamp())
    doc = json.loads(out.contents[out.files["json"]])
    for item in doc["items"]:
        a = expected[item["id"]]
        assert (a.title, a.url) == (item["title"], item["url"])
        assert a.published == datetime.fromisoformat(item["date_published"])
        assert a.updated == datetime.fromisoformat(item.get("date_modified", item["date_published"]))
