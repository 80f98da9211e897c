"""Each sample article under tests/samples/collect/ comes out as its expected record says.

A sample is one quirk; ``<sample>.expected.json`` beside it says what it tests
("description") and the fields it must have. They are read the way a user
meets them: through `masthead inspect`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from masthead.cli import main

from .conftest import SAMPLES, SEED

CASES = sorted(p for p in (SAMPLES / "collect").iterdir() if not p.name.endswith(".expected.json"))


def inspect(path: Path, project: Path) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(main, ["inspect", "--project", str(project), str(path)])
    return result.exit_code, [json.loads(line) for line in result.output.splitlines()]


@pytest.mark.parametrize("sample", CASES, ids=lambda p: p.name)
def test_sample_gives_expected_record(sample: Path, sample_pub: Path) -> None:
    """The record has every field the sample's expected file names, with that value."""
    expected = json.loads((sample.parent / f"{sample.stem}.expected.json").read_text("utf-8"))
    description = expected.pop("description")
    code, records = inspect(sample, sample_pub)
    assert code == 0, description
    assert len(records) == 1, description
    actual = {key: records[0][key] for key in expected}
    assert expected == actual, description


class TestSeed:
    def test_seed_record(self, sample_pub: Path) -> None:
        """The user's seed article gives its faithful record: title, day-precision date, ar/rtl, source, credit, publisher."""
        code, [record] = inspect(SEED, sample_pub)
        lines = SEED.read_text("utf-8").splitlines()
        assert code == 0
        assert lines[0].removesuffix(".") == record["title"]
        assert record["published"].startswith("2022-05-06")
        assert (record["language"], record["direction"]) == ("ar", "rtl")
        assert (record["source"], record["photo_credit"]) == ("تاس", "Creative Commons")
        assert lines[10] == record["publisher"]
        assert lines[1] == record["summary"]
        assert record["problems"] == []

    def test_seed_body_keeps_lead_and_drops_trailers(self, sample_pub: Path) -> None:
        """The body holds lines 1-10 as paragraphs and none of the trailer lines."""
        result = CliRunner().invoke(main, ["inspect", "--body", "--project", str(sample_pub), str(SEED)])
        record = json.loads(result.output)
        lines = SEED.read_text("utf-8").splitlines()
        assert lines[:10] == record["body_text"].split("\n\n")
        assert "تاس" not in record["body_html"].split("</p>")[-2]
        assert "Photo" not in record["body_html"]


def test_inspect_reports_path_without_article(tmp_path: Path, sample_pub: Path) -> None:
    """A path that gives no article still prints an object naming it, and the exit code is 1."""
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, records = inspect(empty, sample_pub)
    assert code == 1
    assert str(empty) == records[0]["origin"]
    assert "empty" in records[0]["problems"][0]
