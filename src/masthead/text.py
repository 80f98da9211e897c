"""Text normalisation shared by every reader: decoding, cleaning, language, summaries.

The choices: strict UTF-8
before Windows-1256, NFC, bidi controls and zero-width spaces removed from
metadata (ZWNJ kept: Persian needs it), summaries cut on a word boundary and
never inside a grapheme cluster.

Tatweel (U+0640) is decided per field. One-line fields (titles, names, tags,
the source line) lose the decorative tatweel that stretches a word between two
joined letters (``الخــبر``): it is justification typography, and it would split
search, dedupe keys and slugs. A tatweel that ends a word is kept everywhere:
it is the abbreviation mark of ``هـ`` (Hijri year) and ``م``-style dates, and
``١٤٤٤ ه`` would misread. Summaries and bodies keep every tatweel: they are the
writer's prose, shown as written.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import InputError
from .records import Direction

RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "he", "ps", "ckb", "yi", "dv", "sd", "ug"})

# Characters XML 1.0 cannot carry (feedgen raises on them), plus U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_BLANK_CONTROLS = str.maketrans({"\x0b": " ", "\x0c": " "})
# Removed from metadata fields: bidi controls, zero-width space / joiner, BOM (tatweel: see above).
_META_STRIP = re.compile("[\u200b\u200d\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]")
# Removed from summaries: the invisible controls only (ZWJ, ZWNJ and tatweel are part of words).
_PROSE_STRIP = re.compile("[\u200b\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]")
_ARABIC_JOINING = "\u0620-\u064a\u064b-\u065f\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff"
# Tatweel that stretches a word (a joining letter on each side), or that follows no letter at all.
_DECORATIVE_TATWEEL = re.compile(
    f"(?<=[{_ARABIC_JOINING}])\u0640+(?=[\u0640{_ARABIC_JOINING}])|(?<![{_ARABIC_JOINING}\u0640])\u0640+")
_TASHKEEL = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_SPACES = re.compile(r"\s+")

_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_PERSIAN_ONLY = re.compile("[پچژگکی]")
_URDU_ONLY = re.compile("[ٹڈڑںےۓ]")
_HEBREW_LETTER = re.compile("[\u0590-\u05ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
# Runs of each script: counting letters as the summed length of runs makes far fewer matches.
_ARABIC_RUN = re.compile(_ARABIC_LETTER.pattern + "+")
_HEBREW_RUN = re.compile(_HEBREW_LETTER.pattern + "+")
_LATIN_RUN = re.compile(_LATIN_LETTER.pattern + "+")


def _letters(run: re.Pattern[str], text: str) -> int:
    return sum(map(len, run.findall(text)))


# In UTF-8 the Arabic block (U+0600-U+06FF) is every character led by a byte 0xD8-0xDB; the
# other Arabic blocks (U+0750-U+077F, U+08A0-U+08FF, U+FB50-U+FEFF) are led by 0xDD, 0xE0 or 0xEF.
_ARABIC_LEADS = (b"\xd8", b"\xd9", b"\xda", b"\xdb")
_OTHER_BLOCK_LEADS = (b"\xdd", b"\xe0", b"\xef")


def _arabic_letters(text: str) -> int:
    """``_letters(_ARABIC_RUN, text)``, counted on the UTF-8 bytes when only the main block can be there.

    Counting four byte values runs in C at memory speed; the regular expression
    tests every character against five ranges, the costliest step of detecting
    an article's language.
    """
    data = text.encode("utf-8", "surrogatepass")
    if any(lead in data for lead in _OTHER_BLOCK_LEADS):      # maybe another block: count them all
        return _letters(_ARABIC_RUN, text)
    return sum(map(data.count, _ARABIC_LEADS))


def decode(data: bytes, where: str) -> tuple[str, str]:
    """Bytes of a text file -> (text with LF line ends, encoding used).

    UTF-8 (with or without BOM) first; Windows-1256 only when UTF-8 fails and
    the result reads as Arabic or plain text. Anything else is an InputError.
    """
    if not data.strip():
        raise InputError("the file is empty", where=where, hint="write the article, or delete the file")
    if b"\x00" in data:
        raise InputError("the file is binary (it contains NUL bytes), not text", where=where,
                         hint="save articles as UTF-8 text, or move this file out of feeds/")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        text, encoding = _decode_cp1256(data, where, exc), "cp1256"
    # Vertical tab and form feed (Word's line and page breaks) become spaces, other
    # characters XML cannot carry go: YAML and JSON parsers would refuse the whole file.
    if "\x0b" in text or "\x0c" in text:
        text = text.translate(_BLANK_CONTROLS)
    text = _XML_ILLEGAL.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _decode_cp1256(data: bytes, where: str, error: UnicodeDecodeError) -> str:
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError:
        text = ""
    letters = [c for c in text if c.isalpha()]
    arabic = sum(1 for c in letters if _ARABIC_LETTER.match(c))
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\r\n\t")
    if text and letters and arabic / len(letters) > 0.5 and controls == 0:
        return text
    line = data[: error.start].count(b"\n") + 1
    raise InputError(
        f"not valid UTF-8 (byte 0x{data[error.start]:02x} at line {line}) and not Windows-1256 Arabic either",
        where=where, hint="re-save the file as UTF-8",
    )


def clean_text(text: str) -> str:
    """NFC, with characters XML cannot carry removed. For bodies: keeps marks and controls of meaning."""
    return _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", text))


def clean_meta(value: str | None) -> str:
    """A one-line metadata value: clean_text, bidi controls, zero-width spaces and decorative tatweel out."""
    if not value:
        return ""
    text = _META_STRIP.sub("", clean_text(value))
    if "\u0640" in text:
        text = _DECORATIVE_TATWEEL.sub("", text)
    return " ".join(text.split())


def clean_prose(value: str | None) -> str:
    """A summary: clean_text on one line, invisible controls out; every letter, tatweel included, kept."""
    if not value:
        return ""
    return " ".join(_PROSE_STRIP.sub("", clean_text(value)).split())


# What may never reach a mail header from names and titles: C0 and C1 controls
# (U+0085 among them), DEL and the Unicode line and paragraph separators.
_HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_text_problem(value: str) -> str | None:
    """Why ``value`` (a name or a title) may not go into a mail header, or None when it may.

    Python's email package (3.11, 3.12) decodes an RFC 2047 encoded-word while
    refolding a header, so ``=?utf-8?q?A=0D=0ABcc:...?=`` turns into a real line
    break: checking for CR and LF is not enough. Encoded-words, control
    characters and line or paragraph separators are all refused.
    """
    found = _HEADER_UNSAFE.search(value)
    if found:
        kind = "a line break" if found.group() in "\r\n\x0b\x0c\x85\u2028\u2029" else "a control character"
        return f"it holds {kind} (U+{ord(found.group()):04X})"
    if "=?" in value:
        return "it holds '=?', the start of an RFC 2047 encoded-word"
    return None


_LETTER_FORMS = str.maketrans("أإآىة", "ااايه")


def fold_for_key(text: str) -> str:
    """A comparison key: no diacritics, one alef, case folded, single spaces."""
    text = _TASHKEEL.sub("", clean_meta(text)).replace("\u0640", "")
    text = text.translate(_LETTER_FORMS)
    return _SPACES.sub(" ", re.sub(r"[^\w\s]", " ", text)).strip().casefold()


def detect_language(text: str, fallback: str) -> str:
    """The language of ``text`` by script: ar / fa / ur / he, else ``fallback``.

    Arabic script decides ar, or fa / ur when their own letters appear. For
    Latin-script text the publication's own language is kept when it is a
    Latin-script one, else English.
    """
    sample = text[:4000]
    # A script whose letters are over half the sample outnumbers every other one: most texts are
    # decided by one or two scans.
    arabic = _arabic_letters(sample)
    mostly = len(sample) // 2
    latin = 0 if arabic > mostly else _letters(_LATIN_RUN, sample)
    hebrew = 0 if arabic > mostly or latin > mostly else _letters(_HEBREW_RUN, sample)
    if arabic > latin and arabic >= hebrew:
        if _URDU_ONLY.search(sample):
            return "ur"
        if len(_PERSIAN_ONLY.findall(sample)) > arabic * 0.02:
            return "fa"
        return "ar"
    if hebrew > latin:
        return "he"
    if latin:
        return "en" if direction_of(fallback) == "rtl" else fallback
    return fallback


def direction_of(language: str) -> Direction:
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def summarise(text: str, limit: int = 300) -> str:
    """The first ``limit`` characters of ``text``, cut at a word boundary, "…" added when cut."""
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    import regex  # grapheme clusters; loaded by the stages that cut text, not by every command

    clusters = regex.findall(r"\X", text)
    kept = "".join(clusters[:limit])
    if len(kept) >= len(text):
        return text
    cut = kept.rstrip()
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ،,;:.-–—") + "…"


_ALLOWED_TAGS = {"a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "div", "dl",
                 "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
                 "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup",
                 "table", "tbody", "td", "th", "thead", "tr", "u", "ul", "bdi", "bdo"}
_ALLOWED_ATTRS = {"*": {"dir", "lang", "title"}, "a": {"href"},
                  "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan"},
                  "th": {"colspan", "rowspan"}}


# Footnote anchors (Markdown's [^1]) keep their ids, and only those: fn-<article>-1, fnref-<article>-1.
_FOOTNOTE_ID = re.compile(r"fn(?:ref)?-[\w-]{1,80}\Z")
_WITH_FOOTNOTE_IDS = {**_ALLOWED_ATTRS, "a": {"href", "id"}, "li": {"id"}, "sup": {"id"}}


def _footnote_ids_only(element: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return value if _FOOTNOTE_ID.match(value) else None
    return value


@cache
def _cleaner(footnotes: bool) -> Any:
    """nh3's sanitiser with masthead's rules, built once (building it costs as much as cleaning a body)."""
    import nh3  # loaded by the stages that sanitise, not by every command

    return nh3.Cleaner(
        tags=_ALLOWED_TAGS, attributes=_WITH_FOOTNOTE_IDS if footnotes else _ALLOWED_ATTRS,
        attribute_filter=_footnote_ids_only if footnotes else None,
        url_schemes={"http", "https", "mailto"}, link_rel="noopener", strip_comments=True,
    )


def sanitise_html(markup: str) -> str:
    """HTML safe to put in a feed or an email: no scripts, handlers or javascript: URLs."""
    cleaned: str = _cleaner(' id="fn' in markup).clean(clean_text(markup))
    return cleaned.strip()


_NOT_LEAD = re.compile(r"(?is)<(h[1-6]|figcaption|pre|table|sup)\b[^>]*>.*?</\1\s*>")


LEAD_SOURCE = 50_000    # characters of HTML enough to find the lead paragraph in


def lead_text(markup: str, text: str) -> str:
    """The text of sanitised HTML without headings, captions, code, tables and footnote marks: summary material.

    ``text`` is the whole body's text, returned as it is when there is nothing
    to leave out. Only the start of a long body is read: a summary is its first paragraph.
    """
    start = markup[:LEAD_SOURCE]
    lead = _NOT_LEAD.sub("", start)
    return text if lead == start else html_to_text(lead)


def html_to_text(markup: str) -> str:
    """Readable plain text from sanitised HTML: block elements become paragraphs."""
    text = re.sub(r"(?i)<br\s*/?>", "\n", markup)
    text = re.sub(r"(?i)</(p|div|h[1-6]|li|blockquote|tr|figure|pre)>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    paragraphs = [_SPACES.sub(" ", p).strip() for p in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


# href / src attributes of sanitised HTML (nh3 writes them double-quoted).
_LINK_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


def absolute_links(markup: str, base: str, *, fragments: bool = False) -> str:
    """Relative href and src values of sanitised HTML made absolute against ``base``.

    A bare ``#fragment`` is resolved only with ``fragments`` (when ``base`` is
    the article's own page: a footnote link in a feed then opens the page there).
    """
    def fix(match: re.Match[str]) -> str:
        value = html.unescape(match.group(2))
        try:
            if not value or (value.startswith("#") and not fragments) or urlsplit(value).scheme:
                return match.group(0)
            joined = urljoin(base, value)
        except ValueError:          # cannot be parsed ("http://[::1"): left as it is
            return match.group(0)
        return match.group(1) + html.escape(joined, quote=False).replace('"', "&quot;") + match.group(3)
    if 'href="' not in markup and 'src="' not in markup:     # a substring test is ~30x faster than the scan
        return markup
    return _LINK_ATTR.sub(fix, markup)


def relative_links(markup: str) -> list[str]:
    """The relative href and src values of sanitised HTML (fragments alone excluded), unescaped."""
    found = []
    for match in _LINK_ATTR.finditer(markup):
        value = html.unescape(match.group(2))
        try:
            if value and not value.startswith(("#", "//")) and not urlsplit(value).scheme:
                found.append(value)
        except ValueError:
            continue
    return found


def detached(text: str) -> str:
    """``text``, or a copy of it when it is not ASCII, for a serialiser to encode.

    orjson and sqlite3 leave a UTF-8 copy of every non-ASCII string they
    encode attached to it for as long as it lives: an article's title and
    summary, encoded for the kept collection or a JSON Feed, would each carry
    one for the rest of the run (a large archive's worth). A copy made for the
    document goes with it.
    """
    return text if text.isascii() else text.encode().decode()


def split_name(name: str) -> tuple[str, str]:
    """(stem, suffix) of a file's name as Path gives them ("a.b.txt" -> "a.b", ".txt"), without the Path."""
    dot = name.rfind(".")
    return (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")


def file_size(length: int) -> str:
    """A size in bytes as people read it: 24.4 MB, 310 KB ('' when unknown)."""
    if length <= 0:
        return ""
    if length >= 1_000_000:
        return f"{length / 1_000_000:.1f} MB"
    return f"{max(1, round(length / 1000))} KB"


@cache
def _text_only() -> Any:
    """nh3's sanitiser keeping no tag at all, built once (as ``_cleaner``)."""
    import nh3  # loaded by the stages that read titles, not by every command

    return nh3.Cleaner(tags=set(), strip_comments=True)


def html_title(markup: str) -> str:
    """A title written as HTML (Atom ``type="html"``, or an RSS title with markup) as plain text."""
    return html.unescape(_text_only().clean(markup))


def paragraphs_to_html(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
