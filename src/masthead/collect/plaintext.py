"""Plain-text articles in the seed's layout.

Line 1 is the lead sentence and becomes the title (one trailing full stop
dropped); it stays in the body, as the lead paragraph. Trailer lines are read
upward from the end and never reach line 1: ``المصدر: تاس`` / ``Source: TASS``
(agency), ``Photo : Creative Commons`` / ``تصوير: ...`` (photo credit),
``بقلم: ...`` / ``By: ...`` (author), ``الوسوم: ...`` / ``Tags: ...``, and one
short unpunctuated line above them (publisher or series).
"""

from __future__ import annotations

import re

from ..text import decode
from .raw import RawEntry

_LABEL = r"\s*[:：]\s*(?P<value>\S.*)$"
_TRAILERS = (
    ("source", re.compile(rf"^(?:المصدر|مصدر|Source|Via){_LABEL}", re.IGNORECASE)),
    ("photo_credit", re.compile(
        rf"^(?:Photos?|Image|Picture|Credit|الصورة|صورة|الصور|تصوير|المصور){_LABEL}", re.IGNORECASE)),
    ("author", re.compile(rf"^(?:بقلم|الكاتب|كتب|إعداد|By|Author|Written by){_LABEL}", re.IGNORECASE)),
    ("tags", re.compile(rf"^(?:الوسوم|وسوم|كلمات مفتاحية|Tags|Keywords){_LABEL}", re.IGNORECASE)),
)
# Sentence-final punctuation: a line ending in one is prose, not a publisher line.
_SENTENCE_END = (".", "!", "?", "؟", "۔", "…", ":", "،", ",", "؛", ";")
_PUBLISHER_MAX_WORDS = 12
_TAG_SPLIT = re.compile(r"\s*[,،;؛]\s*")


def read_plaintext(data: bytes, origin: str) -> list[RawEntry]:
    text, encoding = decode(data, origin)
    lines = [line.strip() for line in text.split("\n")]
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line]
    if not numbered:
        return []
    found: dict[str, str] = {}
    end = len(numbered)
    # Upward from the end; index 0 (the lead line) is never a trailer.
    while end > 1:
        _, line = numbered[end - 1]
        field = trailer(line)
        if field and field[0] not in found:
            found[field[0]] = field[1]
        elif "publisher" not in found and _is_publisher(line) and end > 2:
            found["publisher"] = line
        else:
            break
        end -= 1
    body = [line for _, line in numbered[:end]]
    title = body[0][:-1] if body[0].endswith(".") and not body[0].endswith("..") else body[0]
    problems: tuple[str, ...] = ()
    if encoding != "utf-8":
        problems = ("read as Windows-1256 (Arabic), not UTF-8; re-save it as UTF-8 to be sure",)
    return [RawEntry(
        origin=origin, key="", title=title,
        body_text="\n\n".join(body),
        summary=body[1] if len(body) > 1 else body[0],
        date_text="\n".join(body),
        authors=tuple(_TAG_SPLIT.split(found["author"])) if "author" in found else (),
        tags=tuple(t for t in _TAG_SPLIT.split(found.get("tags", "")) if t),
        source=found.get("source"), photo_credit=found.get("photo_credit"),
        publisher=found.get("publisher"), problems=problems,
    )]


def trailer(line: str) -> tuple[str, str] | None:
    """(field, value) when ``line`` is a labelled trailer line (source, photo_credit, author, tags); else None."""
    for field, pattern in _TRAILERS:
        match = pattern.match(line)
        if match:
            return field, match["value"].strip()
    return None


def _is_publisher(line: str) -> bool:
    return len(line.split()) <= _PUBLISHER_MAX_WORDS and not line.endswith(_SENTENCE_END)
