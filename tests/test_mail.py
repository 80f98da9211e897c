"""mail.build_message: one digest and one recipient -> a message providers accept."""

from __future__ import annotations

import email
import html
import re
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from masthead.config import Publication
from masthead.errors import DeliveryError
from masthead.records import Digest, Recipient
from masthead.send.message import EMAIL, NAME, UNSUBSCRIBE_URL, build_message, message_id

SENT = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
SUBJECT = "نشرة أخبار العالم: 6 مايو 2022"


def make_digest(html: str | None = None, text: str | None = None, subject: str = SUBJECT) -> Digest:
    body = "<p>" + "خبر طويل جداً " * 400 + "</p>"   # one line far over 998 octets
    return Digest(
        id="ar-news/daily/2022-05-06", feed="ar-news",
        period_start=datetime(2022, 5, 5, 21, tzinfo=UTC),
        period_end=datetime(2022, 5, 6, 21, tzinfo=UTC),
        subject=subject, article_ids=("a1",),
        html=html if html is not None else (
            f'<html dir="rtl" lang="ar"><body><p>مرحباً{NAME}،</p>{body}'
            f'<p>{EMAIL}</p><a href="{UNSUBSCRIBE_URL}">إلغاء الاشتراك</a></body></html>'),
        text=text if text is not None else f"مرحباً{NAME}،\nأُرسلت إلى {EMAIL}\nإلغاء الاشتراك: {UNSUBSCRIBE_URL}\n",
    )


def reader(name: str | None = "علي", address: str = "ali@example.com",
           url: str = "https://news.example.org/unsubscribe?t=abc&e=1") -> Recipient:
    return Recipient(email=address, name=name, unsubscribe_url=url)


def parsed(msg: EmailMessage) -> EmailMessage:
    result = email.message_from_bytes(bytes(msg), policy=policy.default)
    assert isinstance(result, EmailMessage)
    return result


class TestStructure:
    def test_text_first_then_html(self, pub: Publication) -> None:
        """The message is multipart/alternative with text/plain first and text/html last."""
        msg = parsed(build_message(pub, make_digest(), reader(), date=SENT))
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]

    def test_required_headers(self, pub: Publication) -> None:
        """From, To, Date, Message-ID, List-Id, List-Unsubscribe(-Post) and Auto-Submitted are set."""
        msg = parsed(build_message(pub, make_digest(), reader(), date=SENT))
        assert msg["From"].addresses[0].addr_spec == "newsletter@news.example.org"
        assert msg["From"].addresses[0].display_name == "مرصد الأخبار"
        assert msg["To"].addresses[0].addr_spec == "ali@example.com"
        assert parsedate_to_datetime(msg["Date"]) == SENT
        assert msg["Message-ID"].endswith("@news.example.org>")
        assert msg["List-Id"].endswith("<ar-news.news.example.org>")
        assert msg["List-Unsubscribe"] == ("<https://news.example.org/unsubscribe?t=abc&e=1>, "
                "<mailto:unsubscribe@news.example.org?subject=unsubscribe>")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Auto-Submitted"] == "auto-generated"

    def test_arabic_subject_and_name_are_encoded_words(self, pub: Publication) -> None:
        """Non-ASCII subject and display name travel as RFC 2047 encoded-words and decode back."""
        raw = bytes(build_message(pub, make_digest(), reader(), date=SENT))
        head = raw.split(b"\n\n", 1)[0]
        assert head.isascii()
        assert b"=?utf-8?" in head
        msg = parsed(build_message(pub, make_digest(), reader(), date=SENT))
        assert msg["Subject"] == SUBJECT
        assert msg["To"].addresses[0].display_name == "علي"

    def test_no_line_over_998_octets(self, pub: Publication) -> None:
        """Long HTML lines are transfer-encoded, so no line of the message exceeds 998 octets."""
        raw = bytes(build_message(pub, make_digest(), reader(), date=SENT))
        assert raw.isascii()
        assert max(len(line) for line in raw.splitlines()) <= 998
        for part in parsed(build_message(pub, make_digest(), reader(), date=SENT)).iter_parts():
            assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")

    def test_same_input_same_bytes(self, pub: Publication) -> None:
        """Building the same message twice gives byte-identical output (no random boundary)."""
        first = bytes(build_message(pub, make_digest(), reader(), date=SENT))
        assert first == bytes(build_message(pub, make_digest(), reader(), date=SENT))


class TestMessageId:
    def test_stable_per_digest_and_address(self, pub: Publication) -> None:
        """A retried send of the same digest to the same address carries the same Message-ID."""
        later = datetime(2022, 5, 7, 9, 0, tzinfo=UTC)
        first = build_message(pub, make_digest(), reader(), date=SENT)
        retry = build_message(pub, make_digest(), reader(), date=later)
        assert first["Message-ID"] == retry["Message-ID"]
        assert message_id(pub, "ar-news/daily/2022-05-06", "ALI@example.com ") == first["Message-ID"]

    def test_differs_between_recipients_and_digests(self, pub: Publication) -> None:
        """Another address or another digest gets another Message-ID, and the id hides the address."""
        one = message_id(pub, "ar-news/daily/2022-05-06", "ali@example.com")
        assert one != message_id(pub, "ar-news/daily/2022-05-06", "sara@example.com")
        assert one != message_id(pub, "ar-news/daily/2022-05-07", "ali@example.com")
        assert "ali" not in one


class TestPersonalisation:
    def test_values_escaped_for_html(self, pub: Publication) -> None:
        """A name with markup is escaped in HTML and kept verbatim in the text part."""
        msg = parsed(build_message(pub, make_digest(), reader(name='<b>"Ali" & co</b>'), date=SENT))
        body = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        assert "مرحباً &lt;b&gt;&quot;Ali&quot; &amp; co&lt;/b&gt;،" in body
        assert 'مرحباً <b>"Ali" & co</b>،' in text

    def test_unsubscribe_url_escaped_in_attribute(self, pub: Publication) -> None:
        """The unsubscribe URL lands in href with & escaped, and as-is in the text part."""
        msg = parsed(build_message(pub, make_digest(), reader(), date=SENT))
        assert 'href="https://news.example.org/unsubscribe?t=abc&amp;e=1"' in msg.get_body(("html",)).get_content()
        assert "https://news.example.org/unsubscribe?t=abc&e=1" in msg.get_body(("plain",)).get_content()

    def test_no_name_leaves_no_gap(self, pub: Publication) -> None:
        """Without a name the greeting closes up ("مرحباً،") and no placeholder is left."""
        msg = parsed(build_message(pub, make_digest(), reader(name=None), date=SENT))
        text = msg.get_body(("plain",)).get_content()
        assert text.startswith("مرحباً،")
        assert "%%MH_" not in text + msg.get_body(("html",)).get_content()
        assert msg["To"].addresses[0].display_name == ""


class TestRefusals:
    @pytest.mark.parametrize("name", ["Ali\r\nBcc: victim@example.com", "Ali\nX", "Ali\u2028X"])
    def test_name_with_line_break_refused(self, pub: Publication, name: str) -> None:
        """A recipient name holding a line break is refused with a DeliveryError naming the header."""
        with pytest.raises(DeliveryError, match="To header would hold a line break"):
            build_message(pub, make_digest(), reader(name=name), date=SENT)

    def test_subject_with_line_break_refused(self, pub: Publication) -> None:
        """A subject with a newline is refused before any message exists."""
        with pytest.raises(DeliveryError, match="Subject header would hold a line break"):
            build_message(pub, make_digest(subject="a\nBcc: x@example.com"), reader(), date=SENT)

    @pytest.mark.parametrize("url", ["http://news.example.org/u?t=1", "https://news.example.org/u t",
                                     "https://x.org/>\r\nBcc: a@b.c", "javascript:alert(1)"])
    def test_unsubscribe_url_must_be_plain_https(self, pub: Publication, url: str) -> None:
        """An unsubscribe URL that is not plain https is refused: providers require https."""
        with pytest.raises(DeliveryError):
            build_message(pub, make_digest(), reader(url=url), date=SENT)

    @pytest.mark.parametrize("address", ["two@example.com, three@example.com", "no-at-sign", "a@b@c"])
    def test_bad_address_refused(self, pub: Publication, address: str) -> None:
        """Something that is not exactly one address is refused, not sent to whoever it names."""
        with pytest.raises(DeliveryError):
            build_message(pub, make_digest(), reader(address=address), date=SENT)

    def test_naive_date_refused(self, pub: Publication) -> None:
        """A date without a time zone is a programming error, refused at once."""
        with pytest.raises(ValueError):
            build_message(pub, make_digest(), reader(), date=datetime(2022, 5, 7, 6))


class TestRoundTrip:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(name=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40)
           .filter(lambda s: s.strip() and "\x85" not in s))
    @example(name='"\xa0"')  # quotes around a no-break space: sent as an encoded-word
    def test_any_one_line_name_survives(self, pub: Publication, name: str) -> None:
        """Any one-line name (Arabic, quotes, symbols) decodes back from To and is escaped in the HTML.

        Decoded with email.header (RFC 2047: no space between adjacent encoded-words):
        the default policy's address parser adds one where a long name is folded.
        """
        raw = bytes(build_message(pub, make_digest(), reader(name=name), date=SENT))
        folded = re.search(rb"^To:\s*(.*?)\n(?=\S)", raw, re.MULTILINE | re.DOTALL)
        assert folded is not None
        decoded = str(make_header(decode_header(folded.group(1).decode("ascii"))))
        assert decoded.endswith(" <ali@example.com>")
        display = decoded.removesuffix(" <ali@example.com>")
        # Quotes are syntax only in a quoted-string; inside an encoded-word they are the name's own.
        if folded.group(1).startswith(b'"') and display.startswith('"') and display.endswith('"'):
            display = display[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        assert " ".join(name.split()) == " ".join(display.split())
        msg = parsed(build_message(pub, make_digest(), reader(name=name), date=SENT))
        assert html.escape(f" {name.strip()}", quote=True) in msg.get_body(("html",)).get_content()
        assert max(len(line) for line in bytes(msg).splitlines()) <= 998


class TestPlaceholderInjection:
    def test_name_that_looks_like_a_placeholder_is_not_expanded(self, pub: Publication) -> None:
        """A name written as a placeholder is shown literally, not replaced by the address or URL."""
        msg = parsed(build_message(pub, make_digest(), reader(name=f"{EMAIL} {UNSUBSCRIBE_URL}"), date=SENT))
        text = msg.get_body(("plain",)).get_content()
        assert text.startswith(f"مرحباً {EMAIL} {UNSUBSCRIBE_URL}،")


class TestLongUnsubscribeUrl:
    LONG = "https://news.example.org/unsubscribe?token=cmVhZGVyQGV4YW1wbGUuY29t." + "A" * 43

    def test_url_written_literally(self, pub: Publication) -> None:
        """A long tokenised URL stays literal in List-Unsubscribe, never inside an encoded word."""
        raw = bytes(build_message(pub, make_digest(), reader(url=self.LONG), date=SENT))
        head = raw.split(b"\n\n", 1)[0].decode("ascii")
        field = re.search(r"^List-Unsubscribe: (.*?)\n(?=\S)", head, re.MULTILINE | re.DOTALL)
        assert field is not None
        assert "=?" not in field.group(1)
        assert f"<{self.LONG}>," == field.group(1).splitlines()[0]
        assert max(len(line) for line in head.splitlines()) <= 998

    def test_parses_back(self, pub: Publication) -> None:
        """Read back with the default policy, the header lists the https URL, then the mailto."""
        msg = parsed(build_message(pub, make_digest(), reader(url=self.LONG), date=SENT))
        assert (f"<{self.LONG}>, <mailto:unsubscribe@news.example.org?subject=unsubscribe>"
                == msg["List-Unsubscribe"])


@pytest.mark.parametrize("subject", [
    "Confirm your subscription to World News, أخبار العالم",
    "نشرة أخبار العالم: الجمعة 6 مايو 2022",
    "Digest: أخبار العالم and more news from the region today for everyone who reads",
])
def test_mixed_subject_decodes_exactly(pub: Publication, subject: str) -> None:
    """A subject mixing Latin and Arabic words decodes with every space in place."""
    msg = parsed(build_message(pub, make_digest(subject=subject), reader(), date=SENT))
    assert subject == msg["Subject"]
