"""The library gives the same steps as the CLI, for people embedding the job."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import masthead


def test_stage_by_stage_equals_run(sample_pub: Path, tmp_path: Path) -> None:
    """collect -> feeds by hand gives the same feed bytes as `run` writes."""
    now = datetime(2022, 5, 7, 6, tzinfo=timezone.utc)
    pub = masthead.load_publication(sample_pub)
    report = masthead.run(pub, now=now)
    with masthead.open_store(tmp_path / "state") as store:
        collection = masthead.collect_publication(pub, store, now)
    feeds = masthead.build_feeds(pub, collection.articles, now)
    by_hand = {path: content for feed in feeds for path, content in feed.contents.items()}
    assert by_hand["output/ar-news/atom.xml"] == (sample_pub / "output/ar-news/atom.xml").read_bytes()
    assert [f.name for f in report.feeds] == [f.name for f in feeds]
    manifest = json.loads((sample_pub / "output" / "manifest.json").read_text("utf-8"))
    assert [d["id"] for d in manifest["digests"]] == ["ar-news/daily/2022-05-06", "en-news/weekly/2022-04-25",
                                                            "podcast/daily/2022-05-06"]
