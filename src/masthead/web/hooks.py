"""``POST /hooks/bounce``: bounce and complaint webhooks from Amazon SES (SNS), Postmark and Mailgun.

The provider is told by the request: SNS sends ``x-amz-sns-message-type``,
Postmark basic-auth credentials, Mailgun a JSON body with ``signature`` and
``event-data``. Each is authenticated by subscribers/providers.py; a forged
request gets 403, a malformed one 400, a replay of a delivery already taken
409, and none of them changes anything. A genuine one is acted on at once
(a hard bounce or a complaint suppresses the address) and answered 200.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

from ..state import feedback
from ..state.db import open_store
from ..subscribers.bounces import apply_notices
from ..subscribers.providers import MAX_AGE, Delivery, Refused, check_sns_url, read_mailgun, read_postmark, read_ses
from ..tokens import hook_password
from .pages import SECURITY, Answer
from .site import Site

MAX_BODY = 300_000          # SNS messages are at most 256 KB
CERT_BYTES = 65_536
Fetch = Callable[[str], bytes]


def fetch_https(url: str) -> bytes:
    """GET an SNS URL (checked by the caller to be https on amazonaws.com), at most CERT_BYTES, 10 s."""
    with urllib.request.urlopen(check_sns_url(url, suffix=url[-4:] if url.endswith(".pem") else ""),
                                timeout=10) as answer:
        return bytes(answer.read(CERT_BYTES))


class BounceHooks:
    """The webhook handler, with what it needs beyond the Site: Mailgun's key and a way to fetch from SNS."""

    def __init__(self, *, mailgun_key: str | None = None, fetch: Fetch = fetch_https):
        self.mailgun_key = mailgun_key
        self.fetch = fetch
        self._certs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def certificate(self, url: str) -> bytes:
        """SNS signing certificates, fetched once per URL."""
        with self._lock:
            cached = self._certs.get(url)
        if cached is None:
            cached = self.fetch(url)
            with self._lock:
                self._certs[url] = cached
        return cached

    def handle(self, site: Site, method: str, environ: dict[str, Any]) -> Answer:
        if method != "POST":
            return _answer("405 Method Not Allowed", "POST a provider's notification here",
                           [("Allow", "POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            return _answer("413 Content Too Large" if length > MAX_BODY else "400 Bad Request",
                           "the body is missing its length or too large")
        body = environ["wsgi.input"].read(length) if length else b""
        now = site.clock()
        try:
            delivery = self._read(site, environ, body, now)
        except Refused as exc:
            return _answer(exc.status, exc.reason)
        with open_store(site.pub.state_dir) as store:
            if not feedback.claim_receipt(store, delivery.provider, delivery.receipt, now=now,
                                          keep_since=now - 2 * MAX_AGE):
                return _answer("409 Conflict", "this notification was received before: nothing changed")
            if delivery.subscribe_url:
                try:
                    self.fetch(delivery.subscribe_url)
                except OSError as exc:
                    return _answer("502 Bad Gateway", f"the SNS subscription could not be confirmed: {exc}")
                return _answer("200 OK", "subscription confirmed")
            outcome = apply_notices(site.pub, store, delivery, now=now)
        return _answer("200 OK", json.dumps(outcome.to_dict(), ensure_ascii=False), kind="application/json")

    def _read(self, site: Site, environ: dict[str, Any], body: bytes, now: Any) -> Delivery:
        email = site.pub.site.email
        if environ.get("HTTP_X_AMZ_SNS_MESSAGE_TYPE"):
            return read_ses(body, topics=email.ses_topics, fetch_cert=self.certificate, now=now)
        authorization = str(environ.get("HTTP_AUTHORIZATION") or "")
        if authorization:
            return read_postmark(body, authorization=authorization, password=hook_password(site.secret))
        if b'"event-data"' in body and b'"signature"' in body:
            return read_mailgun(body, key=self.mailgun_key, now=now)
        raise Refused("403 Forbidden", "not a notification from a known provider, or without its credentials")


def _answer(status: str, text: str, extra: list[tuple[str, str]] | None = None, *,
            kind: str = "text/plain") -> Answer:
    headers = [("Content-Type", f"{kind}; charset=utf-8"), ("Cache-Control", "no-store"), *SECURITY]
    return status, headers + (extra or []), (text + "\n").encode("utf-8")
