"""What an article page shows above its body: the title once, the lead once, nothing of the body lost."""

from __future__ import annotations

from datetime import UTC, datetime

from masthead.feeds.pagelead import page_lead
from masthead.records import Article


def _article(body: str, title: str, summary: str) -> Article:
    return Article(id="x", feed="f", title=title, url="https://example.org/x.html",
                   published=datetime(2022, 5, 6, tzinfo=UTC), updated=None, precision="day",
                   language="ar", direction="rtl", summary=summary, body_html=body, body_text="")


class TestPageLead:
    def test_title_paragraph_is_dropped_and_summary_marks_the_lead(self) -> None:
        """Title line first, summary second: the page shows the title once and the summary as the lead paragraph."""
        article = _article("<p>أكد الرئيس أمرا مهما.</p>\n<p>وقال ذلك اليوم.</p>\n<p>ثم أضاف.</p>",
                           "أكد الرئيس أمرا مهما", "وقال ذلك اليوم.")
        lead, shown = page_lead(article)
        assert ("", '<p class="lead">وقال ذلك اليوم.</p>\n<p>ثم أضاف.</p>') == (lead, shown.body_html)

    def test_a_summary_the_body_does_not_start_with_is_shown_above_it(self) -> None:
        """A summary of its own is the lead above an untouched body."""
        article = _article("<p>First paragraph here.</p>", "A title", "Something else entirely, said differently.")
        lead, shown = page_lead(article)
        assert ("Something else entirely, said differently.", "<p>First paragraph here.</p>") == (lead, shown.body_html)

    def test_a_reworded_or_shortened_summary_is_not_repeated(self) -> None:
        """A summary that is the first paragraph cut short, or lightly reworded, is shown once, in the body."""
        body = "<p>Pilgrims began arriving at Mina on <strong>Thursday</strong> morning, with full services.</p>"
        for summary in ("Pilgrims began arriving at Mina this morning, with full services.",
                        "Pilgrims began arriving at Mina on Thursday…"):
            lead, shown = page_lead(_article(body, "Pilgrims arrive", summary))
            assert "" == lead
            assert shown.body_html.startswith('<p class="lead">Pilgrims began')

    def test_a_body_that_is_only_its_title_is_kept(self) -> None:
        """A one-line article keeps its one paragraph, and shows no summary of it."""
        article = _article("<p>Short news.</p>", "Short news", "Short news.")
        assert ("", "<p>Short news.</p>") == (page_lead(article)[0], page_lead(article)[1].body_html)

    def test_input_is_not_changed(self) -> None:
        """page_lead returns a copy; the article (frozen, shared with the feeds) is as it was."""
        article = _article("<p>T.</p><p>S.</p>", "T", "S.")
        page_lead(article)
        assert "<p>T.</p><p>S.</p>" == article.body_html
