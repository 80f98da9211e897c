"""Collector throughput, cold and with nothing changed, beside dateparser.search_dates on the same texts.

Run: .venv/bin/python bench/collect.py [COUNT]   (COUNT articles, 3,000 by default)

Writes COUNT plain-text articles in the seed's layout (title line, dateline
paragraph, body, publisher / photo / source trailers) into one feed of a
temporary publication, spread over 30 folders, with the date written in ten
styles: Egyptian and Levantine month names, the paired form, Arabic-Indic and
Persian digits, Maghrebi names, Hijri alone, Hijri beside Gregorian, ISO, an
English dateline, and no date at all; every other lead also has the seed's
distractor "يوم 7 مايو" (day and month, no year), and one filler paragraph of
seven mentions "رؤية 2030" (a bare year). Then prints:

- cold collect: a fresh state database, every file read, parsed, normalised;
- collect with nothing changed: the same state, a second run (no file read);
- masthead's prose date finder (dates.find_date) on every article's text, and
  how often it gives the date the generator wrote;
- dateparser.search_dates (languages ar + en, relative base fixed) on a sample
  of 200 of the same texts, timed per article and extrapolated to COUNT (it is
  too slow to run on all of them), with how often its results hold the written
  date and how often they hold a date that was never written;
- the ratio dateparser / masthead per article.
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hijridate import Gregorian

from masthead.collect import collect_publication
from masthead.collect.dates import find_date
from masthead.config import load_publication
from masthead.state.db import open_store

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2024, 1, 1, 6, tzinfo=UTC)
SAMPLE = 200
FOLDERS = 30

EGYPTIAN = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
            "أكتوبر", "نوفمبر", "ديسمبر"]
LEVANTINE = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول",
             "تشرين الأول", "تشرين الثاني", "كانون الأول"]
MAGHREBI = ["جانفي", "فيفري", "مارس", "أفريل", "ماي", "جوان", "جويلية", "أوت", "سبتمبر", "أكتوبر",
            "نوفمبر", "ديسمبر"]
HIJRI = ["محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة", "رجب", "شعبان",
         "رمضان", "شوال", "ذو القعدة", "ذو الحجة"]
ENGLISH = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
WEEKDAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

SUBJECTS = ["وزير الخارجية", "رئيس الوزراء", "المتحدث باسم الحكومة", "وزيرة الاقتصاد", "محافظ البنك المركزي",
            "رئيس البرلمان", "الأمين العام للجامعة العربية", "مدير منظمة الصحة", "وزير الزراعة", "قائد الجيش"]
TOPICS = ["التعاون الاقتصادي", "أمن الطاقة", "إصلاح منظومة الدعم", "مفاوضات السلام", "موسم الحصاد",
          "أسعار المحروقات", "التبادل التجاري", "مشاريع البنية التحتية", "السياحة الدينية", "التحول الرقمي"]
FILLER = [
    "وأوضح أن الحكومة تعمل على تنفيذ خطة شاملة تمتد على ثلاث سنوات، بالتنسيق مع الشركاء الإقليميين والدوليين.",
    "وأشار إلى أن المرحلة الأولى ستركز على تحسين الخدمات الأساسية في المناطق الريفية وتوفير فرص العمل للشباب.",
    "من جهتها، رحبت فرق المعارضة بالخطوة، لكنها طالبت بمزيد من الشفافية في إدارة الموارد وتوزيع الاعتمادات.",
    "وتأتي هذه التصريحات في وقت تشهد فيه المنطقة تحولات كبيرة، وسط توقعات بارتفاع معدلات النمو خلال العام المقبل.",
    "وكان المجلس قد عقد اجتماعاً مطولاً ناقش فيه التقارير الفصلية، وصادق على عدد من الاتفاقيات الثنائية.",
    "وقال خبراء اقتصاديون إن نجاح الخطة يتوقف على استقرار الأسعار العالمية وقدرة القطاع الخاص على الاستثمار.",
    "ولفت إلى أن رؤية 2030 تضع هذه القطاعات في صدارة الأولويات، وأن العمل جار لتحقيق أهدافها المرحلية.",
]
PUBLISHERS = ['مجموعة الرؤية الاستراتيجية "روسيا - العالم الإسلامي"', "نشرة الاقتصاد العربي", "ملف خاص"]
CREDITS = ["Photo : Creative Commons", "تصوير: وكالة الأنباء", "الصورة: أرشيف"]
SOURCES = ["المصدر: تاس", "المصدر: واس", "Source: Reuters", "المصدر: وكالة الأنباء الجزائرية"]


def dateline(style: int, day: date) -> tuple[str, date | None]:
    """One way of writing ``day`` in a sentence, and the date a reader should find in it."""
    d, m, y = day.day, day.month - 1, day.year
    weekday = WEEKDAYS[day.weekday()]
    if style == 0:
        return f"اليوم {weekday} {d} {EGYPTIAN[m]}/{LEVANTINE[m]} {y}", day
    if style == 1:
        return f"يوم {d} {EGYPTIAN[m]} {y}", day
    if style == 2:
        return f"يوم {weekday} {d} {LEVANTINE[m]} {y}", day
    if style == 3:
        return f"في {d} {EGYPTIAN[m]} {y}".translate(INDIC), day
    if style == 4:
        return f"في {d} {LEVANTINE[m]} {y}".translate(PERSIAN), day
    if style == 5:
        return f"يوم {d} {MAGHREBI[m]} {y}", day
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    written_hijri = f"{hijri.day} {HIJRI[hijri.month - 1]} {hijri.year} هـ"
    if style == 6:
        return f"في {written_hijri}".translate(INDIC), day
    if style == 7:
        return f"في {written_hijri} الموافق {d} {EGYPTIAN[m]} {y} م", day
    if style == 8:
        return f"بتاريخ {day.isoformat()}", day
    if style == 9:
        return f"(Reuters, {ENGLISH[m]} {d}, {y})", day
    return "اليوم وأمس", None


def article(n: int, rng: random.Random) -> tuple[str, date | None]:
    day = date(2015, 1, 1) + timedelta(days=rng.randrange(3000))
    line, expected = dateline(n % 11, day)
    subject, topic = rng.choice(SUBJECTS), rng.choice(TOPICS)
    title = f"{subject} يبحث {topic} في الاجتماع رقم {n}."
    # Every other lead carries the seed's distractor: a day and month with no year.
    aside = " بمناسبة ذكرى يوم 7 مايو" if n % 2 else ""
    lead = f"وصرّح {subject} بذلك {line}، خلال اجتماع عقد في العاصمة{aside}."
    body = rng.sample(FILLER, k=rng.randint(3, 6))
    trailers = [rng.choice(PUBLISHERS), rng.choice(CREDITS), rng.choice(SOURCES)][rng.randrange(3):]
    return "\n".join([title, lead, *body, *trailers]) + "\n", expected


def make_publication(root: Path, count: int) -> list[tuple[str, date | None]]:
    (root / "feeds").mkdir(parents=True)
    shutil.copy(ROOT / "feeds" / "site.toml", root / "feeds" / "site.toml")
    feed = root / "feeds" / "bench"
    feed.mkdir()
    (feed / "feed.toml").write_text('title = "قياس"\nlanguage = "ar"\nlimit = 50\n', "utf-8")
    rng = random.Random(2022)
    texts = []
    for n in range(count):
        text, expected = article(n, rng)
        folder = feed / f"{n % FOLDERS:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{n:05d}.txt").write_text(text, "utf-8")
        texts.append((text, expected))
    return texts


def timed(action):
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def collect(root: Path):
    pub = load_publication(root)
    with open_store(pub.state_dir) as store:
        return collect_publication(pub, store, NOW)


def dateparser_run(texts: list[tuple[str, date | None]]) -> tuple[float, int, int]:
    """Seconds per text, how many results held the written date, how many held an unwritten date."""
    from dateparser.search import search_dates

    settings = {"RELATIVE_BASE": NOW.replace(tzinfo=None)}
    search_dates(texts[0][0], languages=["ar", "en"], settings=settings)  # load its locales first
    right = wrong = 0
    times = []
    for text, expected in texts:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = search_dates(text, languages=["ar", "en"], settings=settings) or []
        times.append(time.perf_counter() - start)
        days = {value.date() for _, value in found}
        right += expected in days
        wrong += bool(days - {expected})
    return statistics.fmean(times), right, wrong


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pub"
        texts, made = timed(lambda: make_publication(root, count))
        print(f"{count:,} generated articles in {FOLDERS} folders ({made:.1f} s to write)")

        cold, cold_s = timed(lambda: collect(root))
        assert len(cold.articles) == count, (len(cold.articles), cold.problems[:3])
        warm, warm_s = timed(lambda: collect(root))
        assert warm.articles == cold.articles and not warm.new_ids
        print(f"cold collect:            {cold_s:6.2f} s  {count / cold_s:8,.0f} articles/s")
        print(f"nothing changed:         {warm_s:6.2f} s  {count / warm_s:8,.0f} articles/s"
              f"  ({cold_s / warm_s:.1f}x faster than cold)")

        start = time.perf_counter()
        found = [find_date(text) for text, _ in texts]
        ours = (time.perf_counter() - start) / count
        right = sum((f.day if f else None) == expected for f, (_, expected) in zip(found, texts, strict=True))
        print(f"masthead find_date:      {ours * 1e3:6.3f} ms/article on all {count:,}; "
              f"the written date (or none when none is written) in {right:,}/{count:,}")

        sample = random.Random(6).sample(texts, min(SAMPLE, count))
        theirs, their_right, their_wrong = dateparser_run(sample)
        dated = sum(1 for _, expected in sample if expected)
        print(f"dateparser search_dates: {theirs * 1e3:6.1f} ms/article on a sample of {len(sample)}, "
              f"extrapolated: {theirs * count:.0f} s for {count:,}; the written date among its results "
              f"in {their_right}/{dated}, a date never written in {their_wrong}/{len(sample)}")
        print(f"ratio dateparser / masthead per article: {theirs / ours:,.0f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
