"""Cost per recipient of personalised digest messages: inline once vs premailer per recipient.

Run: .venv/bin/python bench/digest.py [--recipients 10000] [--sample 40] [--articles 20]

A: render + inline the digest ONCE (templates + premailer), then for each of
   the N recipients fill in the placeholders and build + serialise the MIME
   message (mail.build_message + bytes). Timed over all N recipients.
B: for each recipient, render the templates with that reader's values, inline
   with premailer, then build + serialise the message. Premailer per recipient
   is slow, so B is timed on a SAMPLE of recipients and extrapolated to N
   (the printout says so).

The digest is the sample publication's Arabic feed with constructed articles
(long Arabic summaries, a photo each), about the size of a real daily digest.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.factories import article

from masthead.config import load_publication
from masthead.digest.edition import (
    latest_period,
    prepare_edition,
    render_digest,
    render_edition,
)
from masthead.digest.render import make_environment
from masthead.records import Article, Image, Recipient
from masthead.send.message import EMAIL, NAME, UNSUBSCRIBE_URL, build_message, personalise

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
RIYADH = ZoneInfo("Asia/Riyadh")
PARAGRAPH = ("وصرّح الرئيس بذلك اليوم الجمعة خلال اجتماع مهيب بمناسبة يوم المدافع عن الوطن، "
             "مشيراً إلى أن التعاون الدولي أولوية مهمة، وفق ما نقلت وكالة Reuters. ")


def articles(count: int) -> list[Article]:
    start = datetime(2022, 5, 6, 0, 30, tzinfo=RIYADH)
    return [article(
        n, id=f"urn:bench:{n}", title=f"عنوان الخبر رقم {n} عن التعاون الدولي في المجال التقني",
        url=f"https://news.example.org/ar-news/bench-{n}.html", published=start + timedelta(minutes=40 * n),
        summary=PARAGRAPH * 3, body_html="", body_text="", source="تاس", photo_credit="Creative Commons",
        image=Image(url=f"https://news.example.org/media/{n}.jpg", alt="صورة الخبر", width=1200, height=800),
        origin=f"feeds/ar-news/bench-{n}.txt",
    ) for n in range(count)]


def reader(i: int) -> Recipient:
    return Recipient(email=f"reader{i}@example.com", name=f"قارئ رقم {i}",
                     unsubscribe_url=f"https://news.example.org/unsubscribe?token=cmVhZGVy{i:06d}.c2lnbmF0dXJlLXNpZ25hdHVyZQ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=40, help="recipients timed for premailer-per-recipient")
    parser.add_argument("--articles", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pub"
        shutil.copytree(ROOT / "feeds", root / "feeds")
        shutil.copytree(ROOT / "templates", root / "templates")
        pub = load_publication(root)
        feed = pub.feed("ar-news")
        env = make_environment(pub)
        period = latest_period("daily", 0, pub.site.timezone, NOW)
        chosen = articles(args.articles)

        t0 = time.perf_counter()
        digest, _ = render_digest(pub, env, feed, period, chosen)
        once = time.perf_counter() - t0
        sizes = len(bytes(build_message(pub, digest, reader(0), date=NOW)))

        t0 = time.perf_counter()
        for i in range(args.recipients):
            r = reader(i)
            values = {NAME: f" {r.name}", EMAIL: r.email, UNSUBSCRIBE_URL: r.unsubscribe_url}
            personalise(digest.html, values, html_context=True)
            personalise(digest.text, values, html_context=False)
        substitute = (time.perf_counter() - t0) / args.recipients

        t0 = time.perf_counter()
        for i in range(args.recipients):
            bytes(build_message(pub, digest, reader(i), date=NOW))
        personalise_total = time.perf_counter() - t0
        per_a = personalise_total / args.recipients

        edition, _ = prepare_edition(pub, env, feed, period, chosen)
        timings = []
        for i in range(args.sample):
            t0 = time.perf_counter()
            r = reader(i)
            html, text = render_edition(pub, env, edition, digest.shown,
                                        {"name": f" {r.name}", "email": r.email, "unsubscribe_url": r.unsubscribe_url})
            bytes(build_message(pub, digest.__class__(**{**{f: getattr(digest, f) for f in digest.__slots__},
                                                          "html": html, "text": text}), r, date=NOW))
            timings.append(time.perf_counter() - t0)
        per_b = statistics.median(timings)

    n = args.recipients
    print(f"digest: {args.articles} articles, {digest.shown} shown; HTML {len(digest.html) / 1024:.1f} KiB; "
          f"message {sizes / 1024:.1f} KiB")
    print(f"A  render + inline once:              {once * 1000:8.1f} ms (includes the web copy and size check)")
    print(f"A  placeholder substitution only, per recipient: {substitute * 1000:8.3f} ms")
    print(f"A  personalise + build, per recipient: {per_a * 1000:8.3f} ms  ({n} recipients measured: "
          f"{personalise_total:.2f} s)")
    print(f"A  total for {n}:                    {once + personalise_total:8.2f} s")
    print(f"B  render + premailer + build, per recipient: {per_b * 1000:8.2f} ms  "
          f"(median of {args.sample} measured, extrapolated to {n}: {per_b * n:.1f} s)")
    print(f"ratio B / A per recipient: {per_b / per_a:.1f}x (whole message built each way); "
          f"premailer-per-recipient vs substitution alone: {per_b / substitute:.0f}x; "
          f"whole list of {n}: {per_b * n / (once + personalise_total):.1f}x")


if __name__ == "__main__":
    main()
