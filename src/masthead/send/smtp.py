"""One SMTP connection that carries many messages, and tells exactly how each one ended.

The server is the caller's SmtpSettings (config.py reads them from
``MASTHEAD_SMTP_URL``, never from a file in the publication), with the DKIM
key every message is signed with on its way out (dkim.py).

``Connection.transmit`` runs MAIL, RCPT and DATA itself rather than through
``smtplib.sendmail`` so it knows whether the final ``.`` was sent: until then
the server cannot have accepted the message and a retry is safe. Just before
that dot it calls the caller's ``commit`` hook, which claims the send as
'sending' (so a job killed from here on never sends this copy again), then
looks once more whether the server hung up meanwhile. A hook that returns
False lost the claim to another sender: the message is abandoned before its
dot by closing the connection (inside DATA, RSET would only be message text;
a server drops a message whose connection closes before the dot).
"""

from __future__ import annotations

import re
import select
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..config import SmtpSettings
from . import dkim

Kind = Literal["accepted", "rejected", "deferred", "taken"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one message ended: accepted (250), rejected (5xx), deferred (4xx, connection lost),
    or taken (the commit hook said another sender has this copy: abandoned before the dot)."""

    kind: Kind
    reply: str                  # "250 2.0.0 Ok: queued", "550 5.1.1 ...", "connection lost ..."
    stage: str = "DATA"         # MAIL, RCPT or DATA: where the answer came
    code: int = 0


class ConnectFailed(Exception):
    """The server could not be reached or refused us; ``permanent`` when retrying won't help."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}".strip()


_LEADING_DOT = re.compile(rb"(?m)^\.")


def dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, leading dots doubled, ending CRLF."""
    if data.count(b"\n") != data.count(b"\r\n"):       # two scans in C: most messages are CRLF already
        data = re.sub(rb"\r?\n", b"\r\n", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return _LEADING_DOT.sub(b"..", data) if data.startswith(b".") or b"\n." in data else data


class Connection:
    """A live SMTP session. Open with ``open()``; ``alive`` turns False after any drop."""

    def __init__(self, settings: SmtpSettings, *, local_hostname: str):
        self.settings = settings
        self.local_hostname = local_hostname
        self.smtp: smtplib.SMTP | None = None

    @property
    def alive(self) -> bool:
        return self.smtp is not None

    @property
    def pipelining(self) -> bool:
        """Whether the server takes MAIL, RCPT and DATA in one go (RFC 2920)."""
        return self.smtp is not None and self.smtp.has_extn("pipelining")

    @property
    def smtputf8(self) -> bool:
        return self.smtp is not None and self.smtp.has_extn("smtputf8")

    def open(self) -> None:
        s = self.settings
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, local_hostname=self.local_hostname, timeout=s.timeout,
                    context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, local_hostname=self.local_hostname,
                                    timeout=s.timeout)
            try:
                smtp.ehlo()
                if s.security == "starttls" or (s.security == "local" and smtp.has_extn("starttls")):
                    if not smtp.has_extn("starttls"):
                        raise ConnectFailed(f"{s.describe()} does not offer STARTTLS", permanent=True)
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password or "")
            except BaseException:
                smtp.close()
                raise
        except ConnectFailed:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectFailed(f"{s.describe()} refused the login: {_reply(exc.smtp_code, exc.smtp_error)}",
                                permanent=True) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ConnectFailed(f"{s.describe()}: {exc}", permanent=True) from None
        except smtplib.SMTPConnectError as exc:
            raise ConnectFailed(f"{s.describe()} refused the session: "
                                f"{_reply(exc.smtp_code, exc.smtp_error)}") from None
        except smtplib.SMTPResponseException as exc:
            raise ConnectFailed(f"{s.describe()} answered {_reply(exc.smtp_code, exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500) from None
        except ssl.SSLError as exc:
            raise ConnectFailed(f"TLS with {s.describe()} failed: {exc.reason or exc}",
                                permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectFailed(f"cannot reach {s.describe()}: {exc.strerror or exc}"
                                if isinstance(exc, OSError) else f"{s.describe()}: {exc}") from None
        try:   # the final dot is a tiny write after a big one: don't let Nagle hold it back
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.smtp = smtp

    def close(self) -> None:
        """QUIT politely when the session is healthy; just close it otherwise."""
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _drop(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            smtp.close()

    def _reset(self) -> None:
        assert self.smtp is not None
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def transmit(self, sender: str, recipient: str, data: bytes,
                 commit: Callable[[], bool | None], *, utf8: bool = False) -> Outcome:
        """Send one message (``data``: CRLF lines, not yet dot-stuffed) to one recipient.

        With a DKIM key in the settings the bytes are signed here, after every
        per-recipient value is in: whoever builds a message, it goes signed.

        ``commit`` runs after the server said 354 and the body went out, just
        before the final ``.``: the last moment when the server cannot yet have
        accepted the message. When it returns False the dot is never sent.
        """
        smtp = self.smtp
        assert smtp is not None, "open() the connection first"
        if self.settings.dkim is not None:   # every message, digest or confirmation, exactly as it goes
            data = dkim.sign(data, self.settings.dkim)
        stage = "MAIL"
        try:
            if self.pipelining:
                stage, code, msg = self._envelope_at_once(smtp, sender, recipient, utf8=utf8)
                if stage != "DATA":
                    if self.smtp is None:       # it said 354 all the same: closed, nothing to reset
                        return self._refused(stage, code, msg, after_data=True)
                    return self._refused(stage, code, msg)
            else:
                code, msg = smtp.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"] if utf8 else [])
                if code == 250:
                    stage = "RCPT"
                    code, msg = smtp.rcpt(recipient)
                if code in (250, 251):
                    stage = "DATA"
                    smtp.putcmd("data")
                    code, msg = smtp.getreply()
            if code != 354:
                return self._refused(stage, code, msg)
            smtp.send(dot_stuffed(data))
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            return Outcome("deferred", f"connection lost before the end of the message ({exc})", stage)
        if commit() is False:
            self._drop()          # the server discards a message cut off before its dot
            return Outcome("taken", "another sender claimed this copy first: abandoned before the final dot",
                           "DATA")
        if self._peer_gone():
            self._drop()
            return Outcome("deferred", "connection lost before the end of the message", "DATA")
        try:
            smtp.send(b".\r\n")
            code, msg = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            # We are alive and the server went away while we waited for its
            # answer. Most likely it never took the message (it hung up
            # mid-stream and our dot crossed its close); it could also have
            # queued it in the microseconds before replying (RFC 1047). Like
            # every MTA we try again; the Message-ID is the same on both
            # copies, so a provider that dedupes drops such a twin.
            self._drop()
            return Outcome("deferred", f"connection lost while waiting for the answer ({exc})", "DATA")
        if code == 250:
            return Outcome("accepted", _reply(code, msg), "DATA", code)
        return self._refused("DATA", code, msg, after_data=True)

    def _envelope_at_once(self, smtp: smtplib.SMTP, sender: str, recipient: str, *,
                          utf8: bool) -> tuple[str, int, bytes]:
        """MAIL, RCPT and DATA in one write, then their three answers (RFC 2920 PIPELINING).

        One round trip instead of three. Returns the stage whose answer
        decides (the first refusal, or DATA) with that answer. A server that
        said 354 to DATA after refusing MAIL or RCPT is waiting for a message
        that must not come: the connection is closed, which discards it.
        """
        options = " SMTPUTF8 BODY=8BITMIME" if utf8 else ""
        if utf8:
            smtp.command_encoding = "utf-8"
        smtp.send(f"MAIL FROM:{smtplib.quoteaddr(sender)}{options}\r\n"
                  f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\nDATA\r\n")
        answers = [("MAIL", *smtp.getreply()), ("RCPT", *smtp.getreply()), ("DATA", *smtp.getreply())]
        for stage, code, msg in answers[:2]:
            if code not in (250, 251):
                if answers[2][1] == 354:
                    self._drop()
                return stage, code, msg
        return answers[2]

    def _peer_gone(self) -> bool:
        """True when the server closed (or wrote to) the socket during DATA, before our dot.

        Checked after ``commit``, right before the dot: a server that hung up
        mid-message must not leave a copy presumed sent. A close that arrives
        later still fails the dot or its answer, and the copy is retried.
        """
        sock = self.smtp.sock if self.smtp is not None else None
        if sock is None:
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _refused(self, stage: str, code: int, msg: bytes, *, after_data: bool = False) -> Outcome:
        reply = _reply(code, msg)
        if code == 421 or code == -1:
            self._drop()          # the server is closing the session
        elif not after_data:
            self._reset()         # a MAIL/RCPT refusal leaves a half transaction open
        if 500 <= code < 600:
            return Outcome("rejected", reply, stage, code)
        return Outcome("deferred", reply, stage, code)
