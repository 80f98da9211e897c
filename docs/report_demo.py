"""Make the delivery report of a demo publication (the picture in the README: docs/report.png).

    .venv/bin/python docs/report_demo.py /tmp/demo
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1500 \\
        --screenshot=docs/report.png file:///tmp/demo/.masthead/report.html

A copy of the sample publication gets 600 made-up subscribers and twelve
issues of each digest sent to them over three months, with bounces,
complaints and unsubscribes drawn from a fixed seed: the same picture every time.
"""

from __future__ import annotations

import random
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from masthead.cli import main
from masthead.config import load_publication
from masthead.state import feedback, roster, sends
from masthead.state.db import open_store
from masthead.subscribers.roster import add_subscriber

ROOT = Path(__file__).resolve().parent.parent


def build(target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "feeds", target / "feeds")
    pub = load_publication(target)
    rng = random.Random(14)
    start = datetime(2026, 2, 2, 6, 0, tzinfo=UTC)
    with open_store(pub.state_dir) as store:
        people = [f"reader{i:04d}@example.{rng.choice(['com', 'net', 'org'])}" for i in range(600)]
        for i, email in enumerate(people):
            feeds = ["ar-news", "en-news"] if i % 3 == 0 else (["ar-news"] if i % 3 == 1 else ["en-news"])
            add_subscriber(store, pub, email, feeds=feeds, now=start - timedelta(days=30))
        joined = iter(f"new{i:04d}@example.com" for i in range(1000))
        for week in range(12):
            for feed, day in (("ar-news", 0), ("en-news", 2)):
                when = start + timedelta(weeks=week, days=day)
                for _ in range(rng.randint(4, 14) if feed == "ar-news" else rng.randint(2, 8)):
                    add_subscriber(store, pub, next(joined), feeds=[feed], now=when - timedelta(hours=5))
                digest = f"{feed}/weekly/{(when - timedelta(days=7)).date().isoformat()}"
                emails = list(roster.active_emails(store, feed))
                sends.plan(store, digest, emails, "{}", now=when)
                with store.transaction():
                    sends.update(store, [("sent", "250 ok", when, True, digest, e) for e in emails])
                for email in rng.sample(emails, rng.randint(0, 5)):
                    kind = rng.choice(["hard", "hard", "soft"])
                    with store.transaction():
                        feedback.record_event(store, feedback.MailEvent(
                            f"demo:{digest}:{email}", email, digest, kind, "5.1.1" if kind == "hard" else "4.2.2",
                            "demo", "maildir", when + timedelta(hours=1)))
                        if kind == "hard":
                            roster.set_status(store, email, "bounced", now=when + timedelta(hours=1),
                                              reason="demo")
                for email in rng.sample(emails, rng.choice([0, 0, 0, 1, 1, 2])):
                    with store.transaction():
                        feedback.record_event(store, feedback.MailEvent(
                            f"demo-c:{digest}:{email}", email, digest, "complaint", None, "demo", "ses",
                            when + timedelta(hours=3)))
                        roster.set_status(store, email, "complained", now=when + timedelta(hours=3), reason="demo")
                for email in rng.sample(emails, rng.randint(0, 6)):
                    roster.leave_feed(store, email, feed, now=when + timedelta(hours=8))
    result = CliRunner().invoke(main, ["report", "--project", str(target), "--now", "2026-04-27T08:00:00Z"])
    return Path(result.stdout.strip())


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/masthead-report-demo")))
