"""One bounded HTTP GET for upstream sources: no internal addresses, no endless bodies.

- Every connection resolves the host itself, checks each address it would
  connect to (loopback, private, link-local, reserved, multicast and
  unspecified addresses are refused unless the host is in ``allow_hosts``)
  and connects to the address it checked, so DNS cannot answer differently
  between the check and the connection. A redirect is a new connection,
  checked the same way, and never leaves http(s).
- The body is streamed: refused as soon as it passes ``max_bytes`` (before
  anything is kept), and every read waits at most until the overall deadline,
  so a server sending one byte a second cannot hold a run.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

from ..config import FetchSettings

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The fetch must not happen (an internal address, a non-http redirect, too big): never retried."""


class Failed(Exception):
    """The fetch did not work this time (network, timeout, 5xx): worth another try.

    ``status`` is the HTTP status when the server answered one.
    """

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class Response:
    status: int                  # 200 or 304
    headers: Message
    body: bytes


def is_internal(ip: IpAddress) -> bool:
    """Loopback, private, link-local, reserved, multicast or unspecified: not for a public fetch."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_internal(embedded):
            return True
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def _allowed(host: str, settings: FetchSettings) -> bool:
    return host.lower().rstrip(".") in settings.allow_hosts


def checked_socket(host: str, port: int, settings: FetchSettings, timeout: float) -> socket.socket:
    """A socket connected to ``host``, at an address that passed the check; Refused or Failed otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Failed(f"cannot resolve {host}: {exc}") from None
    refused: list[str] = []
    error: OSError | None = None
    for family, kind, proto, _, address in infos:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        if is_internal(ip) and not _allowed(host, settings):
            refused.append(str(ip))
            continue
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    if error is not None:
        raise Failed(f"cannot connect to {host}: {error}")
    raise Refused(f"{host} resolves to {', '.join(dict.fromkeys(refused))}, an internal (loopback, private "
                  "or link-local) address; list the host in [fetch] allow_hosts in feeds/site.toml "
                  "if it is meant to be fetched")


class _Http(http.client.HTTPConnection):
    def __init__(self, host: str, port: int | None, settings: FetchSettings, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.settings = settings

    def connect(self) -> None:
        self.sock = checked_socket(self.host, self.port, self.settings, self.timeout or 10.0)


class _Https(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int | None, settings: FetchSettings, timeout: float):
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.settings = settings

    def connect(self) -> None:
        sock = checked_socket(self.host, self.port, self.settings, self.timeout or 10.0)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def get(url: str, headers: dict[str, str], settings: FetchSettings, deadline: float) -> Response:
    """GET ``url`` (following redirects within http(s)) before ``deadline`` (a time.monotonic() value).

    Refused for what must not be fetched, Failed for what may work next time.
    """
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"{url!r} is not an http(s) URL: not followed")
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failed(f"no answer within the deadline ({settings.deadline:g} s)")
        try:
            port = parts.port
        except ValueError:
            raise Refused(f"{url!r} has a bad port") from None
        kind = _Https if parts.scheme == "https" else _Http
        connection = kind(parts.hostname, port, settings, min(settings.timeout, left))
        response: http.client.HTTPResponse | None = None
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            location = response.getheader("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location.strip())
                continue
            if response.status == 304:
                return Response(304, response.msg, b"")
            if response.status != 200:
                raise Failed(f"HTTP {response.status} {response.reason}", response.status)
            return Response(200, response.msg, _read(response, connection, settings, deadline))
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError):
                raise Failed(f"timed out ({settings.timeout:g} s per request, {settings.deadline:g} s "
                             "in all)") from None
            raise Failed(f"{type(exc).__name__}: {exc}") from None
        finally:
            if response is not None:
                response.close()
            connection.close()
    raise Refused(f"more than {MAX_REDIRECTS} redirects: not followed")


def _read(response: http.client.HTTPResponse, connection: http.client.HTTPConnection,
          settings: FetchSettings, deadline: float) -> bytes:
    """The body, read a chunk at a time: over max_bytes is Refused, past the deadline Failed."""
    declared = response.getheader("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) > settings.max_bytes:
        raise Refused(f"the body is {int(declared):,} bytes; [fetch] max_bytes allows {settings.max_bytes:,}")
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failed(f"the body was still arriving at the deadline ({settings.deadline:g} s); "
                         f"{size:,} bytes read")
        if connection.sock is not None:
            connection.sock.settimeout(min(settings.timeout, left))
        chunk = response.read1(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > settings.max_bytes:
            raise Refused(f"the body is over [fetch] max_bytes ({settings.max_bytes:,} bytes): "
                          "refused while reading")
        chunks.append(chunk)
