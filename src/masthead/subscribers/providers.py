"""Bounce and complaint notifications from sending services: Amazon SES (through SNS), Postmark, Mailgun.

Each reader checks that the notification is genuine before reading it:

- SES posts through SNS, which signs every message with a certificate the
  message names. The certificate URL must be https on an SNS host of
  amazonaws.com and end in ``.pem`` (checked before anything is fetched);
  the signature (SignatureVersion 1: SHA1, 2: SHA256, RSA PKCS#1 v1.5) is
  checked over the fields SNS signs, the topic must be one named in
  ``[email] ses_topics`` and the timestamp recent;
- Mailgun signs ``timestamp + token`` with HMAC-SHA256 under the account's
  webhook signing key (``MASTHEAD_MAILGUN_SIGNING_KEY``); the timestamp
  must be recent;
- Postmark signs nothing: the webhook URL carries basic-auth credentials
  (the password derived from the publication's key, see tokens.py).

The caller refuses a delivery seen before (state/feedback.claim_receipt), so
a replayed request changes nothing. Each reader returns Notice records.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

MAX_AGE = timedelta(hours=1)          # older signed notifications are refused (replays beyond the receipts kept)
MAX_AHEAD = timedelta(minutes=5)      # clocks differ a little
SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
SNS_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
POSTMARK_HARD = {1, 100000}                       # HardBounce, BadEmailAddress
POSTMARK_SOFT = {2, 256, 4096, 100006}            # Transient, DnsError, SoftBounce, Blocked
POSTMARK_COMPLAINT = {512, 100001}                # SpamNotification, SpamComplaint
Fetch = Callable[[str], bytes]


class Refused(Exception):
    """The request is not a genuine notification: ``status`` says how to answer."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Notice:
    """One address a provider reports: a bounce (hard, soft), a complaint, or an unsubscribe."""

    email: str
    kind: str                    # hard, soft, complaint, unsubscribe
    status: str | None
    detail: str
    key: str                     # unique per provider event and address
    message_id: str | None       # our Message-ID, when the provider passes it on


@dataclass(frozen=True, slots=True)
class Delivery:
    """A genuine webhook delivery: who sent it, its receipt (for replays), what it reports."""

    provider: str
    receipt: str
    notices: tuple[Notice, ...] = ()
    subscribe_url: str | None = None      # an SNS subscription to confirm


def _forbidden(reason: str) -> Refused:
    return Refused("403 Forbidden", reason)


def _fresh(moment: datetime, now: datetime) -> None:
    if moment < now - MAX_AGE or moment > now + MAX_AHEAD:
        raise _forbidden(f"the notification is dated {moment.isoformat()}: too old or in the future")


def check_sns_url(url: str, *, suffix: str = ".pem") -> str:
    """``url`` when it is https on an SNS host of amazonaws.com (ending in ``suffix``); Refused otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not SNS_HOST.match(parts.hostname or "") or parts.port not in (None, 443) \
            or parts.username or not parts.path.endswith(suffix):
        raise _forbidden(f"{url[:200]!r} is not an Amazon SNS {'certificate' if suffix else ''} URL")
    return url


def read_ses(body: bytes, *, topics: tuple[str, ...], fetch_cert: Fetch, now: datetime) -> Delivery:
    """A genuine SNS message carrying SES notifications (or an SNS subscription confirmation)."""
    try:
        message = json.loads(body)
        kind = message["Type"]
        names = SNS_SIGNED[kind]
        signed = "".join(f"{name}\n{message[name]}\n" for name in names if name in message)
        signature = base64.b64decode(message["Signature"], validate=True)
        version = str(message["SignatureVersion"])
        timestamp = datetime.fromisoformat(str(message["Timestamp"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Refused("400 Bad Request", "not an Amazon SNS message") from None
    if version not in ("1", "2"):
        raise _forbidden(f"unknown SNS SignatureVersion {version!r}")
    if message.get("TopicArn") not in topics:
        raise _forbidden(f"topic {str(message.get('TopicArn'))[:200]!r} is not in [email] ses_topics")
    _verify_sns(check_sns_url(str(message.get("SigningCertURL", ""))), fetch_cert, signed.encode("utf-8"),
                signature, version, now)
    _fresh(timestamp, now)
    receipt = str(message["MessageId"])
    if kind == "SubscriptionConfirmation":
        return Delivery("ses", receipt, subscribe_url=check_sns_url(str(message.get("SubscribeURL", "")), suffix=""))
    if kind != "Notification":
        return Delivery("ses", receipt)
    try:
        return Delivery("ses", receipt, tuple(_ses_notices(json.loads(message["Message"]))))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Refused("400 Bad Request", "the SNS message carries no SES notification") from None


def _verify_sns(url: str, fetch_cert: Fetch, signed: bytes, signature: bytes, version: str, now: datetime) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        cert = x509.load_pem_x509_certificate(fetch_cert(url))
    except (OSError, ValueError) as exc:
        raise _forbidden(f"the SNS signing certificate cannot be read: {exc}") from None
    if not cert.not_valid_before_utc <= now.astimezone(UTC) <= cert.not_valid_after_utc:
        raise _forbidden("the SNS signing certificate is not valid now")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _forbidden("the SNS signing certificate has no RSA key")
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise _forbidden("the SNS signature does not match") from None


def _ses_notices(note: dict[str, Any]) -> list[Notice]:
    kind = note.get("notificationType") or note.get("eventType")
    mail = note.get("mail") or {}
    message_id = (mail.get("commonHeaders") or {}).get("messageId")
    found = []
    if kind == "Bounce":
        bounce = note["bounce"]
        verdict = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
        for r in bounce.get("bouncedRecipients", []):
            found.append(Notice(str(r["emailAddress"]).lower(), verdict, r.get("status"),
                                str(r.get("diagnosticCode") or f"{bounce.get('bounceType')}/"
                                                                 f"{bounce.get('bounceSubType')}"),
                                f"ses:{bounce.get('feedbackId')}:{r['emailAddress']}", message_id))
    elif kind == "Complaint":
        complaint = note["complaint"]
        if complaint.get("complaintFeedbackType") != "not-spam":
            for r in complaint.get("complainedRecipients", []):
                found.append(Notice(str(r["emailAddress"]).lower(), "complaint", None,
                                    f"feedback loop ({complaint.get('complaintFeedbackType') or 'abuse'})",
                                    f"ses:{complaint.get('feedbackId')}:{r['emailAddress']}", message_id))
    return found


def read_mailgun(body: bytes, *, key: str | None, now: datetime) -> Delivery:
    """A genuine Mailgun webhook (``failed``, ``complained`` or ``unsubscribed`` event)."""
    if not key:
        raise _forbidden("no Mailgun signing key is set (MASTHEAD_MAILGUN_SIGNING_KEY)")
    try:
        data = json.loads(body)
        signature = data["signature"]
        timestamp, token, mac = str(signature["timestamp"]), str(signature["token"]), str(signature["signature"])
        moment = datetime.fromtimestamp(int(timestamp), UTC)
        event = data["event-data"]
    except (ValueError, KeyError, TypeError, OverflowError):
        raise Refused("400 Bad Request", "not a Mailgun webhook") from None
    expected = hmac.new(key.encode("utf-8"), (timestamp + token).encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac.lower()):
        raise _forbidden("the Mailgun signature does not match")
    _fresh(moment, now)
    return Delivery("mailgun", token, tuple(_mailgun_notices(event)))


def _mailgun_notices(event: dict[str, Any]) -> list[Notice]:
    name = event.get("event")
    email = str(event.get("recipient") or "").lower()
    headers = (event.get("message") or {}).get("headers") or {}
    mid = headers.get("message-id")
    message_id = f"<{str(mid).strip('<>')}>" if mid else None
    key = f"mailgun:{event.get('id')}:{email}"
    if not email:
        return []
    if name == "failed":
        status = event.get("delivery-status") or {}
        verdict = "hard" if event.get("severity") == "permanent" else "soft"
        detail = str(status.get("description") or status.get("message") or event.get("reason") or "failed")
        return [Notice(email, verdict, status.get("enhanced-code") or None, detail, key, message_id)]
    if name == "complained":
        return [Notice(email, "complaint", None, "feedback loop (Mailgun)", key, message_id)]
    if name == "unsubscribed":
        return [Notice(email, "unsubscribe", None, "unsubscribed through Mailgun", key, message_id)]
    return []


def read_postmark(body: bytes, *, authorization: str, password: str) -> Delivery:
    """A Postmark bounce or spam-complaint webhook sent with the URL's basic-auth credentials."""
    given = ""
    if authorization.lower().startswith("basic "):
        try:
            given = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            given = ""
    if not hmac.compare_digest(given.encode("utf-8"), password.encode("utf-8")):
        raise _forbidden("wrong or missing credentials")
    try:
        data = json.loads(body)
        record, email, code = data["RecordType"], str(data["Email"]).lower(), int(data.get("TypeCode") or 0)
        event_id = str(data["ID"])
    except (ValueError, KeyError, TypeError):
        raise Refused("400 Bad Request", "not a Postmark webhook") from None
    key = f"postmark:{event_id}:{email}"
    detail = str(data.get("Description") or data.get("Details") or data.get("Type") or record)
    if record == "SpamComplaint" or code in POSTMARK_COMPLAINT:
        notices = [Notice(email, "complaint", None, f"feedback loop (Postmark {data.get('Type')})", key, None)]
    elif record == "Bounce" and code in POSTMARK_HARD | POSTMARK_SOFT:
        verdict = "hard" if code in POSTMARK_HARD else "soft"
        notices = [Notice(email, verdict, None, f"{data.get('Type')}: {detail}", key, None)]
    else:
        notices = []
    return Delivery("postmark", event_id, tuple(notices))
