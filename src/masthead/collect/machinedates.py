"""Dates written by machines: front matter, JSON records, JSON-LD and upstream feeds.

``parse_machine`` reads ISO 8601 / W3C-DTF (partial dates too: ``2003-12`` is
month precision, ``2003`` year precision), RFC 822 and the ways real feeds
bend it: month and weekday names in other languages (French, German, Spanish,
Italian, Portuguese, Dutch, Greek, Hungarian), Korean, Chinese and Japanese
year-month-day marks, ``GMT+8`` / ``UTC+03:00`` offsets (read as people mean
them, east of Greenwich), every zone name of RFC 822, of feedparser and of the
IANA database, and the common unambiguous abbreviations of European, Asian,
African and Australian zones. ``ET``/``CT``/``MT``/``PT`` follow their region's
daylight saving time. A zone name it does not know makes the date unreadable:
a missing date is better than a wrong one.

Ambiguous abbreviations are settled by the item's language: ``AST`` is Arabia
(+03:00) in Arabic and Atlantic (-04:00, as feedparser reads it) otherwise;
``IST`` is Israel in Hebrew, Ireland in Irish, India otherwise.

python-dateutil does the final reading, never fuzzy: nothing is guessed from
prose and no part of a date is taken from today.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import parser as dateutil_parser

from ..records import Precision
from .dates import DIGITS, at_noon

# Zone names and the offset they stand for (minutes east of UTC), or the IANA zone
# whose local time they name (daylight saving included).
_OFFSETS: dict[str, int | str] = {
    # RFC 822
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    # feedparser's further names
    "ADT": -180, "AT": "America/Halifax", "ET": "America/New_York", "CT": "America/Chicago",
    "MT": "America/Denver", "PT": "America/Los_Angeles", "MET": 60, "MEST": 120,
    # the Americas
    "AKST": -540, "AKDT": -480, "HST": -600, "HDT": -540, "NST": -210, "NDT": -150,
    # Europe
    "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120, "MEZ": 60, "MESZ": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "MSD": 240, "TRT": 180,
    # Africa
    "WAT": 60, "CAT": 120, "EAT": 180, "SAST": 120,
    # Asia
    "GST": 240, "IRST": 210, "IRDT": 270, "AFT": 270, "PKT": 300, "NPT": 345, "ICT": 420,
    "WIB": 420, "WITA": 480, "WIT": 540, "HKT": 480, "SGT": 480, "MYT": 480, "PHT": 480,
    "JST": 540, "KST": 540,
    # Australia and New Zealand
    "AWST": 480, "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
}
# Abbreviations two regions share: the item's primary language decides; "" is everyone else.
_AMBIGUOUS: dict[str, dict[str, int]] = {
    "AST": {"ar": 180, "": -240},
    "IST": {"he": 120, "ga": 60, "en-IE": 60, "": 330},
}

_MONTHS: dict[int, tuple[str, ...]] = {  # folded (lower case, no accents), any of the languages above
    1: ("january", "jan", "janvier", "janv", "januar", "janner", "enero", "ene", "gennaio", "gen",
        "janeiro", "januari", "ιαν", "ιανουαριου", "ιανουαριος"),
    2: ("february", "feb", "fevrier", "fevr", "fev", "februar", "febrero", "febbraio", "fevereiro",
        "februari", "febr", "φεβ", "φεβρουαριου", "φεβρουαριος"),
    3: ("march", "mar", "mars", "marz", "marzo", "marco", "maart", "mrt", "marcius", "marc", "μαρ",
        "μαρτιου", "μαρτιος", "μαω"),
    4: ("april", "apr", "avril", "avr", "abril", "abr", "aprile", "aprilis", "απρ", "απριλιου",
        "απριλιος"),
    5: ("may", "mai", "mayo", "maggio", "mag", "maio", "mei", "majus", "maj", "μαι", "μαιου", "μαιος"),
    6: ("june", "jun", "juin", "juni", "junio", "giugno", "giu", "junho", "junius", "ιουν", "ιουνιου",
        "ιουνιος"),
    7: ("july", "jul", "juillet", "juil", "juli", "julio", "luglio", "lug", "julho", "julius", "ιουλ",
        "ιουλιου", "ιουλιος"),
    8: ("august", "aug", "aout", "agosto", "ago", "augustus", "augusztus", "αυγ", "αυγουστου",
        "αυγουστος"),
    9: ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "set", "settembre",
        "setembro", "szeptember", "szept", "σεπ", "σεπτεμβριου", "σεπτεμβριος"),
    10: ("october", "oct", "octobre", "oktober", "okt", "octubre", "ottobre", "ott", "outubro", "out",
         "oktober", "οκτ", "οκτωβριου", "οκτωβριος"),
    11: ("november", "nov", "novembre", "noviembre", "novembro", "νοε", "νοεμβριου", "νοεμβριος"),
    12: ("december", "dec", "decembre", "dezember", "dez", "diciembre", "dic", "dicembre", "dezembro",
         "δεκ", "δεκεμβριου", "δεκεμβριος"),
}
_MONTH_OF = {name: number for number, names in _MONTHS.items() for name in names}
_ENGLISH = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# A weekday (any language) with its comma at the start: "Wed, ", "mer, ", "Seg, ", "Κυρ, ".
_LEADING_WEEKDAY = re.compile(r"^[^\W\d_]{2,12}\.?,\s*")
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)", re.IGNORECASE)
_COMMENT = re.compile(r"\s*\([^()]*\)\s*$")       # "+0200 (CEST)": the offset says it already
_OFFSET_AT_END = re.compile(r"(?:[+-]\d{2}:?\d{2}|[+-]\d{2}|Z)$")
_WORD = re.compile(r"[^\W\d_]+(?:/[\w+-]+)*\.?")
_CJK_DAY = re.compile(r"(\d{4})\s*[년年]\s*(\d{1,2})\s*[월月]\s*(\d{1,2})\s*[일日]")
_KOREAN_CLOCK = re.compile(r"(오전|오후)\s*(\d{1,2}:\d{1,2}(?::\d{1,2})?)")
_DOTTED_DAY = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}\b")
_KEEP = {"t", "z", "am", "pm", "a.m", "p.m", "at", "on", "of", "and", "th", "st", "nd", "rd",
         "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "monday", "tuesday",
         "wednesday", "thursday", "friday", "saturday", "sunday"}

# dateutil fills what a string leaves out from a default: parsing with two
# different defaults shows what was really written.
_DEFAULTS = (datetime(2000, 1, 1, 0, 0, 0), datetime(2001, 2, 2, 1, 1, 1))
_EPOCH_SECONDS = (10**8, 10**10)   # 1973 .. 2286: a number outside is no Unix time (2022 is a year)
_YEARS = (1000, 9998)              # outside, converting to UTC or another zone can overflow


def parse_machine(value: object, zone: tzinfo, language: str = "") -> tuple[datetime, Precision] | None:
    """A date written by a machine as an aware datetime and how precise it is; None when it is not one.

    Times with no zone are taken in ``zone``; a date without a time is day
    precision, at noon there (a month or a year: the first day, at noon).
    ``language`` (the item's) settles ambiguous zone abbreviations.
    """
    if isinstance(value, datetime):
        dt = value
        precision: Precision = "second" if dt.second or dt.microsecond else "minute"
    elif isinstance(value, date):
        dt, precision = at_noon(value, zone), "day"
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not _EPOCH_SECONDS[0] <= value <= _EPOCH_SECONDS[1]:
            return None
        dt, precision = datetime.fromtimestamp(value, tz=UTC), "second"
    elif isinstance(value, str) and value.strip():
        read = _read_text(" ".join(value.translate(DIGITS).split()), zone, language)
        if read is None:
            return None
        dt, precision = read
    else:
        return None
    try:
        if dt.tzinfo is None or dt.utcoffset() is None:
            dt = dt.replace(tzinfo=zone)
        dt.astimezone(UTC)
    except (ValueError, OverflowError):  # an offset of 24 hours or more, or out of range
        return None
    if not _YEARS[0] <= dt.year <= _YEARS[1]:
        return None
    return dt, precision


def _read_text(text: str, zone: tzinfo, language: str) -> tuple[datetime, Precision] | None:
    if _COMPACT.fullmatch(text):
        return _compact(text, zone)
    quick = _common(text)
    if quick is not None:
        return quick, "second" if quick.second or quick.microsecond else "minute"
    plain, named = _words(_cjk(_GMT_OFFSET.sub(_offset, text)), language)
    if plain is None:
        return None
    dayfirst = bool(_DOTTED_DAY.match(plain))     # 22.11.2022 is European: day first
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", dateutil_parser.UnknownTimezoneWarning)
            early, late = (dateutil_parser.parse(plain, default=d, dayfirst=dayfirst) for d in _DEFAULTS)
    except (ValueError, OverflowError, dateutil_parser.UnknownTimezoneWarning):
        return None
    if early.date() != late.date():
        return None  # day, month or year missing
    if early.hour != late.hour:
        return at_noon(early.date(), zone), "day"
    dt = early
    if dt.tzinfo is not None:  # dateutil's tzlocal() depends on the machine: keep the offset only
        try:
            dt = dt.replace(tzinfo=timezone(dt.utcoffset() or timedelta(0)))
        except ValueError:     # an offset of 24 hours or more
            return None
    elif named is not None:
        dt = dt.replace(tzinfo=named)
    return dt, "second" if dt.second or dt.microsecond else "minute"


_COMPACT = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}|\d{6}|\d{4}-\d{2}|\d{4}|\d{4}-?\d{3}|\d{4}-?W\d{2}-?\d")


def _compact(text: str, zone: tzinfo) -> tuple[datetime, Precision] | None:
    """W3C-DTF partial dates and ISO 8601's compact, ordinal and week forms, which dateutil would misread."""
    if "W" in text:                                # 2004-W09-1: Monday of ISO week 9
        try:
            return at_noon(date.fromisoformat(text), zone), "day"
        except ValueError:
            return None
    if re.fullmatch(r"\d{4}-?\d{3}", text) and not re.fullmatch(r"\d{6}", text):   # 2004-059: the 59th day
        year, ordinal = int(text[:4]), int(text[-3:])
        first = _day(year, 1, 1)
        if first is None or not 1 <= ordinal <= (366 if _day(year, 2, 29) else 365):
            return None
        return at_noon(first + timedelta(days=ordinal - 1), zone), "day"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = _day(int(text[:4]), int(text[5:7]), int(text[8:]))
        return (at_noon(day, zone), "day") if day else None
    if re.fullmatch(r"\d{8}", text):               # 20031231
        day = _day(int(text[:4]), int(text[4:6]), int(text[6:]))
        return (at_noon(day, zone), "day") if day else None
    if re.fullmatch(r"\d{6}", text):               # 031231: ISO 8601's YYMMDD, as feedparser reads it
        year = int(text[:2])
        day = _day(year + (2000 if year < 69 else 1900), int(text[2:4]), int(text[4:]))
        return (at_noon(day, zone), "day") if day else None
    if re.fullmatch(r"\d{4}-\d{2}", text):         # W3C-DTF: a month
        day = _day(int(text[:4]), int(text[5:]), 1)
        return (at_noon(day, zone), "month") if day else None
    day = _day(int(text), 1, 1)                    # W3C-DTF: a year
    return (at_noon(day, zone), "year") if day else None


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_RFC822_TIME = re.compile(
    r"(?:[A-Za-z]{3}, )?\d{1,2} [A-Za-z]{3} \d{4} \d{1,2}:\d{2}(:\d{2})? (?:[+-]\d{4}|GMT|UTC?|Z)")


def _common(text: str) -> datetime | None:
    """The two forms nearly every feed writes (ISO 8601, RFC 822 with an offset), read without dateutil."""
    try:
        if _ISO_TIME.fullmatch(text):
            return datetime.fromisoformat(text)
        if _RFC822_TIME.fullmatch(text) and text[-6:-4] != "  ":
            moment = parsedate_to_datetime(text)
            return moment if moment.tzinfo is not None else None
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return None


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _offset(match: re.Match[str]) -> str:
    """GMT+8, GMT+0800, UTC+03:00 -> +08:00: east of Greenwich, as people write it (not POSIX)."""
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def _cjk(text: str) -> str:
    """Korean, Chinese and Japanese year/month/day marks and Korean AM/PM, in ISO order."""
    korean = "년" in text or "오전" in text or "오후" in text
    text = _CJK_DAY.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", text)
    text = _KOREAN_CLOCK.sub(lambda m: f"{m[2]} {'AM' if m[1] == '오전' else 'PM'}", text)
    if korean and not _OFFSET_AT_END.search(text):
        text += " +09:00"                          # Korean sites write Korea's time, as feedparser assumes
    return text


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower().rstrip("."))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str, language: str) -> tuple[str | None, tzinfo | None]:
    """Month names in English, the weekday dropped, a zone name taken out as a tzinfo.

    Returns (None, None) when a word is a zone name that cannot be read.
    """
    text = _COMMENT.sub("", text) if _OFFSET_AT_END.search(_COMMENT.sub("", text)) else text
    text = _LEADING_WEEKDAY.sub("", text)
    named: list[tzinfo] = []
    unknown = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unknown
        word = match.group()
        folded = _fold(word)
        if folded in _KEEP or folded.removesuffix(".") in _KEEP:
            return word
        if folded in _MONTH_OF:
            return _ENGLISH[_MONTH_OF[folded]]
        found = zone_named(word.rstrip("."), language)
        if found is not None:
            named.append(found)
            return " "
        if word[:1].isupper() and word.isalpha() and len(word) <= 5 and word.isupper():
            unknown = True                         # looks like a zone abbreviation no one defined
        return word

    text = _WORD.sub(replace, text).replace("( )", " ")
    if unknown or len(named) > 1:
        return None, None
    return " ".join(text.split()), (named[0] if named else None)


def zone_named(name: str, language: str = "") -> tzinfo | None:
    """The zone a name stands for: an abbreviation masthead knows, or an IANA name; None otherwise."""
    upper = name.upper()
    if upper in _AMBIGUOUS:
        choices = _AMBIGUOUS[upper]
        minutes = choices.get(language) or choices.get(language.split("-")[0].lower()) or choices[""]
        return timezone(timedelta(minutes=minutes), upper)
    known = _OFFSETS.get(upper)
    if isinstance(known, int):
        return timezone(timedelta(minutes=known), upper) if known else UTC
    if isinstance(known, str):
        return ZoneInfo(known)
    return _iana(name)


@cache
def _iana(name: str) -> tzinfo | None:
    if "/" not in name and name not in _iana_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())
