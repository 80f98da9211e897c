"""Where a digest's files go, and writing them.

Public, under ``output/digests/<feed>/<cadence>/<day>``: the web copy (the
"view in browser" target) and the text version, neither naming any reader.
Private, under the state folder: a ready-to-send sample ``.eml`` addressed to
a placeholder reader, for people to open in a mail client or score with
SpamAssassin. It is dated when the digest was first made, so running again
leaves it byte-for-byte the same.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..config import Publication
from ..records import Digest
from ..send.message import build_message
from ..state import digests as recorded
from ..state.atomic import Folders, atomic_write
from ..state.db import Store


def digest_paths(pub: Publication, digest: Digest) -> dict[str, Path]:
    """``html``, ``text`` (public) and ``eml`` (private) paths of a digest."""
    public = pub.output_dir / "digests" / digest.id
    return {"html": public.with_name(public.name + ".html"),
            "text": public.with_name(public.name + ".txt"),
            "eml": pub.state_dir / "digests" / f"{digest.id}.eml"}


def write_digest_files(pub: Publication, store: Store, digest: Digest, now: datetime,
                       folders: Folders | None = None) -> tuple[dict[str, object], list[str]]:
    """Write the digest's three files; returns its manifest entry and the paths that changed.

    With ``folders`` (the run's) their folders are fsynced by its ``sync``; without, now.
    """
    paths = digest_paths(pub, digest)
    date = recorded.created_at(store, digest.id) or now
    language = pub.feed(digest.feed).language
    from .edition import sample_recipient  # with the templates' renderer: only when a digest is written

    sample = build_message(pub, digest, sample_recipient(pub, language), date=date)
    contents = {"html": digest.web_html.encode("utf-8"), "text": digest.web_text.encode("utf-8"),
                "eml": bytes(sample)}
    changed = []
    for key, path in paths.items():
        private = key == "eml"
        if atomic_write(path, contents[key], mode=0o600 if private else 0o644, folders=folders):
            changed.append(pub.relative(path))
    entry: dict[str, object] = {
        "feed": digest.feed, "id": digest.id, "items": len(digest.article_ids), "subject": digest.subject,
        "files": {key: pub.relative(path) for key, path in paths.items()},
    }
    return entry, changed
