"""WebSub publishing: tell each hub which feeds changed, so readers subscribed through it get a push.

The feeds announce their hubs (``rel="hub"``, JSON Feed ``hubs``); after a
run that changed feed files, each hub gets one ``POST hub.mode=publish&
hub.url=<feed URL>`` per changed feed URL (RSS, Atom, JSON Feed), and fetches
the feed itself. A hub answers 2xx when it took the note. A network error or a
5xx is tried again after a pause, a few times; a hub that cannot be reached at
all is not asked about its other URLs in this run. Nothing here raises: every
outcome is a Notice the run reports, and a hub that failed is a problem of the
run, not a failure (the feeds are published either way; the next change
notifies again).

Imports: the standard library only (one POST needs no HTTP library).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

TIMEOUT = 10.0                   # seconds for one request
TRIES = 3                        # per feed URL and hub
PAUSES = (0.5, 2.0)              # seconds before the second and third try
USER_AGENT = "masthead (WebSub publisher)"


@dataclass(frozen=True, slots=True)
class Notice:
    """What one hub said about one feed URL."""

    hub: str
    url: str
    ok: bool
    status: int | None = None     # the hub's HTTP status, when it answered
    error: str = ""               # what went wrong, for people
    tries: int = 0                # requests made (0: not asked, the hub was unreachable)

    def to_dict(self) -> dict[str, object]:
        return {"hub": self.hub, "url": self.url, "ok": self.ok, "status": self.status,
                "error": self.error, "tries": self.tries}


def _post(hub: str, url: str, timeout: float) -> tuple[int | None, str]:
    """One publish request: (status, error); status None when no answer came."""
    import urllib.error  # with http.client: only for a publication that has hubs
    import urllib.request

    body = urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
    request = urllib.request.Request(hub, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read(65536)
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return None, f"unreachable: {reason}"


def _notify(hub: str, url: str, timeout: float, tries: int, pauses: Sequence[float],
            sleep: Callable[[float], None]) -> Notice:
    status, error = None, ""
    for attempt in range(1, tries + 1):
        status, error = _post(hub, url, timeout)
        if status is not None and 200 <= status < 300:
            return Notice(hub, url, ok=True, status=status, tries=attempt)
        if status is not None and status < 500:          # the hub refused this URL: asking again won't help
            return Notice(hub, url, ok=False, status=status, error=error, tries=attempt)
        if attempt < tries:
            sleep(pauses[min(attempt - 1, len(pauses) - 1)] if pauses else 0)
    return Notice(hub, url, ok=False, status=status, error=error, tries=tries)


def publish(hubs: Sequence[str], urls: Sequence[str], *, timeout: float = TIMEOUT, tries: int = TRIES,
            pauses: Sequence[float] = PAUSES, sleep: Callable[[float], None] = time.sleep) -> tuple[Notice, ...]:
    """Tell every hub about every changed feed URL; one Notice per (hub, URL)."""
    notices = []
    for hub in hubs:
        unreachable = ""
        for url in urls:
            if unreachable:
                notices.append(Notice(hub, url, ok=False, error=f"not asked: {unreachable}"))
                continue
            notice = _notify(hub, url, timeout, tries, pauses, sleep)
            if notice.status is None:                    # no answer at all: spare the hub's other URLs
                unreachable = notice.error
            notices.append(notice)
    return tuple(notices)
