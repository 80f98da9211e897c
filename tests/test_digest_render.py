"""digest_render.py and the templates: right-to-left markup, overrides, template errors."""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from masthead.config import Publication, load_publication
from masthead.digest.build import build_digests
from masthead.digest.render import isolate
from masthead.errors import ConfigError
from masthead.i18n import period_label
from masthead.records import Article
from masthead.state.db import open_store
from tests.factories import article

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
FRIDAY = datetime(2022, 5, 6, 12, 0, tzinfo=ZoneInfo("Asia/Riyadh"))


def seedlike(feed: str = "ar-news", language: str = "ar") -> Article:
    rtl = language == "ar"
    return article(1, feed=feed, language=language, id=f"urn:test:{feed}", url=f"https://news.example.org/{feed}/x.html",
                   title="أكد الرئيس أن التعاون أولوية" if rtl else "The president stresses cooperation",
                   published=FRIDAY, precision="day",
                   summary="وصرّح الرئيس بذلك اليوم." if rtl else "He said so on Friday.",
                   body_html="", body_text="", source="تاس" if rtl else "TASS", photo_credit="Creative Commons",
                   origin=f"feeds/{feed}/x.txt", slug="")


def render(root: Path, *articles: Article):
    pub = load_publication(root)
    with open_store(pub.state_dir) as store:
        return list(build_digests(pub, store, list(articles), NOW).digests)


def cells(html: str) -> list[str]:
    return re.findall(r"<td\b[^>]*>", html)


class TestRightToLeft:
    def test_dir_and_lang_everywhere(self, sample_pub: Path) -> None:
        """The Arabic digest has dir=rtl lang=ar on <html>, the wrapper tables and every cell."""
        (digest,) = render(sample_pub, seedlike())
        assert '<html lang="ar" dir="rtl">' in digest.html
        assert all('dir="rtl"' in td and 'lang="ar"' in td for td in cells(digest.html))
        assert len(re.findall(r'<table[^>]*dir="rtl" lang="ar"', digest.html)) == 2

    def test_css_direction_alignment_and_fonts(self, sample_pub: Path) -> None:
        """Cells carry inline direction:rtl, text-align:right and a system Arabic font stack."""
        (digest,) = render(sample_pub, seedlike())
        headline_cell = next(td for td in cells(digest.html) if "item" in td)
        assert "direction:rtl" in headline_cell and "text-align:right" in headline_cell
        assert "Tahoma" in headline_cell and "Geeza Pro" in headline_cell

    def test_paddings_mirrored(self, sample_pub: Path) -> None:
        """The accent bar beside the date sits on the right in Arabic and on the left in English."""
        english = dataclasses.replace(seedlike("en-news", "en"),
                                      published=datetime(2022, 4, 28, 12, tzinfo=UTC))
        ar, en = render(sample_pub, seedlike(), english)
        assert "border-right:3px solid" in ar.html.replace(": ", ":")
        assert "border-left:3px solid" in en.html.replace(": ", ":")
        assert '<html lang="en" dir="ltr">' in en.html

    def test_latin_runs_wrapped(self, sample_pub: Path) -> None:
        """A Latin run such as the photo credit is isolated in <span dir="ltr"> inside Arabic text."""
        (digest,) = render(sample_pub, seedlike())
        assert 'الصورة: <span dir="ltr">Creative Commons</span>' in digest.html

    def test_media_query_and_important_kept(self, sample_pub: Path) -> None:
        """The @media rules stay in a <style> block with their !important after inlining."""
        (digest,) = render(sample_pub, seedlike())
        style = digest.html.split("<style>", 1)[1].split("</style>", 1)[0]
        assert "@media only screen and (max-width: 620px)" in style
        assert "width: 100% !important" in style

    def test_preheader_unsubscribe_and_view_in_browser(self, sample_pub: Path) -> None:
        """The email has a hidden preheader, a view-in-browser link and a visible unsubscribe link."""
        (digest,) = render(sample_pub, seedlike())
        assert re.search(r'<div style="display: none;[^"]*">أكد الرئيس', digest.html)
        assert ">عرض الرسالة في المتصفح</a>" in digest.html
        assert '<a href="%%MH_UNSUBSCRIBE_URL%%"' in digest.html
        assert "%%MH_UNSUBSCRIBE_URL%%" in digest.text

    def test_web_copy_names_no_one(self, sample_pub: Path) -> None:
        """The web copy and web text hold no placeholder and no unsubscribe link (it needs a reader's token)."""
        (digest,) = render(sample_pub, seedlike())
        assert "%%MH_" not in digest.web_html + digest.web_text
        assert "unsubscribe" not in digest.web_html + digest.web_text


class TestLabels:
    @pytest.mark.parametrize(("text", "expected"), [
        ("الصورة: Creative Commons", 'الصورة: <span dir="ltr">Creative Commons</span>'),
        ("Photo : Creative Commons", '<span dir="ltr">Photo : Creative Commons</span>'),
        ('قال "<&>" إن', "قال &#34;&lt;&amp;&gt;&#34; إن"),
        ("وكالة AFP (فرانس برس)", 'وكالة <span dir="ltr">AFP</span> (فرانس برس)'),
        ("بلا حروف لاتينية 2022", "بلا حروف لاتينية 2022"),
    ])
    def test_latin_runs_isolated_in_rtl(self, text: str, expected: str) -> None:
        """In Arabic text Latin runs are wrapped, everything else HTML-escaped and left alone."""
        assert expected == str(isolate(text, "rtl"))

    @pytest.mark.parametrize(("text", "expected"), [
        ("Photo & text", "Photo &amp; text"),
        ("Source: وكالة الأنباء (واس)", 'Source: <span dir="rtl">وكالة الأنباء</span> (<span dir="rtl">واس</span>)'),
        ("مرصد الأخبار", '<span dir="rtl">مرصد الأخبار</span>'),
    ])
    def test_rtl_runs_isolated_in_ltr(self, text: str, expected: str) -> None:
        """In English text Arabic-script runs are wrapped in <span dir="rtl">, the rest escaped."""
        assert expected == str(isolate(text, "ltr"))

    @pytest.mark.parametrize(("first", "last", "cadence", "lang", "expected"), [
        (date(2022, 5, 6), date(2022, 5, 6), "daily", "ar", "الجمعة 6 مايو 2022"),
        (date(2022, 5, 6), date(2022, 5, 6), "daily", "en", "Friday 6 May 2022"),
        (date(2022, 5, 2), date(2022, 5, 8), "weekly", "ar", "2–8 مايو 2022"),
        (date(2022, 4, 25), date(2022, 5, 1), "weekly", "en", "25 April – 1 May 2022"),
        (date(2022, 12, 26), date(2023, 1, 1), "weekly", "en", "26 December 2022 – 1 January 2023"),
    ])
    def test_period_label(self, first: date, last: date, cadence: str, lang: str, expected: str) -> None:
        """Periods read as people write them, in Arabic and English."""
        assert expected == period_label(first, last, cadence, lang)


class TestTemplates:
    def test_publication_override_preferred(self, sample_pub: Path) -> None:
        """The sample's templates/digest.html (adding the site description) is used over the package's."""
        (digest,) = render(sample_pub, seedlike())
        assert "أخبار ومقالات مختارة" in digest.html

    def test_package_default_without_override(self, sample_pub: Path) -> None:
        """Without a templates/ folder the packaged templates render the digest."""
        shutil.rmtree(sample_pub / "templates")
        (digest,) = render(sample_pub, seedlike())
        assert "أخبار ومقالات مختارة" not in digest.html
        assert 'الصورة: <span dir="ltr">Creative Commons</span>' in digest.html

    def test_syntax_error_names_file_and_line(self, sample_pub: Path) -> None:
        """A jinja2 syntax error is a ConfigError naming templates/digest.html and its line."""
        (sample_pub / "templates" / "digest.html").write_text("<p>\n{% if x %}\n<p>oops\n", encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            render(sample_pub, seedlike())
        assert info.value.where == "templates/digest.html:3"
        assert "syntax error" in info.value.message

    def test_unknown_variable_names_file_and_line(self, sample_pub: Path) -> None:
        """A misspelt variable is a ConfigError naming the template and line, not an empty value."""
        (sample_pub / "templates" / "digest.txt").write_text("{{ feed.title }}\n{{ feed.titel }}\n",
                                                              encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            render(sample_pub, seedlike())
        assert info.value.where == "templates/digest.txt:2"
        assert "titel" in info.value.message

    def test_subject_with_newline_refused(self, sample_pub: Path) -> None:
        """A subject template that produces a line break is a ConfigError naming feed.toml's key."""
        toml = sample_pub / "feeds" / "ar-news" / "feed.toml"
        text = toml.read_text(encoding="utf-8").replace(
            'subject = "نشرة {{ feed.title }}: {{ period_label }}"',
            'subject = "نشرة {{ feed.title }}{{ \\"\\\\n\\" }}Bcc: x@example.com"')
        toml.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            render(sample_pub, seedlike())
        assert info.value.where == "feeds/ar-news/feed.toml: digest.subject"
        assert "line break" in info.value.message

    def test_subject_unknown_variable(self, sample_pub: Path) -> None:
        """A subject naming an unknown variable is a ConfigError naming feed.toml's key."""
        toml = sample_pub / "feeds" / "ar-news" / "feed.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace("{{ period_label }}", "{{ perod }}"),
                        encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            render(sample_pub, seedlike())
        assert info.value.where.startswith("feeds/ar-news/feed.toml: digest.subject")
        assert "perod" in info.value.message

    def test_publication_loads(self, sample_pub: Path) -> None:
        """The sample publication's feeds with a cadence are the Arabic daily, the English weekly and the podcast's daily."""
        pub: Publication = load_publication(sample_pub)
        assert {f.name: f.digest.cadence for f in pub.feeds} == {
            "ar-news": "daily", "en-news": "weekly", "all": "off", "podcast": "daily"}
