"""masthead.text: decoding, cleaning metadata, language and direction, summaries.

Summaries are cut at a word boundary and never inside a grapheme cluster (an
Arabic letter with its marks, an emoji ZWJ sequence); metadata loses decorative
tatweel, bidi controls and zero-width spaces but keeps the ZWNJ Persian needs
and the tatweel that ends an abbreviation (هـ); summaries keep every letter.
"""

from __future__ import annotations

import unicodedata

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from masthead.errors import InputError
from masthead.text import (
    clean_meta,
    clean_prose,
    clean_text,
    decode,
    detect_language,
    direction_of,
    fold_for_key,
    summarise,
)

ELLIPSIS = "…"
FAMILY = "👨\u200d👩\u200d👧"          # one grapheme cluster, five code points
RAINBOW_FLAG = "🏳\ufe0f\u200d🌈"
HEALTH_WORKER = "👩🏽\u200d⚕\ufe0f"
SAUDI_FLAG = "🇸🇦"
SHADDA_FATHA = "\u0651\u064e"
ZWNJ = "\u200c"
WORD_ENDS = set(" ،,;:.-–—")


def clusters(text: str) -> list[str]:
    return regex.findall(r"\X", text)


class TestSummarise:
    def test_short_text_is_kept_whole(self) -> None:
        """A text within the limit comes back whole, spaces tidied, with no ellipsis."""
        assert summarise("  قال الوزير\nإن   المحادثات مستمرة ", 300) == "قال الوزير إن المحادثات مستمرة"

    def test_long_text_is_cut_at_a_word_boundary(self) -> None:
        """A long text is cut after a whole word, and "…" marks the cut."""
        text = "أعلنت وزارة الزراعة عن تقديرات أولية لموسم القمح تفوق توقعات العام الماضي"
        summary = summarise(text, 30)
        assert summary.endswith(ELLIPSIS)
        kept = summary.removesuffix(ELLIPSIS)
        assert text.startswith(kept) and text[len(kept)] == " "
        assert len(kept) <= 30

    def test_punctuation_before_the_cut_is_dropped(self) -> None:
        """No comma or full stop is left dangling before the ellipsis."""
        assert summarise("قال الوزير، " * 20, 50) == \
            "قال الوزير، قال الوزير، قال الوزير، قال الوزير" + ELLIPSIS

    def test_marks_do_not_count_as_characters(self) -> None:
        """A text of 40 letters each with two marks (120 code points) is within a limit of 40: not cut."""
        text = ("ب" + SHADDA_FATHA) * 40
        assert text == summarise(text, 40)

    def test_emoji_sequence_is_never_split(self) -> None:
        """A long run without spaces is cut between clusters, never inside a ZWJ emoji sequence."""
        summary = summarise(FAMILY * 80, 50)
        assert summary == FAMILY * 50 + ELLIPSIS

    def test_cut_inside_a_long_word_keeps_letters_with_their_marks(self) -> None:
        """A word longer than the limit is cut between letters, each keeping its shadda and fatha."""
        summary = summarise(("س" + SHADDA_FATHA) * 100, 30)
        assert summary == ("س" + SHADDA_FATHA) * 30 + ELLIPSIS

    @settings(max_examples=400, deadline=None)
    @given(words=st.lists(
        st.lists(st.one_of(
            st.characters(min_codepoint=0x0621, max_codepoint=0x064A),
            st.tuples(st.characters(min_codepoint=0x0621, max_codepoint=0x064A),
                      st.text(st.characters(min_codepoint=0x064B, max_codepoint=0x0652),
                              min_size=1, max_size=3)).map("".join),
            st.sampled_from([FAMILY, RAINBOW_FLAG, HEALTH_WORKER, SAUDI_FLAG, "e\u0301", ZWNJ]),
            st.characters(min_codepoint=0x61, max_codepoint=0x7A),
        ), min_size=1, max_size=10).map("".join).flatmap(
            lambda w: st.sampled_from([w, w + "،", w + ".", w + ","])),
        min_size=1, max_size=80),
        separators=st.sampled_from([" ", "  ", "\n", " \n "]),
        limit=st.integers(min_value=24, max_value=160))
    def test_summary_property(self, words: list[str], separators: str, limit: int) -> None:
        """For any Arabic/emoji/marked text: whole when it fits, else a word-boundary, whole-cluster prefix plus "…"."""
        text = separators.join(words)
        flat = " ".join(text.split())
        summary = summarise(text, limit)
        if len(clusters(flat)) <= limit:
            assert flat == summary
            return
        assert summary.endswith(ELLIPSIS)
        kept = summary.removesuffix(ELLIPSIS)
        assert flat.startswith(kept)
        assert clusters(kept) == clusters(flat)[: len(clusters(kept))]  # no cluster split
        assert flat[len(kept)] in WORD_ENDS                             # ends at a word boundary
        assert len(clusters(kept)) <= limit
        assert kept == kept.rstrip("".join(WORD_ENDS))


class TestLanguage:
    @pytest.mark.parametrize("text, fallback, expected", [
        ("قال الوزير إن المحادثات ستستأنف الأسبوع المقبل في العاصمة", "en", "ar"),
        ("این یک متن فارسی است که درباره\u200cی اقتصاد ایران نوشته شده", "ar", "fa"),
        ("یہ ایک اردو جملہ ہے جو پاکستان کے بارے میں ہے", "ar", "ur"),
        ("השר אמר כי השיחות יתחדשו בשבוע הבא", "ar", "he"),
        ("The minister said on Friday that talks would resume next week.", "ar", "en"),
        ("Le ministre a déclaré vendredi que les discussions reprendraient.", "fr", "fr"),
        ("قال الوزير إن شركة Google وشركة Microsoft ستفتحان مكاتب في الرياض", "en", "ar"),
        ("", "ar", "ar"),
        ("2022 - 05 - 06", "en", "en"),
    ])
    def test_detected_language(self, text: str, fallback: str, expected: str) -> None:
        """Script decides: Arabic (fa/ur by their own letters), Hebrew; Latin keeps a Latin-script feed language, else en."""
        assert expected == detect_language(text, fallback)

    def test_one_persian_letter_in_arabic_text_stays_arabic(self) -> None:
        """A Persian name (گ) inside a long Arabic article does not make it Persian."""
        text = "التقى وزير الخارجية نظيره في العاصمة وبحث معه العلاقات الثنائية والتعاون الاقتصادي " * 3
        assert detect_language(text + " وقال المتحدث باسم شركة گلستان", "ar") == "ar"

    def test_arabic_in_every_block_counts(self) -> None:
        """Arabic typed in presentation forms (as PDFs export it) or with Supplement letters outweighs a few Latin words."""
        presentation = "ﻗﺎﻝ ﺍﻟﻮﺯﻳﺮ ﺇﻥ ﺍﻟﻤﺤﺎﺩﺛﺎﺕ ﺳﺘﺴﺘﺄﻧﻒ"
        supplement = "\u0750\u0751\u0752\u0753\u0754\u0755\u0756\u0757" * 4
        for arabic in (presentation, supplement, "قال " + presentation):
            assert detect_language(f"Reuters Google {arabic}", "en") == "ar"
        assert detect_language("Reuters Google News " + "قال", "fr") == "fr"

    @pytest.mark.parametrize("language, direction", [
        ("ar", "rtl"), ("ar-EG", "rtl"), ("fa", "rtl"), ("ur", "rtl"), ("he", "rtl"), ("ckb", "rtl"),
        ("ps", "rtl"), ("AR", "rtl"), ("en", "ltr"), ("en-GB", "ltr"), ("fr", "ltr"), ("tr", "ltr"),
    ])
    def test_direction_from_language(self, language: str, direction: str) -> None:
        """Right-to-left languages give rtl, whatever the region or case of the tag."""
        assert direction == direction_of(language)


class TestCleanMeta:
    @pytest.mark.parametrize("invisible", [
        "\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\ufeff",
    ], ids=lambda c: f"U+{ord(c):04X}")
    def test_bidi_controls_and_zero_width_space_go(self, invisible: str) -> None:
        """Every bidi control and zero-width spaces are removed from a title."""
        assert clean_meta(f"{invisible}الخ{invisible}بر{invisible} العاجل{invisible}") == "الخبر العاجل"

    def test_decorative_tatweel_goes_and_the_abbreviation_mark_stays(self) -> None:
        """Tatweel stretching a word goes from a title; the one ending هـ (Hijri year) stays, so ١٤٤٤ هـ reads right."""
        assert "الخبر العاجل في ١٤٤٤ هـ" == clean_meta("ـالخــبر العاـجل في ١٤٤٤ هـ")

    def test_summaries_keep_every_letter(self) -> None:
        """A summary keeps tatweel, ZWJ and ZWNJ as written; only invisible controls go."""
        assert f"الخــبر في ١٤٤٤ هـ می{ZWNJ}خواهم" == clean_prose(f"الخــبر\u200f في ١٤٤٤ هـ  می{ZWNJ}خواهم")

    def test_zwnj_is_kept(self) -> None:
        """The zero-width non-joiner stays: Persian words need it (می\u200cخواهم)."""
        assert f"می{ZWNJ}خواهم" == clean_meta(f"می{ZWNJ}خواهم")

    def test_controls_feedgen_refuses_go(self) -> None:
        """\\x0b, \\x0c, \\ufffe and other XML-illegal characters are removed."""
        cleaned = clean_meta("عنوان\x0b\x0c\ufffe\uffff\x01\x1f الخبر")
        assert cleaned == "عنوان الخبر"
        assert cleaned == clean_text(cleaned)

    def test_one_line_nfc_and_marks_kept(self) -> None:
        """Whitespace becomes single spaces on one line, text is NFC, and diacritics stay for display."""
        assert clean_meta("  وصر\u0651ح\n\tالوزير   cafe\u0301 ") == "وصرّح الوزير café"
        assert unicodedata.is_normalized("NFC", clean_meta("cafe\u0301"))

    @pytest.mark.parametrize("empty", [None, "", "   ", "\u0640\u200f"])
    def test_nothing_gives_empty(self, empty: str | None) -> None:
        """No value, or only invisible characters, gives the empty string."""
        assert clean_meta(empty) == ""


class TestFoldForKey:
    def test_spelling_variants_fold_together(self) -> None:
        """Diacritics, alef forms, taa marbuta, tatweel and punctuation do not make two titles differ."""
        assert fold_for_key("إعلان الوزارة: وصرّح!") == fold_for_key("اعلان الوزاره وصرح")

    def test_different_words_stay_different(self) -> None:
        """Folding keeps words apart that really differ."""
        assert fold_for_key("ارتفاع الصادرات") != fold_for_key("انخفاض الصادرات")


class TestDecode:
    def test_utf8_bom_and_crlf(self) -> None:
        """A UTF-8 BOM is dropped and CRLF / CR line ends become LF."""
        assert decode("\ufeffسطر\r\nسطر\rسطر".encode(), "a.txt") == ("سطر\nسطر\nسطر", "utf-8")

    def test_windows_1256_fallback(self) -> None:
        """Arabic in Windows-1256 is read when it is not UTF-8, and says so."""
        assert decode("خبر عاجل\r\n".encode("cp1256"), "a.txt") == ("خبر عاجل\n", "cp1256")

    def test_utf8_wins_when_both_would_do(self) -> None:
        """Valid UTF-8 is never re-read as Windows-1256 (which maps every byte)."""
        assert decode("ملخّص".encode(), "a.txt")[0] == "ملخّص"

    def test_neither_encoding_names_the_byte_and_line(self) -> None:
        """Latin-1 text is refused with the file, the first bad byte and its line, and what to do."""
        with pytest.raises(InputError) as caught:
            decode("first line\nLe café crème\n".encode("latin-1"), "feeds/ar-news/x.txt")
        assert caught.value.where == "feeds/ar-news/x.txt"
        assert "byte 0xe9 at line 2" in caught.value.message
        assert "UTF-8" in caught.value.hint

    @pytest.mark.parametrize("data, words", [(b"", "empty"), (b" \n\r\n", "empty"),
                                             (b"text\x00more", "binary")])
    def test_empty_and_binary(self, data: bytes, words: str) -> None:
        """Empty and NUL-holding files are refused with a plain reason."""
        with pytest.raises(InputError, match=words):
            decode(data, "a.txt")

    def test_word_line_breaks_become_spaces(self) -> None:
        """Vertical tab and form feed (Word's line and page breaks) become spaces, so words stay apart."""
        assert decode("كلمة\x0bكلمة\x0cكلمة".encode(), "a.txt") == ("كلمة كلمة كلمة", "utf-8")
