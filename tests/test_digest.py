"""digest.py: periods, which articles a digest holds, idempotence and the size budget."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from masthead.config import Publication, load_publication
from masthead.digest.build import build_digests
from masthead.digest.edition import MESSAGE_BUDGET, sample_recipient
from masthead.digest.periods import latest_period
from masthead.errors import ConfigError
from masthead.records import Article, Image
from masthead.send.message import build_message
from masthead.state.db import Store, open_store, stamp
from tests.factories import article as make_article

RIYADH = ZoneInfo("Asia/Riyadh")
NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)         # 09:00 Saturday in Riyadh


def article(n: int, when: datetime, *, feed: str = "ar-news", language: str = "ar", summary: str | None = None,
            body: str = "", image: Image | None = None, title: str | None = None) -> Article:
    return make_article(n, feed=feed, language=language, id=f"urn:test:{feed}:{n}",
                        title=title or f"عنوان الخبر رقم {n}", published=when,
                        summary=f"ملخص الخبر رقم {n}." if summary is None else summary,
                        body_html=f"<p>{body}</p>", body_text=body, source="واس", image=image)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2022, 5, day, hour, 0, tzinfo=RIYADH)


class TestPeriods:
    def test_daily_is_yesterday_in_site_zone(self) -> None:
        """At 09:00 Riyadh on 7 May, the latest complete day is 6 May 00:00-24:00 Riyadh time."""
        period = latest_period("daily", 0, RIYADH, NOW)
        assert (at(6, 0), at(7, 0)) == (period.start, period.end)

    def test_daily_uses_site_zone_not_utc(self) -> None:
        """At 22:30 UTC on 6 May it is already 7 May in Riyadh, so 6 May is complete."""
        period = latest_period("daily", 0, RIYADH, datetime(2022, 5, 6, 22, 30, tzinfo=UTC))
        assert at(6, 0) == period.start

    def test_weekly_ends_on_latest_start_weekday(self) -> None:
        """A Monday-started week seen on Saturday 7 May is Monday 25 April to Monday 2 May."""
        period = latest_period("weekly", 0, RIYADH, NOW)
        assert (datetime(2022, 4, 25, tzinfo=RIYADH), at(2, 0)) == (period.start, period.end)

    def test_period_ending_exactly_now_is_complete(self) -> None:
        """At exactly local midnight the day that just ended is the latest complete one."""
        period = latest_period("daily", 0, RIYADH, at(7, 0))
        assert at(6, 0) == period.start


class TestSelection:
    def test_holds_articles_of_the_period_only(self, pub: Publication, store: Store) -> None:
        """Only articles published inside the period, of the digest's feed, are held."""
        items = [article(1, at(6, 1)), article(2, at(6, 23)), article(3, at(5, 23)), article(4, at(7, 1)),
                 article(5, at(6), feed="en-news", language="en")]
        (digest,) = build_digests(pub, store, items, NOW).digests
        assert digest.article_ids == ("urn:test:ar-news:2", "urn:test:ar-news:1")
        assert digest.id == "ar-news/daily/2022-05-06"

    def test_empty_period_makes_no_digest(self, pub: Publication, store: Store) -> None:
        """A period without articles makes no digest and records nothing."""
        assert build_digests(pub, store, [article(1, at(3))], NOW).digests == ()
        assert store.scalar("SELECT count(*) FROM digests") == 0

    def test_second_run_same_period_changes_nothing(self, pub: Publication, store: Store) -> None:
        """Running again for the same period gives the same digest, byte for byte, and one record."""
        items = [article(1, at(6)), article(2, at(6, 15))]
        first = build_digests(pub, store, items, NOW).digests
        again = build_digests(pub, store, items, NOW + timedelta(hours=3)).digests
        assert first == again
        assert store.scalar("SELECT count(*) FROM digests") == 1

    def test_recorded_digest_keeps_its_articles(self, pub: Publication, store: Store) -> None:
        """An article that turns up late for an already-made digest does not change that digest."""
        build_digests(pub, store, [article(1, at(6))], NOW)
        (digest,) = build_digests(pub, store, [article(1, at(6)), article(2, at(6, 8))], NOW).digests
        assert digest.article_ids == ("urn:test:ar-news:1",)

    def test_article_held_before_is_not_repeated(self, pub: Publication, store: Store) -> None:
        """An article an earlier digest held is left out even if its date moves into a later period."""
        build_digests(pub, store, [article(1, at(5))], datetime(2022, 5, 6, 6, tzinfo=UTC))
        moved = [article(1, at(6)), article(2, at(6))]
        (digest,) = build_digests(pub, store, moved, NOW).digests
        assert digest.article_ids == ("urn:test:ar-news:2",)

    def test_recorded_in_state(self, pub: Publication, store: Store) -> None:
        """The digests table records the id, feed, period, subject and article ids."""
        build_digests(pub, store, [article(1, at(6))], NOW)
        row = store.one("SELECT * FROM digests")
        assert (row["id"], row["feed"]) == ("ar-news/daily/2022-05-06", "ar-news")
        assert json.loads(row["article_ids"]) == ["urn:test:ar-news:1"]
        assert row["subject"] == "نشرة أخبار العالم: الجمعة 6 مايو 2022"
        assert stamp(NOW) == row["created"]


class TestBadArticles:
    def test_article_without_summary_uses_its_body(self, pub: Publication, store: Store) -> None:
        """An article with no summary shows the start of its body, cut at a word with an ellipsis."""
        body = "جملة أولى من نص الخبر " * 40
        (digest,) = build_digests(pub, store, [article(1, at(6), summary="", body=body)], NOW).digests
        assert "جملة أولى من نص الخبر جملة" in digest.html
        assert "…" in digest.text

    def test_article_without_summary_or_body_is_title_only(self, pub: Publication, store: Store) -> None:
        """An article with neither summary nor body still appears, with its title and link."""
        (digest,) = build_digests(pub, store, [article(1, at(6), summary="", body="")], NOW).digests
        assert "عنوان الخبر رقم 1" in digest.html
        assert 'class="summary"' not in digest.html

    def test_non_https_image_dropped_with_note(self, pub: Publication, store: Store) -> None:
        """An http image is left out of the email and a Problem names the article and says why."""
        plain = Image(url="http://cdn.example.org/a.jpg", alt="صورة")
        secure = Image(url="https://cdn.example.org/b.jpg", alt="صورة آمنة", width=1200, height=800)
        result = build_digests(pub, store, [article(1, at(6), image=plain), article(2, at(6, 9), image=secure)], NOW)
        html = result.digests[0].html
        assert "http://cdn.example.org/a.jpg" not in html
        assert 'src="https://cdn.example.org/b.jpg" alt="صورة آمنة" width="552" height="368"' in html
        (problem,) = result.problems
        assert problem.where == "feeds/ar-news/item-1.txt"
        assert "not an https URL" in problem.message


class TestSizeBudget:
    def test_runaway_title_is_cut(self, pub: Publication, store: Store) -> None:
        """A 100,000-character title is cut at a word with an ellipsis; the email stays in budget."""
        huge = "كلمة " * 20_000
        (digest,) = build_digests(pub, store, [article(1, at(6), title=huge)], NOW).digests
        message = bytes(build_message(pub, digest, sample_recipient(pub, "ar"), date=NOW))
        assert len(message) <= MESSAGE_BUDGET
        assert "كلمة كلمة…" in digest.html

    def test_many_articles_cut_with_link_to_site(self, pub: Publication, store: Store) -> None:
        """500 articles in a day: the email shows max_items (30) and links to the web copy with the rest."""
        items = [article(n, at(6, 0) + timedelta(minutes=2 * n)) for n in range(500)]
        (digest,) = build_digests(pub, store, items, NOW).digests
        assert len(digest.article_ids) == 500
        assert digest.shown == 30
        assert "(470 أخبار أخرى)" in digest.html
        assert 'href="https://news.example.org/digests/ar-news/daily/2022-05-06.html"' in digest.html
        assert digest.web_html.count('class="headline"') == 500

    def test_long_summaries_cut_to_fit_gmail(self, sample_pub: Path) -> None:
        """With no item limit and long items, the email still stays under Gmail's clipping size."""
        toml = sample_pub / "feeds" / "ar-news" / "feed.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + "max_items = 1000\n", encoding="utf-8")
        pub = load_publication(sample_pub)
        long = "نص طويل جداً للملخص " * 30
        items = [article(n, at(6, 0) + timedelta(minutes=2 * n), summary=long) for n in range(500)]
        with open_store(pub.state_dir) as store:
            (digest,) = build_digests(pub, store, items, NOW).digests
        message = bytes(build_message(pub, digest, sample_recipient(pub, "ar"), date=NOW))
        assert len(message) <= MESSAGE_BUDGET < 102 * 1024
        assert 10 < digest.shown < 500
        assert f"({500 - digest.shown} أخبار أخرى)" in digest.html


class TestDeterminism:
    def test_same_input_same_bytes(self, sample_pub: Path, tmp_path: Path) -> None:
        """Two publications with the same articles and now render identical digests."""
        items = [article(n, at(6, n)) for n in range(1, 6)]
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir) as store:
            first = build_digests(pub, store, items, NOW).digests
        with open_store(tmp_path / "other-state") as store:
            second = build_digests(dataclasses.replace(pub), store, items, NOW).digests
        assert [d.html for d in first] == [d.html for d in second]
        assert [d.text for d in first] == [d.text for d in second]


class TestSettings:
    def test_http_unsubscribe_url_refused(self, sample_pub: Path) -> None:
        """With digests on, an http unsubscribe URL is a ConfigError naming site.toml's key."""
        site = sample_pub / "feeds" / "site.toml"
        site.write_text(site.read_text(encoding="utf-8").replace(
            'unsubscribe_url = "https://', 'unsubscribe_url = "http://'), encoding="utf-8")
        pub = load_publication(sample_pub)
        with open_store(pub.state_dir) as store, pytest.raises(ConfigError) as info:
            build_digests(pub, store, [article(1, at(6))], NOW)
        assert info.value.where == "feeds/site.toml"
        assert "email.unsubscribe_url" in info.value.message
