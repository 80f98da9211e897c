"""Find the date an article gives in its prose, in Arabic or English.

Dates in news text are written for people: ``اليوم الجمعة 6 مايو/أيار 2022``,
``١٥ نيسان ٢٠٢٣``, ``5 شوال 1443 هـ``. This module knows both Arabic month
families (and the Maghrebi spellings), the paired form ``مايو/أيار``, Western,
Arabic-Indic and Persian digits, and Hijri dates (converted with ``hijridate``,
Umm al-Qura). Relative words (اليوم, أمس, today) and bare years never make a
date: a missing date is better than a wrong one.

Machine-written dates (front matter, JSON, feeds) go through
``machinedates.parse_machine`` (python-dateutil, never fuzzy).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from hijridate import Hijri

DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

# Folding for matching only: alef forms, alef maqsura, taa marbuta, tashkeel, tatweel.
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None,
                       **{chr(c): None for c in range(0x064B, 0x0653)}, "ٰ": None})


# (character, what it folds to): no replacement is itself replaced, so their order does not matter.
_REPLACEMENTS = tuple((chr(c), "" if v is None else v if isinstance(v, str) else chr(v))
                      for c, v in {**DIGITS, **_FOLD}.items())


def fold(text: str) -> str:
    """Digits to ASCII, Arabic letter variants to one form, marks removed.

    One ``str.replace`` per character the text holds: ``str.translate`` with a
    table looks every character up, seven times slower on Arabic text.
    """
    for char, replacement in _REPLACEMENTS:
        if char in text:
            text = text.replace(char, replacement)
    return text


# Characters fold() removes; every other character folds to exactly one.
_DROPPED = re.compile("[" + "".join(chr(c) for c, v in _FOLD.items() if v is None) + "]")


def _fold_with_map(text: str) -> tuple[str, Callable[[int], int]]:
    """``fold(text)``, and a function giving the index in ``text`` of a folded index.

    Only dropped characters shift indices, so the map is a sorted list of where
    they fell in the folded text, searched when a match is reported (a loop over
    every character cost more than all the matching).
    """
    shifts = [m.start() - k for k, m in enumerate(_DROPPED.finditer(text))]
    return fold(text), lambda index: index + bisect_right(shifts, index)


_GREGORIAN = {
    1: ["يناير", "كانون الثاني", "جانفي", "January", "Jan"],
    2: ["فبراير", "شباط", "فيفري", "February", "Feb"],
    3: ["مارس", "آذار", "March", "Mar"],
    4: ["أبريل", "إبريل", "ابريل", "نيسان", "أفريل", "April", "Apr"],
    5: ["مايو", "أيار", "ماي", "May"],
    6: ["يونيو", "يونيه", "حزيران", "جوان", "June", "Jun"],
    7: ["يوليو", "يوليه", "تموز", "جويلية", "July", "Jul"],
    8: ["أغسطس", "آب", "أوت", "August", "Aug"],
    9: ["سبتمبر", "أيلول", "September", "Sep", "Sept"],
    10: ["أكتوبر", "تشرين الأول", "October", "Oct"],
    11: ["نوفمبر", "تشرين الثاني", "November", "Nov"],
    12: ["ديسمبر", "كانون الأول", "December", "Dec"],
}
_HIJRI = {
    1: ["محرم"], 2: ["صفر"],
    3: ["ربيع الأول", "ربيع الاول"], 4: ["ربيع الآخر", "ربيع الثاني", "ربيع الاخر"],
    5: ["جمادى الأولى", "جمادى الاولى", "جمادى الأول"],
    6: ["جمادى الآخرة", "جمادى الثانية", "جمادى الآخر", "جمادى الثاني"],
    7: ["رجب"], 8: ["شعبان"], 9: ["رمضان"], 10: ["شوال"],
    11: ["ذو القعدة", "ذي القعدة"], 12: ["ذو الحجة", "ذي الحجة"],
}
_WEEKDAYS = {
    0: ["الاثنين", "الإثنين", "Monday"], 1: ["الثلاثاء", "Tuesday"], 2: ["الأربعاء", "Wednesday"],
    3: ["الخميس", "Thursday"], 4: ["الجمعة", "Friday"], 5: ["السبت", "Saturday"],
    6: ["الأحد", "Sunday"],
}


def _lookup(table: dict[int, list[str]]) -> dict[str, int]:
    return {fold(name).casefold(): number for number, names in table.items() for name in names}


_GREG_NAMES = _lookup(_GREGORIAN)
_HIJRI_NAMES = _lookup(_HIJRI)
_WEEKDAY_NAMES = _lookup(_WEEKDAYS)


def _alternation(names: dict[str, int]) -> str:
    # Longest first, so "كانون الثاني" wins over a shorter prefix; spaces may vary.
    ordered = sorted(names, key=len, reverse=True)
    return "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in ordered)


_MONTH = _alternation(_GREG_NAMES)
_HMONTH = _alternation(_HIJRI_NAMES)
_WEEKDAY = _alternation(_WEEKDAY_NAMES)
# The patterns match folded text (see fold): their Arabic words are folded too.
# Word edges that also work for Arabic letters with re.ASCII: no letter (any script) beside.
_L = r"(?<![^\W\d_])"
_R = r"(?![^\W\d_])"
_FLAGS = re.IGNORECASE

# Gregorian dates are found from their day number: the day-first form reads on
# from it (month names, year), the month-first form looks back for its month;
# both look back for a weekday. Scanning every position for a month name cost
# most of the time, and every date has a day.
_DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
_DAY_FIRST = re.compile(
    rf"(?P<d>\d{{1,2}})\s*(?:من\s+)?(?:شهر\s+)?"
    rf"{_L}(?P<m>{_MONTH}){_R}(?:\s*[/(]\s*(?P<m2>{_MONTH}){_R}\s*\)?)?"
    rf"[\s,،]*(?:عام\s+|{fold('سنة')}\s+)?(?P<y>\d{{4}})(?!\d)(?!\s*(?:هـ|ه{_R}))",
    _FLAGS,
)
_MONTH_FIRST = re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?(?!\d)\s*,?\s*(?P<y>\d{4})(?!\d)", _FLAGS)
_MONTH_BEFORE = re.compile(rf"{_L}(?P<m>{_MONTH}){_R}\.?\s+$", _FLAGS)
_WEEKDAY_BEFORE = re.compile(rf"{_L}(?P<wd>{_WEEKDAY}){_R}[\s,،]+$", _FLAGS)
_LOOK_BACK = 40     # characters before a day that may hold its month name and weekday
_HIJRI_DATE = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}})(?!\d)\s*(?:من\s+)?{_L}(?P<m>{_HMONTH}){_R}"
    rf"[\s,،]*(?P<y>\d{{4}})(?!\d)\s*(?:{fold('للهجرة')}|{fold('هجرية')}|هجري|ه{_R})",
    _FLAGS,
)
_ISO = re.compile(r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])")


@dataclass(frozen=True, slots=True)
class FoundDate:
    day: date
    text: str               # the words that gave it, as written
    calendar: str           # "gregorian", "hijri" or "iso"
    weekday_mismatch: bool  # a weekday was written beside it and does not agree


def _make(y: str, m: int, d: str) -> date | None:
    try:
        return date(int(y), m, int(d))
    except ValueError:
        return None


# Every date has digits: the patterns run only on windows of text around digit runs,
# wide enough for a weekday, a day, one or two month names and a year on either side.
_DIGIT_RUN = re.compile("[0-9\u0660-\u0669\u06f0-\u06f9]+")
_REACH = 80


def _windows(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` around its digit runs, merged where they touch, in order."""
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        start, end = max(0, run.start() - _REACH), run.end() + _REACH
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _dates_in(text: str, offset: int, hijri: bool) -> list[tuple[int, FoundDate]]:
    """(position in the whole text, date) of the dates in one window, Hijri ones only if asked."""
    folded, where = _fold_with_map(text)

    def written(m: re.Match[str]) -> str:
        return text[where(m.start()):where(m.end())]  # with marks and tatweel folded away at its end

    found: list[tuple[int, FoundDate]] = []
    for d in _DAY.finditer(folded):
        start = d.start()
        m = _DAY_FIRST.match(folded, start)
        month_name = m["m"] if m else None
        if m is None and (m := _MONTH_FIRST.match(folded, start)) is not None:
            before = _MONTH_BEFORE.search(folded, max(0, start - _LOOK_BACK), start)
            if before is None:
                continue
            month_name, start = before["m"], before.start()
        if m is None or month_name is None:
            continue
        month = _GREG_NAMES[_squash(month_name)]
        if m.groupdict().get("m2") and _GREG_NAMES[_squash(m["m2"])] != month:
            continue  # "مايو/حزيران" contradicts itself: trust neither
        day = _make(m["y"], month, m["d"])
        if day is None:
            continue
        weekday = _WEEKDAY_BEFORE.search(folded, max(0, start - _LOOK_BACK), start)
        if weekday is not None:
            start = weekday.start()
        mismatch = weekday is not None and _WEEKDAY_NAMES[_squash(weekday["wd"])] != day.weekday()
        found.append((offset + where(start), FoundDate(day, text[where(start):where(m.end())], "gregorian", mismatch)))
    if hijri:
        for m in _HIJRI_DATE.finditer(folded):
            try:
                day = Hijri(int(m["y"]), _HIJRI_NAMES[_squash(m["m"])], int(m["d"])).to_gregorian()
            except (ValueError, OverflowError):
                continue
            found.append((offset + where(m.start()), FoundDate(date(day.year, day.month, day.day),
                                                               written(m), "hijri", False)))
    for m in _ISO.finditer(folded):
        day = _make(m["y"], int(m["m"]), m["d"])
        if day:
            found.append((offset + where(m.start()), FoundDate(day, written(m), "iso", False)))
    return found


def find_dates(text: str) -> list[FoundDate]:
    """Every full date (day, month, year) written in ``text``, in order of appearance."""
    found = [pair for start, end in _windows(text) for pair in _dates_in(text[start:end], start, hijri=True)]
    found.sort(key=lambda pair: pair[0])
    return [f for _, f in found]


def _squash(name: str) -> str:
    return " ".join(name.split()).casefold()


def find_date(text: str) -> FoundDate | None:
    """The article's date: the first Gregorian (or ISO) date its text gives.

    A Hijri date is used only when no Gregorian one is written: where both
    stand together ("5 شوال 1443 هـ الموافق 5 مايو 2022") the civil date is the
    one the newsroom vouches for, while a Hijri day can differ by local sighting.
    Windows are read in order, so the first one holding a civil date ends the search.
    """
    windows = _windows(text)
    for start, end in windows:
        civil = sorted(_dates_in(text[start:end], start, hijri=False), key=lambda pair: pair[0])
        if civil:
            return civil[0][1]
    for start, end in windows:
        found = sorted(_dates_in(text[start:end], start, hijri=True), key=lambda pair: pair[0])
        if found:
            return found[0][1]
    return None


def at_noon(day: date, zone: tzinfo) -> datetime:
    """A day-precision date placed at noon in the publication's time zone.

    Noon keeps the calendar day the same in UTC for every zone from -11 to +11,
    so a reader that shows UTC still shows the day the text gave.
    """
    return datetime.combine(day, time(12, 0), tzinfo=zone)
