"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records mail and can misbehave on cue.

``MailServer`` keeps every accepted message; faults are queued replies for
RCPT or DATA, a per-address RCPT answer, a number of DATA commands whose
connection is dropped half-way through the body, and a hook called on each
accepted message (the kill -9 test uses it to kill the sender). With
``pipelining`` it offers PIPELINING (RFC 2920) in its EHLO, as Postfix does;
for every RCPT it notes when it came, on which connection, and whether the
DATA command after it had already arrived in the same batch.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from masthead.config import SmtpSettings, parse_smtp_url
from masthead.records import Digest
from masthead.send import message as mail


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    rcpt: str
    raw: bytes
    mail_from: str = ""          # the envelope sender (MAIL FROM)

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


@dataclass(frozen=True)
class Rcpt:
    address: str
    moment: float                # time.monotonic() when it came
    peer: object                 # the client's (host, port): one per connection
    with_data: bool              # DATA had come in the same batch (pipelined)


@dataclass
class Faults:
    rcpt_replies: list[str] = field(default_factory=list)        # next RCPT answers, in order
    data_replies: list[str] = field(default_factory=list)        # next answers after the final "."
    refuse: dict[str, str] = field(default_factory=dict)         # address -> RCPT answer, always
    drop_mid_data: int = 0                                        # DATA commands to cut half-way
    drop_after_lines: int = 1                                     # body lines read before the cut
    on_accept: Callable[[int], None] | None = None                # called with the count so far
    on_rcpt: Callable[[int], None] | None = None                  # called with RCPT count so far


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_EHLO(self, smtp, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.server.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        faults = self.server.faults
        waiting = bytes(smtp._reader._buffer)        # what the client sent beyond this command
        with self.server.lock:
            self.server.rcpts.append(Rcpt(address, time.monotonic(), session.peer, b"DATA\r\n" in waiting))
            self.server.rcpt_count += 1
            count = self.server.rcpt_count
            reply = faults.rcpt_replies.pop(0) if faults.rcpt_replies else faults.refuse.get(address)
        if faults.on_rcpt is not None:
            faults.on_rcpt(count)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        with self.server.lock:
            if self.server.faults.data_replies:
                return self.server.faults.data_replies.pop(0)
            for rcpt in envelope.rcpt_tos:
                self.server.received.append(Received(rcpt, bytes(envelope.original_content), envelope.mail_from))
            count = len(self.server.received)
        if self.server.faults.on_accept is not None:
            self.server.faults.on_accept(count)
        return "250 2.0.0 Ok: queued"


class _DroppingSMTP(SMTP):
    """Cuts the connection after the first lines of a message body when told to."""

    def __init__(self, server: MailServer, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mail_server = server

    async def smtp_DATA(self, arg: str) -> None:
        with self.mail_server.lock:
            drop = self.mail_server.faults.drop_mid_data > 0 and bool(self.envelope.rcpt_tos)
            if drop:
                self.mail_server.faults.drop_mid_data -= 1
                self.mail_server.dropped += 1
        if not drop:
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        for _ in range(self.mail_server.faults.drop_after_lines):
            await self._reader.readuntil(b"\r\n")
        self.transport.close()


class _Controller(Controller):
    def __init__(self, server: MailServer, **kwargs):
        super().__init__(_Handler(server), **kwargs)
        self.mail_server = server

    def factory(self) -> SMTP:
        return _DroppingSMTP(self.mail_server, self.handler, **self.SMTP_kwargs)


class MailServer:
    """An aiosmtpd server on 127.0.0.1 and a free port; ``url`` is for MASTHEAD_SMTP_URL."""

    def __init__(self, *, pipelining: bool = False, **controller_options: object) -> None:
        """``controller_options`` go to aiosmtpd (ssl_context, tls_context, authenticator...)."""
        self.pipelining = pipelining
        self.rcpts: list[Rcpt] = []
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.faults = Faults()
        self.rcpt_count = 0
        self.dropped = 0
        self.port = free_port()
        self.controller = _Controller(self, hostname="127.0.0.1", port=self.port, **controller_options)
        self.logins: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def settings(self) -> SmtpSettings:
        """What the library takes: this server as SmtpSettings."""
        settings = parse_smtp_url(self.url)
        assert settings is not None
        return settings

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def copies(self) -> dict[str, int]:
        """How many messages each address received."""
        counts: dict[str, int] = {}
        for item in self.received:
            counts[item.rcpt] = counts.get(item.rcpt, 0) + 1
        return counts


def make_digest(feed: str = "ar-news", day: int = 7) -> Digest:
    """A small rendered digest with the recipient placeholders mail.py fills in."""
    start = datetime(2022, 5, day, tzinfo=timezone(timedelta(hours=3)))
    html = (f'<table dir="rtl" lang="ar"><tr><td dir="rtl">مرحبا{mail.NAME}</td></tr>'
            f'<tr><td><a href="{mail.UNSUBSCRIBE_URL}">إلغاء الاشتراك</a></td></tr></table>')
    text = f"مرحبا{mail.NAME}\n\nإلغاء الاشتراك: {mail.UNSUBSCRIBE_URL}\n"
    return Digest(id=f"{feed}/daily/2022-05-{day:02d}", feed=feed, period_start=start,
                  period_end=start + timedelta(days=1), subject=f"نشرة {day} مايو",
                  article_ids=("a1",), html=html, text=text)
