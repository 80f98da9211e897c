"""What an article page shows above its body, so that no sentence is read twice.

A plain-text article's first line is both its title and its first paragraph,
and most summaries are the body's first paragraph (whole, cut short, or lightly
reworded). The page shows the title once, and the lead once: as the summary
above the body when it says something the body does not start with, else as
the body's own first paragraph, marked ``class="lead"``. Nothing else of the
body is ever left out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import replace
from difflib import SequenceMatcher

from ..records import Article

# The body's first element when it is a plain paragraph (sanitised HTML writes <p> bare).
_FIRST_P = re.compile(r"\A\s*<p>(.*?)</p>\s*", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
SAME = 0.8    # share of the summary's words found, in order, at the body's start: "the same lead"


def words(text: str) -> list[str]:
    """The words of plain text or HTML, lower-cased, without punctuation, tatweel or tags."""
    plain = html.unescape(_TAG.sub(" ", text)).casefold()
    found = ("".join(c for c in word if unicodedata.category(c)[0] in "LNM" and c != "\u0640")
             for word in plain.split())
    return [w for w in found if w]


def starts_with(body: list[str], lead: list[str]) -> bool:
    """True when ``lead`` is (nearly) how ``body`` begins."""
    if not lead:
        return True
    start = body[:len(lead) + len(lead) // 4 + 2]
    matched = sum(block.size for block in SequenceMatcher(None, lead, start, autojunk=False).get_matching_blocks())
    return matched >= SAME * len(lead)


def page_lead(article: Article) -> tuple[str, Article]:
    """The summary to show above the body ('' for none), and the article with the body to show."""
    body = article.body_html.strip()
    title = words(article.title)
    first = _FIRST_P.match(body)
    if (first and len(first.group(1)) <= 4 * len(article.title) + 200 and words(first.group(1)) == title
            and body[first.end():].strip()):
        body = body[first.end():]                   # the title was the first paragraph: said once
    summary = words(article.summary)
    if not summary or summary == title:
        return "", replace(article, body_html=body)
    opening = body[:8 * len(article.summary) + 2000]    # enough for the lead's words: bodies can be huge
    if not starts_with(words(opening), summary):
        return article.summary.strip(), replace(article, body_html=body)
    body = _FIRST_P.sub(lambda m: f'<p class="lead">{m.group(1)}</p>\n', body, count=1)
    return "", replace(article, body_html=body)
