"""The scheduled job as cron meets it: exit codes, the lock, init, check, reruns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from masthead.cli import main

NOW = "2022-05-07T06:00:00Z"


def masthead(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command the way cron would: a separate process, no terminal."""
    return subprocess.run([sys.executable, "-m", "masthead", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MASTHEAD_SMTP_URL": ""})


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


class TestConfigurationErrors:
    @pytest.mark.parametrize(("file", "content", "named"), [
        ("feeds/site.toml", 'title = "x"\nbase_url = \n', "feeds/site.toml"),
        ("feeds/site.toml", 'title = "x"\nbase_url = "https://e.org/"\ncolour = "red"\n', "colour"),
        ("feeds/site.toml", 'title = "x"\nbase_url = "https://e.org/"\nttl = "often"\n', "ttl"),
        ("feeds/site.toml", 'title = "x"\n', "base_url"),
        ("feeds/site.toml", 'title = "x"\nbase_url = "ftp://e.org/"\n', "base_url"),
        ("feeds/site.toml", 'title = "x"\nbase_url = "https://e.org/"\ntimezone = "Mars/Base"\n', "timezone"),
        ("feeds/ar-news/feed.toml", 'title = "x"\n[digest]\ncadence = "hourly"\n', "digest.cadence"),
        ("feeds/all/feed.toml", 'title = "x"\ninclude = ["nope"]\n', "nope"),
    ])
    def test_exit_2_naming_file_and_key(self, sample_pub: Path, file: str, content: str, named: str) -> None:
        """A bad setting exits 2 with one message naming the file and the key, no traceback."""
        (sample_pub / file).write_text(content, encoding="utf-8")
        result = masthead("run", "--project", str(sample_pub), "--now", NOW)
        assert result.returncode == 2
        assert file in result.stderr and named in result.stderr
        assert "Traceback" not in result.stderr

    def test_template_syntax_error(self, sample_pub: Path) -> None:
        """`masthead check` names the template file and line of a syntax error and exits 2."""
        bad = sample_pub / "templates" / "broken.html"
        bad.parent.mkdir(exist_ok=True)
        bad.write_text("<p>\n{% if x %}\n", encoding="utf-8")
        result = masthead("check", "--project", str(sample_pub))
        assert result.returncode == 2
        assert "templates/broken.html:" in result.stderr
        assert "Traceback" not in result.stderr

    def test_missing_template(self, sample_pub: Path) -> None:
        """A template that extends one that does not exist: run and check exit 2 naming both."""
        (sample_pub / "templates" / "digest.html").write_text('{% extends "nothere.html" %}\n', "utf-8")
        for args in (["run", "--now", NOW], ["check"]):
            result = masthead(*args, "--project", str(sample_pub))
            assert result.returncode == 2, args
            assert "nothere.html" in result.stderr and "templates/" in result.stderr
            assert "Traceback" not in result.stderr

    def test_not_a_publication(self, tmp_path: Path) -> None:
        """Running outside a publication says how to start one, exit 2."""
        result = masthead("run", cwd=tmp_path)
        assert result.returncode == 2
        assert "masthead init" in result.stderr


class TestLock:
    def test_second_run_exits_3_while_first_holds_lock(self, sample_pub: Path) -> None:
        """While one run holds the lock, another exits 3 with a clear message; --wait waits."""
        from datetime import datetime, timezone

        from masthead.state.lock import publication_lock
        with publication_lock(sample_pub / ".masthead", datetime.now(timezone.utc)):
            blocked = masthead("run", "--project", str(sample_pub), "--now", NOW)
        assert blocked.returncode == 3
        assert "another masthead run holds the lock" in blocked.stderr
        after = masthead("run", "--project", str(sample_pub), "--now", NOW, "--wait", "5")
        assert after.returncode == 0, after.stderr

    def test_lock_of_killed_run_is_recovered(self, sample_pub: Path) -> None:
        """A run killed with SIGKILL while holding the lock does not block the next one."""
        state = sample_pub / ".masthead"
        with subprocess.Popen([sys.executable, "-c", (
                "import sys, time; from datetime import datetime, timezone; from pathlib import Path;"
                "from masthead.state.lock import publication_lock;"
                f"cm = publication_lock(Path({str(state)!r}), datetime.now(timezone.utc)); cm.__enter__();"
                "print('held', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True) as holder:
            assert holder.stdout.readline().strip() == "held"
            holder.kill()
            holder.wait()
        result = masthead("run", "--project", str(sample_pub), "--now", NOW)
        assert result.returncode == 0, result.stderr


class TestRerun:
    def test_nothing_changed_touches_no_file(self, sample_pub: Path) -> None:
        """A second run with the same input and --now leaves every output file as it was."""
        assert masthead("run", "--project", str(sample_pub), "--now", NOW).returncode == 0
        before = snapshot(sample_pub / "output")
        second = masthead("run", "--project", str(sample_pub), "--now", NOW)
        assert second.returncode == 0
        assert before == snapshot(sample_pub / "output")
        assert "nothing changed on disk" in second.stderr

    def test_quiet_prints_nothing_when_all_is_well(self, sample_pub: Path) -> None:
        """--quiet keeps cron's mail empty on a good run."""
        result = masthead("run", "--quiet", "--project", str(sample_pub), "--now", NOW)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    def test_strict_fails_on_article_problem(self, sample_pub: Path) -> None:
        """One bad article: exit 0 normally, 1 with --strict; the good ones are published."""
        (sample_pub / "feeds" / "ar-news" / "broken.json").write_text("[1, 2", encoding="utf-8")
        normal = masthead("run", "--project", str(sample_pub), "--now", NOW)
        assert normal.returncode == 0
        assert "feeds/ar-news/broken.json" in normal.stderr
        assert (sample_pub / "output" / "ar-news" / "rss.xml").exists()
        assert masthead("run", "--strict", "--project", str(sample_pub), "--now", NOW).returncode == 1


def test_init_then_run(tmp_path: Path) -> None:
    """`masthead init mypub && masthead run --project mypub` builds a feed at once."""
    assert masthead("init", "mypub", cwd=tmp_path).returncode == 0
    result = masthead("run", "--project", "mypub", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mypub" / "output" / "news" / "atom.xml").exists()
    assert ".masthead/" in (tmp_path / "mypub" / ".gitignore").read_text()
    assert masthead("check", "--project", "mypub", cwd=tmp_path).returncode == 0


def test_every_command_has_help_with_example() -> None:
    """Every command answers --help, and its help gives an example."""
    runner = CliRunner()
    for name, command in main.commands.items():
        subcommands = getattr(command, "commands", {"": command})
        for sub in subcommands:
            args = [name, sub, "--help"] if sub else [name, "--help"]
            result = runner.invoke(main, args)
            assert result.exit_code == 0, args
            assert "Example:" in result.output, f"masthead {' '.join(args[:-1])} has no example"


class TestIncremental:
    def test_one_edit_rewrites_only_what_shows_it(self, sample_pub: Path) -> None:
        """Editing one article rewrites its page and the feeds holding it, no other article page."""
        assert masthead("run", "--project", str(sample_pub), "--now", NOW).returncode == 0
        article = sample_pub / "feeds" / "en-news" / "solar-record.md"
        article.write_text(article.read_text("utf-8").replace("a record", "a new record"), "utf-8")
        result = masthead("run", "--json", "--project", str(sample_pub), "--now", NOW)
        import json
        written = json.loads(result.stdout)["files_changed"]
        pages = [p for p in written if p.endswith(".html") and "/index.html" not in p
                 and not p.startswith("output/digests/") and p != "output/index.html"]
        assert pages == ["output/en-news/solar-record.html"]
        assert "output/en-news/atom.xml" in written
        assert "output/ar-news/atom.xml" not in written

    def test_missing_page_is_rebuilt(self, sample_pub: Path) -> None:
        """A page deleted from output/ comes back on the next run, even with nothing else changed."""
        assert masthead("run", "--project", str(sample_pub), "--now", NOW).returncode == 0
        page = sample_pub / "output" / "ar-news" / "000_dc9ff0ee3f199e80.html"
        before = page.read_bytes()
        page.unlink()
        assert masthead("run", "--project", str(sample_pub), "--now", NOW).returncode == 0
        assert before == page.read_bytes()
        (sample_pub / "output" / "ar-news" / "rss.xml").unlink()
        assert masthead("run", "--project", str(sample_pub), "--now", NOW).returncode == 0
        assert (sample_pub / "output" / "ar-news" / "rss.xml").exists()

    def test_deleted_article_leaves_the_site(self, sample_pub: Path) -> None:
        """Deleting an article file removes its page from output/ and its entry from the feeds."""
        assert masthead("run", "--project", str(sample_pub), "--now", NOW).returncode == 0
        page = sample_pub / "output" / "en-news" / "solar-record.html"
        assert page.exists()
        (sample_pub / "feeds" / "en-news" / "solar-record.md").unlink()
        assert masthead("run", "--project", str(sample_pub), "--now", NOW).returncode == 0
        assert not page.exists()
        assert "Solar output" not in (sample_pub / "output" / "en-news" / "atom.xml").read_text("utf-8")
        assert (sample_pub / "output" / "en-news" / "2022-04-28-port-strike.html").exists()
