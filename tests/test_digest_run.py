"""Digests in the real job on the sample publication: files, manifest, the .eml, golden files."""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from click.testing import CliRunner

from masthead.cli import main
from masthead.config import load_publication
from masthead.pipeline import RunReport, run

RIYADH = ZoneInfo("Asia/Riyadh")
NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
AR_ID = "ar-news/daily/2022-05-06"
SEED_URL = "https://news.example.org/ar-news/000_dc9ff0ee3f199e80.html"


def run_sample(root: Path, now: datetime = NOW) -> RunReport:
    return run(load_publication(root), now=now)


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


class TestSampleRun:
    def test_seed_digest_made(self, sample_pub: Path) -> None:
        """The run at 2022-05-07T06:00Z makes ar-news's daily digest of 6 May holding the seed article and the HTML page of that day."""
        report = run_sample(sample_pub)
        digest = next(d for d in report.digests if d.feed == "ar-news")
        assert digest.id == AR_ID
        assert SEED_URL in digest.html and SEED_URL in digest.text
        of_the_day = [a for a in report.collection.articles if a.feed == "ar-news"
                      and a.published.astimezone(RIYADH).date() == date(2022, 5, 6)]
        assert {"seed", "page"} == {"seed" if a.url == SEED_URL else "page" for a in of_the_day}
        assert {a.id for a in of_the_day} == set(digest.article_ids)

    def test_manifest_lists_digests(self, sample_pub: Path) -> None:
        """manifest.json gains 'digests' with feed, id, items, subject and files relative to the publication."""
        run_sample(sample_pub)
        manifest = json.loads((sample_pub / "output" / "manifest.json").read_text(encoding="utf-8"))
        entry = next(d for d in manifest["digests"] if d["feed"] == "ar-news")
        assert {"feed": "ar-news", "id": AR_ID, "items": 2, "subject": "نشرة أخبار العالم: الجمعة 6 مايو 2022",
                "files": {"html": f"output/digests/{AR_ID}.html", "text": f"output/digests/{AR_ID}.txt",
                          "eml": f".masthead/digests/{AR_ID}.eml"}} == entry
        for path in entry["files"].values():
            assert (sample_pub / path).is_file()

    def test_eml_structure(self, sample_pub: Path) -> None:
        """The sample .eml parses with the default policy into multipart/alternative, text then HTML."""
        run_sample(sample_pub)
        message = read_eml(sample_pub / ".masthead" / "digests" / f"{AR_ID}.eml")
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        for header in ("From", "To", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                       "List-Unsubscribe-Post", "Auto-Submitted"):
            assert message[header], header
        assert message["To"].addresses[0].addr_spec == "reader@example.com"
        assert SEED_URL in message.get_body(("html",)).get_content()
        assert max(len(line) for line in (sample_pub / ".masthead" / "digests" / f"{AR_ID}.eml")
                   .read_bytes().splitlines()) <= 998

    def test_subject_decodes_to_feed_toml_arabic(self, sample_pub: Path) -> None:
        """The .eml's Subject decodes to feed.toml's Arabic subject template, filled in."""
        run_sample(sample_pub)
        settings = tomllib.loads((sample_pub / "feeds" / "ar-news" / "feed.toml").read_text(encoding="utf-8"))
        expected = jinja2.Template(settings["digest"]["subject"]).render(
            feed={"title": settings["title"]}, period_label="الجمعة 6 مايو 2022")
        raw = (sample_pub / ".masthead" / "digests" / f"{AR_ID}.eml").read_bytes()
        assert re.search(rb"^Subject: =\?utf-8\?", raw, re.MULTILINE)
        assert expected == read_eml(sample_pub / ".masthead" / "digests" / f"{AR_ID}.eml")["Subject"]

    def test_nothing_personal_under_output(self, sample_pub: Path) -> None:
        """No address, token or placeholder of the sample reader is written under output/."""
        run_sample(sample_pub)
        for path in (sample_pub / "output").rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert b"reader@example.com" not in data and b"sample-token" not in data, path
                assert b"%%MH_" not in data, path

    def test_rerun_changes_nothing(self, sample_pub: Path) -> None:
        """Running again later the same day rewrites no digest file, the .eml included."""
        run_sample(sample_pub)
        files = {p: p.read_bytes() for p in (sample_pub / ".masthead" / "digests").rglob("*.eml")}
        report = run_sample(sample_pub, NOW.replace(hour=9))
        assert [f for f in report.changed_files if "digests" in f] == []
        assert files == {p: p.read_bytes() for p in (sample_pub / ".masthead" / "digests").rglob("*.eml")}

    def test_next_day_makes_next_digest_only_when_articles(self, sample_pub: Path) -> None:
        """The next day has no ar-news article, so no new ar-news digest is made."""
        run_sample(sample_pub)
        report = run_sample(sample_pub, datetime(2022, 5, 8, 6, tzinfo=UTC))
        assert [d.id for d in report.digests if d.feed == "ar-news"] == []


class TestGolden:
    def test_sample_digests(self, sample_pub: Path, golden) -> None:
        """The sample digests (email HTML and text, web copy and web text) match tests/golden/digests/."""
        report = run_sample(sample_pub)
        assert {AR_ID, "en-news/weekly/2022-04-25", "podcast/daily/2022-05-06"} == {d.id for d in report.digests}
        for digest in report.digests:
            golden(f"digests/{digest.id}.email.html", digest.html.encode("utf-8"))
            golden(f"digests/{digest.id}.email.txt", digest.text.encode("utf-8"))
            golden(f"digests/{digest.id}.html", (sample_pub / "output" / "digests" / f"{digest.id}.html").read_bytes())
            golden(f"digests/{digest.id}.txt", (sample_pub / "output" / "digests" / f"{digest.id}.txt").read_bytes())


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="SpamAssassin is not installed")
class TestSpamAssassin:
    def test_sample_digests_score_below_2(self, sample_pub: Path) -> None:
        """SpamAssassin (offline, -L) scores each sample digest below 2.0."""
        run_sample(sample_pub)
        for eml in sorted((sample_pub / ".masthead" / "digests").rglob("*.eml")):
            result = subprocess.run(["spamassassin", "-L", "-t"], input=eml.read_bytes(), check=False,
                                    capture_output=True, timeout=120)
            score = re.search(rb"^X-Spam-Status: \w+, score=(-?[\d.]+)", result.stdout, re.MULTILINE)
            assert score is not None, result.stderr.decode(errors="replace")
            assert float(score.group(1)) < 2.0, eml.name


class TestPreview:
    def test_writes_latest_digest_html(self, sample_pub: Path) -> None:
        """`masthead preview ar-news` writes the email HTML (sample reader filled in) and prints its path."""
        run_sample(sample_pub)
        result = CliRunner().invoke(main, ["preview", "ar-news", "--project", str(sample_pub)])
        assert result.exit_code == 0, result.output
        path = Path(result.output.strip())
        assert sample_pub / ".masthead" in path.parents
        html = path.read_text(encoding="utf-8")
        assert SEED_URL in html and "reader@example.com" in html and "%%MH_" not in html

    def test_no_digest_yet(self, sample_pub: Path) -> None:
        """Before any digest exists, preview says so and says to run the job first."""
        result = CliRunner().invoke(main, ["preview", "--project", str(sample_pub)])
        assert result.exit_code == 1
        assert "no digest has been made yet" in result.output and "masthead run" in result.output

    def test_serve_on_localhost(self, sample_pub: Path) -> None:
        """`--serve` answers on 127.0.0.1 with the digest's HTML."""
        run_sample(sample_pub)
        process = subprocess.Popen(
            [sys.executable, "-m", "masthead", "preview", "--project", str(sample_pub), "--serve", "--port", "0"],
            stdout=subprocess.PIPE, text=True, env={**os.environ})
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            url = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert url, line
            with urllib.request.urlopen(url.group(), timeout=10) as response:
                assert response.headers["Content-Type"] == "text/html; charset=utf-8"
                assert SEED_URL in response.read().decode("utf-8")
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
