"""Subscribers and unsubscribe tokens: checked, normalised, suppressed, unforgeable."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from masthead.cli import main
from masthead.errors import ConfigError, InputError
from masthead.state.roster import active_emails, set_status
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.csvimport import import_csv
from masthead.subscribers.roster import add_subscriber, list_subscribers, normalise_address, remove_subscriber
from masthead.tokens import load_secret, make_token, unsubscribe_url, verify_token

NOW = datetime(2022, 5, 8, 6, 0, tzinfo=UTC)


def write_csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "readers.csv"
    path.write_bytes(text.encode(encoding))
    return path


class TestAddresses:
    def test_addresses_are_stored_normalised(self) -> None:
        """Spaces trimmed and case folded, so one person is one row."""
        assert normalise_address("  Reader@Example.COM ") == "reader@example.com"

    @pytest.mark.parametrize("raw", ["reader", "reader@", "@example.com", "a b@example.com", "x@localhost"])
    def test_malformed_addresses_are_refused(self, raw) -> None:
        """Anything email-validator rejects is an InputError naming the address."""
        with pytest.raises(InputError, match="not a usable email address"):
            normalise_address(raw)


class TestSubscribers:
    def test_add_follows_every_digest_feed_by_default(self, pub, store) -> None:
        """Without --feed a subscriber follows each feed that has a digest (not the aggregate)."""
        s = add_subscriber(store, pub, "Reader@Example.com", name=" سارة ", now=NOW)
        assert (
            s.email, s.name, s.feeds, s.status) == ("reader@example.com", "سارة", ("ar-news", "en-news", "podcast"), "active")

    def test_adding_again_adds_feeds(self, pub, store) -> None:
        """A second add keeps the feeds already followed and adds the new one."""
        add_subscriber(store, pub, "r@example.com", feeds=["ar-news"], now=NOW)
        s = add_subscriber(store, pub, "r@example.com", feeds=["en-news"], now=NOW)
        assert s.feeds == ("ar-news", "en-news")

    def test_unknown_or_digestless_feeds_are_refused(self, pub, store) -> None:
        """An unknown feed is a ConfigError listing the feeds; a feed without digest an InputError."""
        with pytest.raises(ConfigError, match="no feed named 'sport'"):
            add_subscriber(store, pub, "r@example.com", feeds=["sport"], now=NOW)
        with pytest.raises(InputError, match="sends no digest"):
            add_subscriber(store, pub, "r@example.com", feeds=["all"], now=NOW)
        assert list(list_subscribers(store)) == []

    def test_name_with_a_line_break_is_refused(self, pub, store) -> None:
        """A name goes into the To header, so a line break in it is refused."""
        with pytest.raises(InputError, match="line break"):
            add_subscriber(store, pub, "r@example.com", name="Eve\r\nBcc: all@example.com", now=NOW)

    def test_unsubscribed_stays_suppressed_unless_resubscribed(self, pub, store) -> None:
        """After remove, add refuses the address; --resubscribe brings it back on purpose."""
        add_subscriber(store, pub, "r@example.com", now=NOW)
        assert remove_subscriber(store, "R@example.com", now=NOW)
        with pytest.raises(InputError, match="suppressed"):
            add_subscriber(store, pub, "r@example.com", now=NOW)
        assert add_subscriber(store, pub, "r@example.com", now=NOW, resubscribe=True).status == "active"

    def test_forget_erases_the_address(self, pub, store) -> None:
        """remove --forget deletes the subscriber and their feeds."""
        add_subscriber(store, pub, "r@example.com", now=NOW)
        remove_subscriber(store, "r@example.com", now=NOW, forget=True)
        assert (get_subscriber(store, "r@example.com"), list(active_emails(store, "ar-news"))) == (None, [])

    def test_only_active_subscribers_of_a_feed_are_addressed(self, pub, store) -> None:
        """Bounced and unsubscribed addresses, and followers of other feeds, get nothing."""
        for email, feed in [("a@example.com", "ar-news"), ("b@example.com", "ar-news"),
                            ("c@example.com", "en-news"), ("d@example.com", "ar-news")]:
            add_subscriber(store, pub, email, feeds=[feed], now=NOW)
        set_status(store, "b@example.com", "bounced", now=NOW)
        set_status(store, "d@example.com", "unsubscribed", now=NOW)
        assert list(active_emails(store, "ar-news")) == ["a@example.com"]


class TestImport:
    def test_import_reports_each_skipped_row_and_why(self, pub, store, tmp_path) -> None:
        """Malformed, duplicate, unknown-feed and suppressed rows are skipped with a reason."""
        add_subscriber(store, pub, "gone@example.com", now=NOW)
        set_status(store, "gone@example.com", "unsubscribed", now=NOW)
        csv_file = write_csv(tmp_path, "\ufeffEmail,Name,Feeds\n"
                                       "one@example.com,واحد,ar-news en-news\n"
                                       "not-an-address,,\n"
                                       "ONE@example.com,,\n"
                                       "two@example.com,,sport\n"
                                       "gone@example.com,,\n"
                                       "\n"
                                       "three@example.com,,\n")
        report = import_csv(store, pub, csv_file, now=NOW)
        reasons = {row.line: row.reason.split(":")[0] for row in report.skipped}
        assert (report.added, report.updated) == (2, 0)
        assert reasons == {3: "'not-an-address' is not a usable email address", 4: "duplicate",
                5: "no feed named 'sport'; the feeds are", 6: "suppressed"}
        assert get_subscriber(store, "gone@example.com").status == "unsubscribed"
        assert get_subscriber(store, "one@example.com").feeds == ("ar-news", "en-news")

    def test_a_large_file_finds_every_repeated_address_and_only_those(self, pub, store, tmp_path) -> None:
        """5,000 addresses, each twice, the second time 5,000 rows later: every repeat (and no first
        row) is a duplicate, however many addresses came between."""
        rows = [f"reader{n}@example.com" for n in range(5000)]
        report = import_csv(store, pub, write_csv(tmp_path, "email\n" + "\n".join(rows + rows) + "\n"), now=NOW)
        assert (report.added, report.updated, report.unchanged) == (5000, 0, 0)
        assert [row.line for row in report.skipped] == list(range(5002, 10002))
        assert {row.reason.split(":")[0] for row in report.skipped} == {"duplicate"}

    def test_headerless_csv_is_email_name_feeds(self, pub, store, tmp_path) -> None:
        """Without a header row the columns are email, name, feeds."""
        report = import_csv(store, pub, write_csv(tmp_path, "a@example.com,Ali,en-news\n"), now=NOW)
        assert report.added == 1
        assert (get_subscriber(store, "a@example.com").name,
                                         get_subscriber(store, "a@example.com").feeds) == ("Ali", ("en-news",))

    def test_wrong_encoding_names_the_line(self, pub, store, tmp_path) -> None:
        """A Windows-1256 CSV is refused with its first bad line and how to re-save it."""
        csv_file = write_csv(tmp_path, "email,name\na@example.com,Ali\nb@example.com,علي\n", "cp1256")
        with pytest.raises(InputError, match="not UTF-8") as info:
            import_csv(store, pub, csv_file, now=NOW)
        assert info.value.where.endswith("readers.csv:3") and "UTF-8" in info.value.hint
        assert list(list_subscribers(store)) == []


class TestTokens:
    def test_token_names_its_address_only(self) -> None:
        """A token verifies to the address it was made for."""
        assert verify_token(b"k" * 32, make_token(b"k" * 32, "r@example.com")) == "r@example.com"

    def test_token_cannot_be_moved_to_another_address(self) -> None:
        """Swapping the address part keeps the signature but breaks verification."""
        token = make_token(b"k" * 32, "r@example.com")
        other = make_token(b"k" * 32, "x@example.com").split(".")[0] + "." + token.split(".")[1]
        assert None is verify_token(b"k" * 32, other)

    def test_token_from_another_secret_is_refused(self) -> None:
        """A token signed with a different key (another publication) does not verify."""
        assert None is verify_token(b"k" * 32, make_token(b"j" * 32, "r@example.com"))

    @pytest.mark.parametrize("token", ["", ".", "abc", "a.b.c", "!!!.???", "x" * 2000])
    def test_garbage_is_refused_quietly(self, token) -> None:
        """Damaged tokens verify to None rather than raising."""
        assert None is verify_token(b"k" * 32, token)

    def test_secret_file_is_made_once_owner_only(self, tmp_path) -> None:
        """Without MASTHEAD_SECRET the key is generated once into a 0600 file and reused."""
        first = load_secret(tmp_path)
        assert first == load_secret(tmp_path)
        assert stat.S_IMODE(os.stat(tmp_path / "secret").st_mode) == 0o600

    def test_environment_secret_wins(self, tmp_path) -> None:
        """MASTHEAD_SECRET is used as the key, and no file is written."""
        assert load_secret(tmp_path, "s" * 40) == b"s" * 40
        assert not (tmp_path / "secret").exists()

    def test_url_carries_the_token(self) -> None:
        """The unsubscribe URL is the site's endpoint with ?token=."""
        assert unsubscribe_url(
            "https://news.example.org/unsubscribe", "abc.def") == "https://news.example.org/unsubscribe?token=abc.def"


class TestCommands:
    def test_add_list_import_remove(self, pub, tmp_path) -> None:
        """The subscribers commands work together, and report skipped import rows."""
        runner = CliRunner()
        root = str(pub.root)
        added = runner.invoke(main, ["subscribers", "add", "--project", root, "r@example.com",
                                     "--name", "سارة", "--feed", "ar-news"])
        imported = runner.invoke(main, ["subscribers", "import", "--project", root,
                                        str(write_csv(tmp_path, "email\nbad\nb@example.com\n"))])
        listed = runner.invoke(main, ["subscribers", "list", "--project", root, "--json"])
        removed = runner.invoke(main, ["subscribers", "remove", "--project", root, "r@example.com"])
        bad = runner.invoke(main, ["subscribers", "add", "--project", root, "nope"])
        assert [r.exit_code for r in (added, imported, listed, removed, bad)] == [0, 0, 0, 0, 1]
        assert "line 2: bad:" in imported.output
        assert [s["email"] for s in __import__("json").loads(listed.stdout)] == ["b@example.com", "r@example.com"]
        assert "Error:" in bad.output and "Traceback" not in bad.output
