"""Feeds from hand-made records: bad input, feedgen's traps, hubs, splits and limits.

Records are built here (not collected) so that each test states its one input
quirk; the sample publication's settings are used, edited per test.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from masthead.cli.run import report_json, summary_lines
from masthead.collect.sanitise import MAX_BODY_BYTES, sanitise_articles
from masthead.config import Publication, load_publication
from masthead.errors import ConfigError
from masthead.feeds.build import MAX_FEED_BYTES, build_feeds
from masthead.feeds.xmlfeeds import entry_id
from masthead.pipeline import RunReport
from masthead.records import Article, Collection, FeedOutput, Image
from tests.factories import BASE, RIYADH, article

NOW = datetime(2022, 6, 1, tzinfo=UTC)


def english(n: int = 1, **fields: object) -> Article:
    """An English article of en-news."""
    return article(n, feed="en-news", url=f"{BASE}en-news/story-{n}.html",
                   origin=f"feeds/en-news/story-{n}.md", **fields)


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def output(outputs: list[FeedOutput], name: str) -> FeedOutput:
    return next(o for o in outputs if o.name == name)


def file(out: FeedOutput, kind: str) -> bytes:
    return out.contents[out.files[kind]]


def parse(out: FeedOutput, kind: str):
    parsed = feedparser.parse(file(out, kind))
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


class TestBadInput:
    def test_xml_illegal_characters_are_removed_and_reported(self, pub: Publication) -> None:
        """Control characters in a title and body are dropped, the file named, and the feeds stay well-formed."""
        bad = article(1, title="خبر\x0b عاجل\x00", body_html="<p>نص\x0c\ufffe</p>", authors=("كاتب\x1f",))
        articles, problems = sanitise_articles([bad])
        assert [p.where for p in problems] == ["feeds/ar-news/item-1.txt"]
        assert articles[0].title == "خبر عاجل"
        out = output(build_feeds(pub, articles, NOW), "ar-news")
        for kind in ("rss", "atom"):
            etree.fromstring(file(out, kind))
            assert parse(out, kind).entries[0].title == "خبر عاجل"
        json.loads(file(out, "json"))

    def test_empty_title_gets_words_from_the_summary(self, pub: Publication) -> None:
        """An empty title becomes the start of the summary, with a problem saying to add a title."""
        articles, problems = sanitise_articles([article(1, title="  ", summary="بداية الملخص هنا")])
        assert articles[0].title == "بداية الملخص هنا"
        assert "title is empty" in problems[0].message
        out = output(build_feeds(pub, sanitise_articles([article(1, title="")])[0], NOW), "ar-news")
        assert parse(out, "atom").entries[0].title == "ملخص الخبر 1"

    def test_missing_publication_date_uses_the_update_time(self) -> None:
        """An article with no published date but an updated one is dated by its update."""
        updated = datetime(2022, 5, 20, 9, tzinfo=RIYADH)
        articles, problems = sanitise_articles([article(1, published=None, updated=updated)])
        assert updated == articles[0].published
        assert "no publication date" in problems[0].message

    def test_article_without_any_date_is_left_out_with_a_clear_problem(self, pub: Publication) -> None:
        """An article with no date at all is not in the feeds; the others are, and the problem names its file."""
        undated = article(2, published=None, updated=None)
        articles, problems = sanitise_articles([article(1), undated])
        assert [article(1).id] == [a.id for a in articles]
        assert (problems[0].where, problems[0].fatal) == ("feeds/ar-news/item-2.txt", True)
        out = output(build_feeds(pub, articles, NOW), "ar-news")
        assert 1 == out.items == len(parse(out, "rss").entries)

    def test_huge_body_is_replaced_by_summary_and_link(self, pub: Publication) -> None:
        """A body over the limit ships as its summary and a link to the page; the feed stays small."""
        huge = article(1, body_html="<p>" + "كلمة " * (MAX_BODY_BYTES // 4) + "</p>")
        articles, problems = sanitise_articles([huge])
        assert "KiB" in problems[0].message
        out = output(build_feeds(pub, articles, NOW), "ar-news")
        assert len(file(out, "atom")) < 10_000
        content = parse(out, "atom").entries[0].content[0].value
        assert f'href="{huge.url}"' in content and "ملخص الخبر 1" in content

    def test_duplicate_id_keeps_the_latest_copy_and_names_the_other(self, pub: Publication) -> None:
        """Two records with one id become one entry (the later update); the problem names the other file."""
        first = article(1, origin="feeds/ar-news/a.txt")
        second = article(1, title="نسخة معدلة", updated=first.published + timedelta(hours=2),
                         origin="feeds/ar-news/b.md")
        articles, problems = sanitise_articles([first, second])
        assert [(a.title, a.origin) for a in articles] == [("نسخة معدلة", "feeds/ar-news/b.md")]
        assert problems[0].where == "feeds/ar-news/a.txt" and "duplicate id" in problems[0].message
        out = output(build_feeds(pub, articles, NOW), "ar-news")
        assert [e.title for e in parse(out, "atom").entries] == ["نسخة معدلة"]

    def test_sanitising_twice_changes_nothing(self) -> None:
        """Sanitised records pass through again unchanged and without problems."""
        once, _ = sanitise_articles([article(1, title="\x0b"), article(2, published=None,
                                                                     updated=datetime(2022, 5, 9, tzinfo=RIYADH))])
        twice, problems = sanitise_articles(once)
        assert (once, ()) == (twice, problems)

    def test_missing_base_url_is_a_config_error_naming_file_and_key(self, sample_pub: Path) -> None:
        """site.toml without base_url stops with an error naming feeds/site.toml and base_url."""
        edit(sample_pub, "feeds/site.toml", 'base_url = "https://news.example.org/"\n', "")
        with pytest.raises(ConfigError) as caught:
            load_publication(sample_pub)
        assert "feeds/site.toml" in str(caught.value) and "base_url" in str(caught.value)

    def test_article_ids_that_are_not_uris_become_stable_urns(self, pub: Publication) -> None:
        """An id like 'story 42' is shown as the same urn:uuid every time; a URI id is kept as it is."""
        plain = article(1, id="story 42")
        assert entry_id(plain, pub.site) == entry_id(plain, pub.site)
        assert entry_id(plain, pub.site).startswith("urn:uuid:")
        assert entry_id(article(1, id="tag:news.example.org,2022:x"), pub.site) == "tag:news.example.org,2022:x"


class TestFeedgenTraps:
    def test_entries_are_newest_first_whatever_the_input_order(self, pub: Publication) -> None:
        """Given oldest first, the feeds still list the newest first (feedgen prepends by default)."""
        out = output(build_feeds(pub, [article(n) for n in (1, 3, 2)], NOW), "ar-news")
        for kind in ("rss", "atom"):
            assert [e.title for e in parse(out, kind).entries] == ["خبر رقم 3", "خبر رقم 2", "خبر رقم 1"]
        assert [
            i["title"] for i in json.loads(file(out, "json"))["items"]] == ["خبر رقم 3", "خبر رقم 2", "خبر رقم 1"]

    def test_rss_channel_link_is_the_feed_page_not_the_self_link(self, pub: Publication) -> None:
        """The RSS <link> is the feed's page even though the self link is given first."""
        out = output(build_feeds(pub, [article(1)], NOW), "ar-news")
        channel = etree.fromstring(file(out, "rss")).find("channel")
        assert f"{BASE}ar-news/" == channel.findtext("link")

    def test_output_does_not_depend_on_the_clock_or_feedgen_version(self, pub: Publication) -> None:
        """Built at two different times, the bytes are equal; dates come from the articles."""
        articles, _ = sanitise_articles([article(1, updated=None)])
        first = build_feeds(pub, articles, NOW)
        later = build_feeds(pub, articles, NOW + timedelta(days=400))
        assert [o.contents for o in first] == [o.contents for o in later]
        atom = etree.fromstring(file(output(first, "ar-news"), "atom"))
        ns = {"a": "http://www.w3.org/2005/Atom"}
        assert atom.findtext("a:updated", namespaces=ns) == "2022-05-02T12:00:00+03:00"
        assert atom.findtext("a:generator", namespaces=ns) == "masthead"
        assert atom.find("a:generator", ns).get("version") is None

    def test_atom_entry_links_keep_rel_and_type_and_one_alternate(self, pub: Publication) -> None:
        """An entry with an image has one alternate text/html link and one enclosure link with its type."""
        image = Image(url=f"{BASE}media/a.jpg", alt="صورة", mime_type="image/jpeg", length=2048)
        out = output(build_feeds(pub, [article(1, image=image)], NOW), "ar-news")
        entry = etree.fromstring(file(out, "atom")).find("{http://www.w3.org/2005/Atom}entry")
        links = [dict(link.attrib) for link in entry.findall("{http://www.w3.org/2005/Atom}link")]
        assert [{"href": f"{BASE}ar-news/item-1.html", "rel": "alternate", "type": "text/html"},
                {"rel": "enclosure", "href": image.url, "type": "image/jpeg", "length": "2048"}] == links
        enclosure = etree.fromstring(file(out, "rss")).find("channel/item/enclosure")
        assert {"url": image.url, "length": "2048", "type": "image/jpeg"} == dict(enclosure.attrib)

    def test_no_cdata_type_syndication_or_media_group(self, pub: Publication) -> None:
        """Atom content is type="html", never "CDATA"; no sy: or media:group elements appear."""
        for out in build_feeds(pub, [article(1), english(2)], NOW):
            for kind in ("rss", "atom"):
                data = file(out, kind)
                assert b'type="CDATA"' not in data and b"sy:" not in data and b"media:group" not in data
        atom = parse(output(build_feeds(pub, [article(1)], NOW), "ar-news"), "atom")
        assert atom.entries[0].content[0].type == "text/html"

    def test_english_entry_in_an_arabic_feed_says_its_language(self, pub: Publication) -> None:
        """In the Arabic aggregate, an English entry carries xml:lang="en" (Atom) and dc:language (RSS)."""
        out = output(build_feeds(pub, [article(1), english(2)], NOW), "all")
        atom = etree.fromstring(file(out, "atom"))
        langs = [e.get("{http://www.w3.org/XML/1998/namespace}lang")
                 for e in atom.findall("{http://www.w3.org/2005/Atom}entry")]
        assert langs == ["en", None]
        rss = etree.fromstring(file(out, "rss"))
        assert [e.text for e in rss.iter("{http://purl.org/dc/elements/1.1/}language")] == ["en"]


class TestSettings:
    def test_hub_links_in_rss_atom_and_json(self, sample_pub: Path) -> None:
        """Every site hub appears as rel="hub" in RSS and Atom, and under hubs in JSON Feed, in order."""
        hubs = ["https://hub.example.net/", "https://pubsubhubbub.example.com/"]
        edit(sample_pub, "feeds/site.toml", "ttl = 60\n", f"ttl = 60\nhub = {json.dumps(hubs)}\n")
        out = output(build_feeds(load_publication(sample_pub), [article(1)], NOW), "ar-news")
        for kind in ("rss", "atom"):
            assert hubs == [link.href for link in parse(out, kind).feed.links if link.rel == "hub"]
        assert [{"type": "WebSub", "url": hub} for hub in hubs] == json.loads(file(out, "json"))["hubs"]

    def test_ttl_comes_from_the_site(self, sample_pub: Path) -> None:
        """RSS <ttl> is the site's ttl in minutes."""
        edit(sample_pub, "feeds/site.toml", "ttl = 60\n", "ttl = 15\n")
        out = output(build_feeds(load_publication(sample_pub), [article(1)], NOW), "ar-news")
        assert etree.fromstring(file(out, "rss")).findtext("channel/ttl") == "15"

    def test_limit_keeps_the_newest(self, sample_pub: Path) -> None:
        """With limit = 2 the feed holds the two newest articles."""
        edit(sample_pub, "feeds/ar-news/feed.toml", "limit = 50", "limit = 2")
        out = output(build_feeds(load_publication(sample_pub), [article(n) for n in range(1, 6)], NOW),
                     "ar-news")
        assert (out.items, [e.title for e in parse(out, "rss").entries]) == (2, ["خبر رقم 5", "خبر رقم 4"])

    def test_split_per_tag_gives_one_feed_per_tag(self, sample_pub: Path) -> None:
        """split = ["tag"] adds a feed per tag holding only that tag's articles, its URL percent-encoded."""
        edit(sample_pub, "feeds/ar-news/feed.toml", "limit = 50", 'limit = 50\nsplit = ["tag"]')
        articles = [article(1, tags=("اقتصاد",)), article(2, tags=("اقتصاد", "رياضة")), article(3)]
        outputs = build_feeds(load_publication(sample_pub), articles, NOW)
        assert [
            o.name for o in outputs if o.name.startswith("ar-news/")] == ["ar-news/tag/اقتصاد", "ar-news/tag/رياضة"]
        economy = output(outputs, "ar-news/tag/اقتصاد")
        assert [e.title for e in parse(economy, "atom").entries] == ["خبر رقم 2", "خبر رقم 1"]
        assert (f"{BASE}ar-news/tag/%D8%A7%D9%82%D8%AA%D8%B5%D8%A7%D8%AF/atom.xml"
                == economy.urls["atom"] == parse(economy, "atom").feed.id)

    def test_publication_stylesheet_overrides_the_built_in_one(self, sample_pub: Path) -> None:
        """templates/feed.xsl in the publication is what output/feed.xsl holds."""
        (sample_pub / "templates").mkdir(exist_ok=True)
        own = b'<?xml version="1.0"?><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>'
        (sample_pub / "templates/feed.xsl").write_bytes(own)
        outputs = build_feeds(load_publication(sample_pub), [article(1)], NOW)
        assert own == outputs[0].contents["output/feed.xsl"]

    def test_article_off_the_site_gets_no_page(self, pub: Publication) -> None:
        """An article whose URL is on another host is linked as it is, and no page is written for it."""
        away = article(1, url="https://elsewhere.example.com/story.html")
        outputs = build_feeds(pub, [away], NOW)
        pages = [p for o in outputs for p in o.contents if p.endswith(".html")]
        assert all(p.endswith("/index.html") or p == "output/index.html" for p in pages), pages
        assert away.url == parse(output(outputs, "ar-news"), "rss").entries[0].link

    def test_empty_feed_is_still_valid_and_stable(self, pub: Publication) -> None:
        """A feed with no articles yet has a fixed date, so it is not rewritten run after run."""
        first = output(build_feeds(pub, [], NOW), "en-news")
        later = output(build_feeds(pub, [], NOW + timedelta(days=1)), "en-news")
        assert first.contents == later.contents
        assert len(parse(first, "atom").entries) == 0


def test_replace_keeps_records_frozen() -> None:
    """Sanitising returns new records and leaves the caller's untouched."""
    original = article(1, title="\x0bخبر")
    sanitise_articles([original])
    assert original.title == "\x0bخبر" and replace(original) == original


def test_relative_links_in_the_body_become_absolute(pub: Publication) -> None:
    """A body's relative image, link and footnote URLs are resolved against the article's URL; others stay."""
    body = '<p><img src="media/a.jpg"> <a href="/about.html">x</a> <a href="#n">y</a> <a href="mailto:a@b.c">z</a></p>'
    out = output(build_feeds(pub, [article(1, body_html=body)], NOW), "ar-news")
    content = parse(out, "atom").entries[0].content[0].value
    assert f'src="{BASE}ar-news/media/a.jpg"' in content and f'href="{BASE}about.html"' in content
    assert f'href="{BASE}ar-news/item-1.html#n"' in content and 'href="mailto:a@b.c"' in content


def test_article_page_never_takes_a_feed_page(pub: Publication) -> None:
    """An article whose URL is a feed's index page does not overwrite it: each path is written once."""
    clash = article(1, url=f"{BASE}ar-news/index.html")
    outputs = build_feeds(pub, [clash], NOW)
    paths = [p for o in outputs for p in o.contents]
    assert len(paths) == len(set(paths))
    page = output(outputs, "ar-news").contents["output/ar-news/index.html"]
    assert b'type="application/atom+xml"' in page


def test_feed_over_the_size_budget_drops_its_oldest_entries(pub: Publication) -> None:
    """Fifty large articles give RSS and Atom files under the budget, newest kept, still parseable, and the cut counted."""
    body = "<p>" + "كلمة " * ((MAX_BODY_BYTES - 1024) // 11) + "</p>"
    out = output(build_feeds(pub, [article(n, body_html=body) for n in range(1, 51)], NOW), "ar-news")
    assert 0 < out.items < 50
    assert 50 == out.items + out.left_out
    for kind in ("rss", "atom"):
        assert len(file(out, kind)) <= MAX_FEED_BYTES
        entries = parse(out, kind).entries
        assert (out.items, "خبر رقم 50") == (len(entries), entries[0].title)
    assert out.items == len(json.loads(file(out, "json"))["items"])


def test_the_run_says_how_many_entries_the_size_cap_left_out() -> None:
    """A feed cut by the 4 MB cap is reported with the number of entries sent to the archive, in the summary and in --json."""
    cut = FeedOutput(name="all", title="t", language="ar", items=3706, files={}, urls={}, left_out=11294)
    report = RunReport(now=NOW, collection=Collection(articles=()), feeds=(cut,))
    assert ("feed all: 3706 items (11294 more within 'limit' moved to the archive: the RSS or Atom file would be "
            "over 4 MB; lower 'limit' or shorten the bodies)") in summary_lines(report, quiet=False)
    assert [{"name": "all", "items": 3706, "archive_pages": 0, "left_out": 11294}] == report_json(report)["feeds"]


def test_a_sink_gets_every_file_as_it_is_rendered(pub: Publication) -> None:
    """With a sink, build_feeds hands over the same files, bytes and order as its contents, and keeps none of them."""
    articles = [article(n) for n in range(1, 8)] + [english(n) for n in range(8, 11)]
    kept = build_feeds(replace(pub, feeds=tuple(replace(f, limit=3) for f in pub.feeds)), articles, NOW)
    handed: list[tuple[str, bytes]] = []
    streamed = build_feeds(replace(pub, feeds=tuple(replace(f, limit=3) for f in pub.feeds)), articles, NOW,
                           sink=lambda path, content: handed.append((path, content)))
    assert [item for out in kept for item in out.contents.items()] == handed
    assert [{}] * len(streamed) == [out.contents for out in streamed]
    assert [out.archives for out in kept] == [out.archives for out in streamed]
    assert any(out.archives for out in kept)          # archive pages were among them
