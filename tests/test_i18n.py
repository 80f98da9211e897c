"""Interface words: one file per language, every word the code uses exists in English, new languages work."""

from __future__ import annotations

import email
import email.policy
import re
import tomllib
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest

from masthead import i18n
from masthead.config import load_publication
from masthead.pipeline import run

from .conftest import ROOT

SRC = ROOT / "src" / "masthead"
TEMPLATES = SRC / "templates"
# Keys a language may leave to English: date patterns its own file need not repeat.
PATTERNS = ["dates.day", "dates.day_no_year", "dates.with_weekday"]
EXPECTED_FALLBACKS = {"ar": PATTERNS, "fa": PATTERNS, "fr": PATTERNS, "ur": PATTERNS}


def english() -> dict[str, object]:
    data = tomllib.loads(resources.files("masthead.i18n").joinpath("en.toml").read_text("utf-8"))
    return {f"{s}.{k}": v for s, values in data.items() for k, v in values.items()}


def keys_used_in_code() -> dict[str, str]:
    """Every interface-word key the code and the packaged templates use -> where."""
    used: dict[str, str] = {}
    direct = re.compile(r"""\b(?:word|names)\(\s*[\w.]+,\s*["']([a-z_]+\.[a-z_]+)["']""")
    web = re.compile(r"""\b(?:fill|text)\(\s*[\w.]+,\s*["'](\w+)["']|\.page\([^)]*?,\s*"[^"]+",\s*"(\w+)\"""")
    sections = re.compile(r"""(\w+) = section\(\s*[\w.]+,\s*["'](\w+)["']\)""")
    for path in SRC.rglob("*.py"):
        if path.parent.name == "i18n":       # the API itself, and its docstring's example
            continue
        source = path.read_text("utf-8")
        where = str(path.relative_to(ROOT))
        used.update(dict.fromkeys(direct.findall(source), where))
        for match in web.finditer(source):
            used[f"web.{match.group(1) or match.group(2)}"] = where
        for variable, name in sections.findall(source):
            for key in re.findall(rf"\b{variable}\[[\"'](\w+)[\"']\]", source):
                used[f"{name}.{key}"] = where
    for path in TEMPLATES.glob("page/*.html"):     # {% set w = words(lang) %} ... {{ w.subscribe }}
        for key in re.findall(r"\bw\.(\w+)", path.read_text("utf-8")):
            used[f"page.{key}"] = str(path.relative_to(ROOT))
    for key in re.findall(r"""\bsay\(["'](\w+)["']\)""", (TEMPLATES / "feed.xsl").read_text("utf-8")):
        used[f"page.{key}"] = "src/masthead/templates/feed.xsl"
    for path in TEMPLATES.glob("digest.*"):
        for key in re.findall(r"\blabels\.(\w+)", path.read_text("utf-8")):
            digest_or_article = f"digest.{key}" if f"digest.{key}" in english() else f"article.{key}"
            used[digest_or_article] = str(path.relative_to(ROOT))
    return used


class TestWordFiles:
    def test_every_key_the_code_uses_exists_in_english(self) -> None:
        """word(), fill(), text(), page titles, section lookups, digest labels and page words name real keys."""
        used = keys_used_in_code()
        assert len(used) > 40      # the scan found the code's words at all
        missing = {key: where for key, where in used.items() if key not in english()}
        assert {} == missing

    def test_every_page_word_is_used(self) -> None:
        """The [page] section holds only words a page template or the feed stylesheet says."""
        used = {key for key in keys_used_in_code() if key.startswith("page.")}
        assert sorted(k for k in english() if k.startswith("page.")) == sorted(used)

    def test_each_language_lists_what_falls_back_to_english(self) -> None:
        """Per language, the keys it leaves to English are exactly the expected date patterns."""
        found = {code: i18n.fallbacks(code) for code in i18n.languages() if code != "en"}
        assert EXPECTED_FALLBACKS == found

    def test_no_language_file_has_a_key_english_lacks(self) -> None:
        """A key only another language has is a typo: it would never be used."""
        known = set(english())
        stray = {code: sorted(k for k in i18n._table(code) if k not in known) for code in i18n.languages()}
        assert {code: [] for code in i18n.languages()} == stray

    def test_a_language_without_a_file_and_a_missing_word_fall_back_to_english(self) -> None:
        """German has no file: its words are English; a region tag reads its language's file."""
        assert ("Source", "المصدر") == (i18n.word("de", "article.source"), i18n.word("ar-EG", "article.source"))
        assert ("en", "ar", "en") == (i18n.interface_language("de"), i18n.interface_language("ar-SA"),
                                      i18n.interface_language("../etc/passwd"))

    def test_persian_keeps_its_zero_width_non_joiner(self) -> None:
        """ZWNJ (U+200C) in Persian words survives: سه‌شنبه is not سهشنبه."""
        assert "سه\u200cشنبه" == i18n.names("fa", "dates.weekdays")[1]


class TestDatesForPeople:
    @pytest.mark.parametrize(("language", "expected"), [
        ("ar", "الجمعة 6 مايو 2022"), ("en", "Friday 6 May 2022"), ("fr", "vendredi 6 mai 2022"),
        ("ur", "جمعہ 6 مئی 2022"), ("fa", "جمعه 6 مه 2022"), ("de", "Friday 6 May 2022")])
    def test_a_day_in_each_language(self, language: str, expected: str) -> None:
        """The day a digest covers, written with the language's own weekday and month names."""
        assert expected == i18n.day_label(date(2022, 5, 6), language, weekday=True)

    def test_language_names(self) -> None:
        """Split feeds are titled with the name a language gives itself."""
        assert ["العربية", "Français", "اردو", "Türkçe", "xx"] == [
            i18n.language_name(c) for c in ("ar", "fr", "ur", "tr", "xx")]


def set_language(root: Path, feed: str, language: str) -> None:
    toml = root / "feeds" / feed / "feed.toml"
    text = toml.read_text("utf-8")
    text = re.sub(r'^language = .*$', f'language = "{language}"', text, flags=re.M)
    if f'language = "{language}"' not in text:
        text = f'language = "{language}"\n' + text
    toml.write_text(text, "utf-8")


class TestNewLanguages:
    @pytest.mark.parametrize(("language", "direction", "greeting"), [("ur", "rtl", "السلام علیکم"),
                                                                    ("fr", "ltr", "Bonjour")])
    def test_a_feed_in_urdu_or_french_speaks_it_everywhere(self, sample_pub: Path, language: str,
                                                         direction: str, greeting: str) -> None:
        """A feed switched to Urdu (right-to-left) or French gets its digest, sign-up form and credits in it."""
        set_language(sample_pub, "en-news", language)
        run(load_publication(sample_pub), now=datetime(2022, 5, 7, 6, 0, tzinfo=UTC))
        web = (sample_pub / "output/digests/en-news/weekly/2022-04-25.html").read_text("utf-8")
        page = (sample_pub / "output/en-news/index.html").read_text("utf-8")
        eml = email.message_from_bytes((sample_pub / ".masthead/digests/en-news/weekly/2022-04-25.eml").read_bytes(),
                                       policy=email.policy.default)
        assert f'dir="{direction}" lang="{language}"' in web
        assert i18n.word(language, "digest.web_note") in web
        assert i18n.word(language, "signup_form.button") in page
        plain = eml.get_body(("plain",)).get_content()
        assert (i18n.word(language, "digest.view_in_browser") in plain) and (greeting in plain)
        assert i18n.day_label(date(2022, 5, 1), language) in web
