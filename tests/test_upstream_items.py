"""Upstream items as a reader would read them: links, relative URLs, titles, dates, enclosures, odd items.

Each test feeds one small RSS, Atom or JSON Feed document through the
collector (as if fetched from https://up.example/feeds/rss.xml, or read from a
file of the sample publication) and checks what a reader of masthead's feeds
would see.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import pytest

from masthead.collect import collect_publication, read_articles
from masthead.collect.normalise import normalise
from masthead.collect.raw import RawEntry
from masthead.config import Publication, load_publication
from masthead.feeds.build import build_feeds
from masthead.records import Article
from masthead.state.db import open_store

ORIGIN = "https://up.example/feeds/rss.xml"
NOW = datetime(2022, 5, 7, 6, tzinfo=UTC)


def rss(items: str, channel: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Up</title>'
            f"<link>https://up.example/</link><description>d</description>{channel}{items}</channel></rss>").encode()


def read(pub: Publication, data: bytes, origin: str = ORIGIN, feed: str = "en-news") -> tuple[list[Article], list]:
    return read_articles(data, origin, "feed", pub.feed(feed), pub.site)


def one(pub: Publication, data: bytes, origin: str = ORIGIN) -> Article:
    articles, problems = read(pub, data, origin)
    assert len(articles) == 1, problems
    return articles[0]


class TestLinks:
    def test_a_guid_that_is_no_url_is_no_link(self, pub: Publication) -> None:
        """<guid>12345</guid> without isPermaLink="false" and no <link> is the id; the item gets a page on the site, never base_url/12345."""
        article = one(pub, rss("<item><title>x</title><guid>12345</guid></item>"))
        assert ("12345", True) == (article.id, article.url.startswith("https://news.example.org/en-news/"))
        assert "https://news.example.org/12345" != article.url

    def test_a_guid_that_is_a_path_links_to_the_upstream_site(self, pub: Publication) -> None:
        """A permalink <guid>/blog/post</guid> resolves against the feed's URL, as feedparser reads it."""
        article = one(pub, rss("<item><title>x</title><guid>/blog/post</guid></item>"))
        assert "https://up.example/blog/post" == article.url

    def test_relative_urls_resolve_against_xml_base_then_the_feeds_url(self, pub: Publication) -> None:
        """Links and body URLs resolve against xml:base when there is one, else the document's URL."""
        atom = (b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example/blog/"><title>p</title>'
                b'<id>f</id><entry xml:base="posts/"><title>in base</title><id>tag:x,1</id><link href="one.html"/>'
                b'<updated>2022-05-06T10:00:00Z</updated><content type="html">&lt;p&gt;&lt;a href="img/a.png"&gt;pic'
                b'&lt;/a&gt; &lt;img src="/abs.png"&gt;&lt;/p&gt;</content></entry></feed>')
        article = one(pub, atom)
        assert "https://base.example/blog/posts/one.html" == article.url
        assert 'href="https://base.example/blog/posts/img/a.png"' in article.body_html
        assert 'src="https://base.example/abs.png"' in article.body_html
        plain = one(pub, rss('<item><title>x</title><link>/a.html</link><description>&lt;img src="b.jpg"&gt;'
                             '</description></item>'))
        assert ("https://up.example/a.html", 'src="https://up.example/feeds/b.jpg"') == (
            plain.url, plain.body_html[plain.body_html.index("src="):plain.body_html.index(".jpg") + 5])

    def test_a_feed_file_resolves_against_the_site_it_names(self, pub: Publication) -> None:
        """An upstream feed read from a file has no URL of its own: its channel <link> is the base, never our base_url."""
        article = one(pub, rss("<item><title>x</title><link>episodes/41.html</link></item>"),
                      origin="feeds/en-news/partner.xml")
        assert "https://up.example/episodes/41.html" == article.url


class TestTitles:
    @pytest.mark.parametrize("written, shown", [
        ('<title type="html">A &lt;b&gt;bold&lt;/b&gt; &amp;amp; title</title>', "A bold & title"),
        ('<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">An <em>XHTML</em> title</div></title>',
         "An XHTML title"),
        ("<title>Plain &amp; simple</title>", "Plain & simple"),
    ])
    def test_atom_titles_are_plain_text(self, pub: Publication, written: str, shown: str) -> None:
        """An Atom title written as HTML or XHTML is republished as the text it shows, not as markup."""
        atom = (f'<feed xmlns="http://www.w3.org/2005/Atom"><title>p</title><id>f</id><entry>{written}'
                f"<id>tag:x,1</id><link href=\"https://up.example/1\"/><updated>2022-05-06T10:00:00Z</updated>"
                f"</entry></feed>").encode()
        assert shown == one(pub, atom).title

    def test_rss_title_with_markup_is_plain_text(self, pub: Publication) -> None:
        """An RSS title carrying escaped tags and references shows as text: 'La case BD: Tintin & co'."""
        article = one(pub, rss("<item><title>La case BD: &lt;i&gt;Tintin&lt;/i&gt; &amp;#038; co</title>"
                               "<link>https://up.example/1</link></item>"))
        assert "La case BD: Tintin & co" == article.title


class TestItemsWithLittle:
    @pytest.mark.parametrize("item, title", [
        ('<enclosure url="https://up.example/a.jpg" length="100" type="image/jpeg"/>', "Photo"),
        ("<link>https://up.example/only-link</link>", "Link"),
        ('<description>&lt;img src="https://up.example/h.jpg" alt="A grey heron"&gt;</description>', "A grey heron"),
        ('<description>&lt;a href="https://up.example/x"&gt;Read this first&lt;/a&gt;</description>',
         "Read this first"),
        ('<enclosure url="https://up.example/ep.mp3" length="5" type="audio/mpeg"/>', "Attachment"),
    ])
    def test_image_only_and_link_only_items_are_kept_with_a_title(self, pub: Publication, item: str,
                                                                   title: str) -> None:
        """Photo and microblog items keep their place: titled by the link's text, the picture's description, or a word."""
        article = one(pub, rss(f"<item>{item}<pubDate>Fri, 06 May 2022 10:00:00 GMT</pubDate></item>"))
        assert title == article.title

    def test_the_word_is_in_the_items_language(self, pub: Publication) -> None:
        """An untitled picture in an Arabic feed is titled in Arabic."""
        data = rss('<item><enclosure url="https://up.example/a.jpg" type="image/jpeg" length="1"/></item>',
                   channel="<language>ar</language>")
        [article], _ = read(pub, data, feed="ar-news")
        assert "صورة" == article.title

    def test_an_empty_item_is_named_and_dropped(self, pub: Publication) -> None:
        """An item with no title, text, link, picture or id is a problem naming the file; the rest are kept."""
        articles, problems = read(pub, rss("<item></item><item><title>kept</title></item>"))
        assert ["kept"] == [a.title for a in articles]
        assert [(f"{ORIGIN} (item 0)", "the article has no title, no text, no link and no picture")] == [
            (p.where, p.message.split(";")[0]) for p in problems]


class TestDates:
    def test_an_unreadable_date_names_its_text_and_the_item(self, pub: Publication) -> None:
        """A date in an unknown zone is no date (never a guess) and the note says which date, of which item."""
        article = one(pub, rss("<item><title>Storm warning</title><link>https://up.example/1</link>"
                               "<pubDate>Fri, 06 May 2022 10:00:00 XYZ</pubDate></item>"))
        assert article.published is None
        [note] = article.problems
        assert note.startswith("item “Storm warning”: the date 'Fri, 06 May 2022 10:00:00 XYZ' cannot be read")

    def test_feedparsers_reading_is_kept_when_ours_finds_nothing(self, pub: Publication) -> None:
        """Where masthead reads no date but feedparser did, and its reading agrees with the numbers written, it is kept."""
        read_by_feedparser = datetime(2022, 5, 6, 10, tzinfo=UTC)
        raw = RawEntry(origin=ORIGIN, key="1", title="t", body_text="b", published="06|05|2022 10h00",
                       published_raw="06|05|2022 10h00", upstream=True, fallback_published=read_by_feedparser)
        assert read_by_feedparser == normalise(raw, pub.feed("en-news"), pub.site).published

    @pytest.mark.parametrize("written, feedparser_read", [
        ("Fri, 06 May 2022 10:00:00 XYZ", datetime(2022, 5, 6, 10, tzinfo=UTC)),   # unknown zone taken for UTC
        ("2004-W09", datetime(2004, 11, 1, tzinfo=UTC)),                             # a week read as a November day
    ])
    def test_feedparsers_wrong_readings_are_not_kept(self, pub: Publication, written: str,
                                                     feedparser_read: datetime) -> None:
        """feedparser's reading is refused when it may hide an unknown zone or disagrees with the numbers written."""
        raw = RawEntry(origin=ORIGIN, key="1", title="t", body_text="b", published=written, published_raw=written,
                       upstream=True, fallback_published=feedparser_read)
        assert normalise(raw, pub.feed("en-news"), pub.site).published is None

    def test_times_without_a_zone_are_utc_upstream(self, pub: Publication) -> None:
        """An upstream time written without a zone is taken as UTC, as feedparser and feed readers take it."""
        article = one(pub, rss("<item><title>x</title><link>https://up.example/1</link>"
                               "<pubDate>2022-05-06 10:00:00</pubDate></item>"))
        assert datetime(2022, 5, 6, 10, tzinfo=UTC) == article.published

    def test_every_note_about_an_item_names_it(self, sample_pub) -> None:
        """Three undated items of one JSON Feed give three notes, each naming its item, not the file alone three times."""
        items = [{"id": f"https://up.example/{n}", "title": f"Item {n}", "content_text": "text"} for n in (1, 2, 3)]
        (sample_pub / "feeds/en-news/jf.json").write_text(json.dumps(
            {"version": "https://jsonfeed.org/version/1.1", "title": "jf", "items": items}), "utf-8")
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir) as store:
            problems = collect_publication(pub, store, NOW).problems
        notes = sorted(str(p) for p in problems if p.where == "feeds/en-news/jf.json")
        assert [f"feeds/en-news/jf.json: item “Item {n}”: no date found: the time the article was first "
                "collected is used" for n in (1, 2, 3)] == notes


class TestEnclosures:
    PODCAST = rss('<item><title>Episode 7</title><link>https://up.example/ep7</link><guid>https://up.example/ep7</guid>'
                  '<pubDate>Fri, 06 May 2022 10:00:00 GMT</pubDate><description>Notes.</description>'
                  '<enclosure url="https://up.example/ep7.mp3" length="31457280" type="audio/mpeg"/></item>')

    def test_a_podcast_survives_the_trip(self, pub: Publication) -> None:
        """An episode's audio comes out in RSS <enclosure>, Atom rel="enclosure" and JSON Feed attachments, with length and type."""
        episode = one(pub, self.PODCAST)
        expected = [("https://up.example/ep7.mp3", 31457280, "audio/mpeg")]
        assert expected == [(e.url, e.length, e.mime_type) for e in episode.enclosures]
        [out] = [o for o in build_feeds(pub, [episode], NOW) if o.name == "en-news"]
        for kind in ("rss", "atom"):
            entry = feedparser.parse(out.contents[out.files[kind]]).entries[0]
            assert expected == [(e.href, int(e.length), e.type) for e in entry.enclosures], kind
            assert ["https://up.example/ep7"] == [x.href for x in entry.links if x.rel == "alternate"], kind
        item = json.loads(out.contents[out.files["json"]])["items"][0]
        assert [{"url": "https://up.example/ep7.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 31457280}] == \
            item["attachments"]

    def test_an_enclosure_without_a_type_gets_one_from_its_name(self, pub: Publication) -> None:
        """<enclosure url=".../image.jpg"/> with no type or length becomes the item's picture, typed image/jpeg."""
        article = one(pub, rss('<item><title>x</title><link>https://up.example/1</link>'
                               '<enclosure url="https://up.example/p/image.jpg"/></item>'))
        assert ("https://up.example/p/image.jpg", "image/jpeg") == (article.image.url, article.image.mime_type)
        assert [("https://up.example/p/image.jpg", 0, "image/jpeg")] == [
            (e.url, e.length, e.mime_type) for e in article.enclosures]

    def test_json_feed_attachments_are_carried(self, pub: Publication) -> None:
        """JSON Feed attachments (even in a feed that writes its version with http://) become enclosures."""
        doc = {"version": "http://jsonfeed.org/version/1", "title": "p", "items": [{
            "id": "1", "url": "/ep1", "title": "Ep 1", "content_text": "t", "date_published": "2022-05-06T10:00:00Z",
            "attachments": [{"url": "/ep1.m4a", "mime_type": "audio/x-m4a", "size_in_bytes": 89970236}]}]}
        article = one(pub, json.dumps(doc).encode(), origin="https://up.example/feed.json")
        assert ("https://up.example/ep1", [("https://up.example/ep1.m4a", 89970236, "audio/x-m4a")]) == (
            article.url, [(e.url, e.length, e.mime_type) for e in article.enclosures])
