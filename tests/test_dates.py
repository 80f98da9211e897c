"""masthead.collect.dates: dates people write in Arabic and English prose, and dates machines write.

A missing date is better than a wrong one: relative words, bare years and
impossible days give nothing, never today's date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hijridate import Hijri
from hypothesis import given, settings
from hypothesis import strategies as st

from masthead.collect.dates import _GREGORIAN, _HIJRI, at_noon, find_date, find_dates
from masthead.collect.machinedates import parse_machine

RIYADH = ZoneInfo("Asia/Riyadh")
MAY_6 = date(2022, 5, 6)
SEED_DATELINE = "أفادت وكالة تاس اليوم الجمعة 6 مايو/أيار 2022، بأن الاجتماع سيعقد في 7 مايو."

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DIGIT_SYSTEMS = {"western": str.maketrans("", ""), "arabic-indic": ARABIC_INDIC, "persian": PERSIAN}


def days(text: str) -> list[date]:
    return [found.day for found in find_dates(text)]


class TestMonthFamilies:
    @pytest.mark.parametrize("month, egyptian, levantine", [
        (1, "يناير", "كانون الثاني"), (2, "فبراير", "شباط"), (3, "مارس", "آذار"),
        (4, "أبريل", "نيسان"), (5, "مايو", "أيار"), (6, "يونيو", "حزيران"),
        (7, "يوليو", "تموز"), (8, "أغسطس", "آب"), (9, "سبتمبر", "أيلول"),
        (10, "أكتوبر", "تشرين الأول"), (11, "نوفمبر", "تشرين الثاني"), (12, "ديسمبر", "كانون الأول"),
    ])
    def test_both_families_give_the_same_month(self, month: int, egyptian: str, levantine: str) -> None:
        """The Egyptian/Gulf name and the Levantine/Iraqi name of a month give the same date."""
        expected = [date(2022, month, 15)]
        assert expected == days(f"أعلنت الوزارة في 15 {egyptian} 2022 عن الخطة")
        assert expected == days(f"أعلنت الوزارة في 15 {levantine} 2022 عن الخطة")

    @pytest.mark.parametrize("text", [
        "6 مايو/أيار 2022", "6 أيار/مايو 2022", "6 مايو / أيار 2022", "6 أيار (مايو) 2022",
    ])
    def test_paired_form(self, text: str) -> None:
        """A date written with both names of its month, as Arabic news agencies do, is found once."""
        assert days(f"وقال المتحدث {text} إن الاتفاق تم") == [MAY_6]

    def test_contradictory_pair_gives_no_date(self) -> None:
        """Two different months in one pair (مايو/حزيران) contradict each other: no date, not a guess."""
        assert days("وقال المتحدث 6 مايو/حزيران 2022 إن الاتفاق تم") == []

    @pytest.mark.parametrize("name, month", [
        ("جانفي", 1), ("فيفري", 2), ("أفريل", 4), ("ماي", 5), ("جوان", 6), ("جويلية", 7), ("أوت", 8),
    ])
    def test_maghrebi_names(self, name: str, month: int) -> None:
        """The French-derived month names of Algeria and Tunisia are read."""
        assert [date(2021, month, 3)] == days(f"صادق البرلمان يوم 3 {name} 2021 على القانون")

    def test_variant_spellings_and_connecting_words(self) -> None:
        """Hamza-less spellings, 'من شهر', 'عام' / 'سنة' and irregular spaces do not hide the date."""
        assert [date(2022, 4, 9)] == days("في 9 ابريل 2022")
        assert [date(2022, 6, 9)] == days("في 9 يونيه 2022")
        assert days("في 6 من شهر مايو عام 2022") == [MAY_6]
        assert days("في 6 مايو سنة 2022") == [MAY_6]
        assert [date(2022, 12, 6)] == days("في 6 كانون   الأول 2022")

    def test_marks_and_tatweel_inside_the_words(self) -> None:
        """Vowel marks, tatweel and hamza forms anywhere in the weekday and month names still give the date, quoted as written."""
        written = "الجُمُعَة ٦ مـــايو/أيّـار ٢٠٢٢"
        [found] = find_dates(f"صدر القرار يوم {written}، وفي الإسكندريّة أُعلن ذلك")
        assert (found.day, found.weekday_mismatch) == (MAY_6, False)
        assert found.text == written
        assert [date(2022, 4, 9)] == days("في ٩ إبْرِيل ٢٠٢٢") == days("في ٩ أبريل ٢٠٢٢")

    def test_seed_dateline(self) -> None:
        """The seed's dateline gives 6 May 2022; its 'اليوم' and year-less '7 مايو' give nothing."""
        [found] = find_dates(SEED_DATELINE)
        assert (found.day, found.calendar, found.weekday_mismatch) == (MAY_6, "gregorian", False)
        assert found.text == "الجمعة 6 مايو/أيار 2022"


class TestDigits:
    @pytest.mark.parametrize("system", sorted(DIGIT_SYSTEMS))
    def test_three_digit_systems(self, system: str) -> None:
        """Western, Arabic-Indic (٠-٩) and Persian (۰-۹) digits give the same date."""
        text = "عقد المؤتمر في 15 نيسان 2023".translate(DIGIT_SYSTEMS[system])
        assert [date(2023, 4, 15)] == days(text)

    def test_digits_beside_letters(self) -> None:
        """A year followed by the era letter (٢٠٢٢م) is still a year."""
        assert days("في ٦ مايو ٢٠٢٢م") == [MAY_6]

    def test_numbers_too_long_are_not_days_or_years(self) -> None:
        """116 is no day of the month and 20222 is no year."""
        assert days("رقم 116 مايو 2022") + days("في 6 مايو 20222") == []


class TestHijri:
    def test_hijri_alone(self) -> None:
        """A Hijri date alone is converted to the Gregorian day (Umm al-Qura)."""
        [found] = find_dates("صدر البيان في 5 شوال 1443 هـ")
        assert (found.day, found.calendar) == (MAY_6, "hijri")
        assert found.text == "5 شوال 1443 هـ"

    @pytest.mark.parametrize("suffix", ["هـ", "ه", "للهجرة", "هجرية", "هجري"])
    def test_hijri_era_words(self, suffix: str) -> None:
        """Every usual way of marking the Hijri era is read."""
        assert [date(2022, 7, 30)] == days(f"في 1 محرم 1444 {suffix} بدأ العام")

    def test_hijri_beside_gregorian_prefers_the_civil_date(self) -> None:
        """With both calendars written, both are found and the Gregorian one is the article's date."""
        text = "في 4 شوال 1443 هـ الموافق 6 مايو 2022 م"
        assert [f.calendar for f in find_dates(text)] == ["hijri", "gregorian"]
        assert find_date(text).day == MAY_6

    def test_hijri_needs_its_era_mark(self) -> None:
        """Without هـ a Hijri month name and year are not taken for a date."""
        assert days("في 5 شوال 1443 بدأ") == []

    def test_gregorian_month_with_hijri_mark_is_no_date(self) -> None:
        """'6 مايو 2022 هـ' mixes calendars: no date."""
        assert days("في 6 مايو 2022 هـ") == []

    def test_impossible_hijri_day_is_ignored(self) -> None:
        """A Hijri day the calendar lacks (31 رمضان) gives nothing."""
        assert days("في 31 رمضان 1443 هـ") == []


class TestWeekday:
    def test_matching_weekday(self) -> None:
        """A weekday that agrees with the date is part of what was found, with no mismatch."""
        [found] = find_dates("الأحد 15 أيار 2022")
        assert (date(2022, 5, 15), False) == (found.day, found.weekday_mismatch)

    @pytest.mark.parametrize("text", ["الخميس 6 مايو 2022", "Thursday 6 May 2022",
                                      "Thursday, May 6, 2022"])
    def test_weekday_mismatch_is_flagged(self, text: str) -> None:
        """6 May 2022 was a Friday: 'Thursday' beside it is flagged, and the date still given."""
        [found] = find_dates(text)
        assert (found.day, found.weekday_mismatch) == (MAY_6, True)


class TestNeverADate:
    @pytest.mark.parametrize("text", [
        "اليوم", "أمس", "غدا", "today", "yesterday", "اليوم الجمعة", "أمس الخميس",
        "رؤية 2030", "في عام 2022", "مايو 2022", "7 مايو", "May 2022", "الساعة 10:30",
        "قتل 15 شخصا في 2022", "20220506",
    ])
    def test_relative_words_and_bare_years(self, text: str) -> None:
        """Relative words, bare years, a month without a day or a day without a year give no date."""
        assert find_dates(text) == []
        assert find_date(text) is None

    @pytest.mark.parametrize("text", ["31 شباط 2023", "30 فبراير 2024", "31 نيسان 2022",
                                      "0 مايو 2022", "2023-02-29", "2022-13-01", "29 February 2023"])
    def test_impossible_dates_are_ignored(self, text: str) -> None:
        """A day the month does not have is ignored, not moved to a neighbouring day."""
        assert find_dates(text) == []

    def test_impossible_date_does_not_hide_a_real_one(self) -> None:
        """After an impossible date, the next real date is still found."""
        assert days("بين 31 شباط 2023 و6 مايو 2022") == [MAY_6]


class TestIsoAndEnglish:
    @pytest.mark.parametrize("text", [
        "Published 2022-05-06 by the desk", "May 6, 2022", "May 6 2022", "6 May 2022",
        "Friday, May 6, 2022", "May 6th, 2022", "6 may 2022", "MAY 6, 2022",
    ])
    def test_english_and_iso(self, text: str) -> None:
        """ISO dates and English day-month / month-day dates are found."""
        assert days(text) == [MAY_6]

    def test_iso_calendar(self) -> None:
        """An ISO date says it is one."""
        assert [f.calendar for f in find_dates("نشر في 2022-05-06")] == ["iso"]

    def test_dates_in_order_of_appearance(self) -> None:
        """Several dates come back in the order they are written, and find_date takes the first."""
        text = "من 15 نيسان 2023 حتى 2023-04-20 ثم May 1, 2023"
        assert [date(2023, 4, 15), date(2023, 4, 20), date(2023, 5, 1)] == days(text)
        assert date(2023, 4, 15) == find_date(text).day


class TestWrittenAnyWay:
    @settings(max_examples=300, deadline=None)
    @given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
           data=st.data(),
           system=st.sampled_from(sorted(DIGIT_SYSTEMS)),
           padded=st.booleans(),
           before=st.sampled_from(["", "في ", "وقال المتحدث يوم ", "أعلنت الوزارة، "]),
           after=st.sampled_from(["", " إن", "، وأضاف", "."]))
    def test_day_month_year_is_found_exactly(self, day: date, data: st.DataObject, system: str,
                                             padded: bool, before: str, after: str) -> None:
        """Any valid date as 'D <month> YYYY', with any spelling of its month and any digits, is found exactly."""
        name = data.draw(st.sampled_from(_GREGORIAN[day.month]), label="month name")
        digits = (f"{day.day:02d}" if padded else str(day.day)).translate(DIGIT_SYSTEMS[system])
        year = f"{day.year}".translate(DIGIT_SYSTEMS[system])
        text = f"{before}{digits} {name} {year}{after}"
        assert [day] == days(text), text

    @settings(max_examples=100, deadline=None)
    @given(year=st.integers(1400, 1490), month=st.integers(1, 12), hday=st.integers(1, 30),
           data=st.data(), system=st.sampled_from(sorted(DIGIT_SYSTEMS)))
    def test_hijri_date_converts_exactly(self, year: int, month: int, hday: int,
                                         data: st.DataObject, system: str) -> None:
        """Any Hijri date the Umm al-Qura calendar has, with any month spelling and digits, gives its Gregorian day."""
        try:
            expected = Hijri(year, month, hday).to_gregorian()
        except ValueError:
            return  # a 30th the month lacks: covered by test_impossible_hijri_day_is_ignored
        name = data.draw(st.sampled_from(_HIJRI[month]), label="month name")
        text = f"في {hday} {name} {year} هـ".translate(DIGIT_SYSTEMS[system])
        assert [date(expected.year, expected.month, expected.day)] == days(text), text


class TestParseMachine:
    @pytest.mark.parametrize("value, expected, precision", [
        ("2022-05-06", datetime(2022, 5, 6, 12, tzinfo=RIYADH), "day"),
        ("٢٠٢٢-٠٥-٠٦", datetime(2022, 5, 6, 12, tzinfo=RIYADH), "day"),
        (date(2022, 5, 6), datetime(2022, 5, 6, 12, tzinfo=RIYADH), "day"),
        ("6 May 2022", datetime(2022, 5, 6, 12, tzinfo=RIYADH), "day"),
        ("2022-05-06T09:30:00+03:00", datetime(2022, 5, 6, 6, 30, tzinfo=UTC), "minute"),
        ("2022-05-06T09:30:15Z", datetime(2022, 5, 6, 9, 30, 15, tzinfo=UTC), "second"),
        ("2022-05-06 09:30", datetime(2022, 5, 6, 9, 30, tzinfo=RIYADH), "minute"),
        (datetime(2022, 5, 6, 9, 30), datetime(2022, 5, 6, 9, 30, tzinfo=RIYADH), "minute"),
        ("Fri, 06 May 2022 10:00:00 +0300", datetime(2022, 5, 6, 7, tzinfo=UTC), "minute"),
        ("Fri, 06 May 2022 10:00:00 GMT", datetime(2022, 5, 6, 10, tzinfo=UTC), "minute"),
        ("Fri, 06 May 2022 10:00:00 EDT", datetime(2022, 5, 6, 14, tzinfo=UTC), "minute"),
        ("Fri, 06 May 2022 10:00:00 PST", datetime(2022, 5, 6, 18, tzinfo=UTC), "minute"),
        (1651820400, datetime(2022, 5, 6, 7, tzinfo=UTC), "second"),
    ])
    def test_machine_dates(self, value: object, expected: datetime, precision: str) -> None:
        """ISO 8601, RFC 822 (with its zone names), YAML dates and Unix seconds give the right instant."""
        parsed, got_precision = parse_machine(value, RIYADH)
        assert (expected, precision) == (parsed, got_precision)
        assert parsed.utcoffset() is not None

    @pytest.mark.parametrize("value", [
        "رؤية 2030", 2022, "May 2022", "6 May", "10:00", "not a date", "", "   ", None, True,
        "2022-02-30", "2022-13-45", "2022-05-06T09:30:00+99:00", "Fri, 06 May 2022 10:00:00 XST",
        "Fri, 06 May 2022 10:00:00 A", 1651820400000, float("nan"), float("inf"), 10**30,
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", ["2022-05-06"], "2022-13", "031331",
    ])
    def test_not_a_full_date(self, value: object) -> None:
        """Prose, parts of dates, unknown zones, impossible or out-of-range values give None: never today's date, never an error."""
        assert parse_machine(value, RIYADH) is None

    @pytest.mark.parametrize("value, expected", [
        ("Wed, 31 Dec 2003 10:00:00 GMT+0800", "2003-12-31T02:00:00Z"),
        ("Wed, 31 Dec 2003 10:00:00 GMT+8", "2003-12-31T02:00:00Z"),
        ("2003-12-31T10:00:00 UTC+03:00", "2003-12-31T07:00:00Z"),
        ("Wed, 31 Dec 2003 10:00:00 GMT-05:00", "2003-12-31T15:00:00Z"),
        ("Wed, 31 Dec 2003 10:00:00 +0200 (CEST)", "2003-12-31T08:00:00Z"),
    ])
    def test_offsets_written_after_gmt_point_east(self, value: str, expected: str) -> None:
        """GMT+8 and UTC+03:00 mean east of Greenwich, as people write them (dateutil alone reads them backwards)."""
        assert expected == parse_machine(value, RIYADH)[0].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @pytest.mark.parametrize("zone, winter, summer", [
        ("CET", 1, 1), ("CEST", 2, 2), ("MET", 1, 1), ("MEST", 2, 2), ("BST", 1, 1), ("EET", 2, 2),
        ("MSK", 3, 3), ("JST", 9, 9), ("KST", 9, 9), ("AEST", 10, 10), ("AEDT", 11, 11), ("ACST", 9.5, 9.5),
        ("AWST", 8, 8), ("NZST", 12, 12), ("GST", 4, 4), ("ET", -5, -4), ("CT", -6, -5), ("MT", -7, -6),
        ("PT", -8, -7), ("EST", -5, -5), ("PDT", -7, -7), ("Etc/GMT", 0, 0), ("Europe/Berlin", 1, 2),
        ("UT", 0, 0), ("IST", 5.5, 5.5),
    ])
    def test_zone_names(self, zone: str, winter: float, summer: float) -> None:
        """Zone abbreviations and IANA names give their offset; ET/CT/MT/PT and IANA zones follow daylight saving."""
        for day, hours in (("15 Jan 2022", winter), ("15 Jul 2022", summer)):
            parsed, _ = parse_machine(f"Sat, {day} 10:00:00 {zone}", RIYADH)
            assert timedelta(hours=hours) == parsed.utcoffset(), (zone, day)

    @pytest.mark.parametrize("zone, language, hours", [
        ("AST", "ar", 3), ("AST", "ar-SA", 3), ("AST", "en", -4), ("AST", "", -4),
        ("IST", "he", 2), ("IST", "ga", 1), ("IST", "en-IE", 1), ("IST", "en-IN", 5.5), ("IST", "hi", 5.5),
    ])
    def test_ambiguous_abbreviation_follows_the_language(self, zone: str, language: str, hours: float) -> None:
        """AST is Arabia's time in Arabic and Atlantic time otherwise; IST is Israel's, Ireland's or India's."""
        parsed, _ = parse_machine(f"Fri, 06 May 2022 10:00:00 {zone}", RIYADH, language)
        assert timedelta(hours=hours) == parsed.utcoffset()

    @pytest.mark.parametrize("value, expected, precision", [
        ("Κυρ, 11 Ιούλ 2004 12:00:00 EST", "2004-07-11T17:00:00Z", "minute"),
        ("2004-július-13T9:15-05:00", "2004-07-13T14:15:00Z", "minute"),
        ("2004-05-25 오후 11:23:17", "2004-05-25T14:23:17Z", "second"),
        ("2004년 05월 28일  01:31:15", "2004-05-27T16:31:15Z", "second"),
        ("mer, 16 nov 2022 00:38:15 +0100", "2022-11-15T23:38:15Z", "second"),
        ("Seg, 24 Set 2018 19:18:49 -0300", "2018-09-24T22:18:49Z", "second"),
        ("Di, 15 Mär 2022 10:00:00 +0100", "2022-03-15T09:00:00Z", "minute"),
        ("22.11.2022 12:16:00 +0100", "2022-11-22T11:16:00Z", "minute"),
        ("Sun, 20 Apr 2014 8:19 pm CEST", "2014-04-20T18:19:00Z", "minute"),
    ])
    def test_dates_in_other_languages(self, value: str, expected: str, precision: str) -> None:
        """Greek, Hungarian, Korean, Italian, Portuguese and German month and weekday names, and day-first dots, read right."""
        parsed, got = parse_machine(value, RIYADH)
        assert (expected, precision) == (parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), got)

    @pytest.mark.parametrize("value, day, precision", [
        ("2003-12", date(2003, 12, 1), "month"), ("2003", date(2003, 1, 1), "year"),
        ("031231", date(2003, 12, 31), "day"), ("20031231", date(2003, 12, 31), "day"),
    ])
    def test_partial_and_compact_dates(self, value: str, day: date, precision: str) -> None:
        """W3C-DTF months and years keep their precision; ISO 8601's compact YYMMDD and YYYYMMDD are days."""
        parsed, got = parse_machine(value, RIYADH)
        assert (day, 12, precision) == (parsed.date(), parsed.hour, got)

    def test_no_part_comes_from_the_clock(self) -> None:
        """What a value lacks is never filled from today: the same value gives the same answer every day."""
        assert parse_machine("2022-05-06T09:30", RIYADH) == parse_machine("2022-05-06T09:30", RIYADH)
        assert parse_machine("May 6", RIYADH) is None


class TestAtNoon:
    @pytest.mark.parametrize("zone", ["Asia/Riyadh", "Pacific/Pago_Pago", "Pacific/Kiritimati",
                                      "America/Los_Angeles", "UTC"])
    def test_day_precision_at_noon_in_the_zone(self, zone: str) -> None:
        """A day-only date is noon in the publication's zone, aware, and the same calendar day there."""
        placed = at_noon(MAY_6, ZoneInfo(zone))
        assert (MAY_6, 12, ZoneInfo(zone)) == (placed.date(), placed.hour, placed.tzinfo)

    def test_seed_is_noon_riyadh(self) -> None:
        """The seed's day is 2022-05-06T12:00+03:00, as the feeds publish it."""
        placed = at_noon(MAY_6, RIYADH)
        assert placed.isoformat() == "2022-05-06T12:00:00+03:00"
        assert timedelta(hours=3) == placed.utcoffset()
