"""POST /hooks/bounce over a real HTTP server: SES (SNS-signed), Postmark and Mailgun events suppress the right address; forged and replayed ones change nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from masthead.config import load_publication
from masthead.state.db import open_store
from masthead.state.roster import get as get_subscriber
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import hook_password, load_secret
from masthead.web.app import App

TOPIC = "arn:aws:sns:eu-west-1:123456789012:masthead-bounces"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
MAILGUN_KEY = "key-0123456789abcdef0123456789abcdef"
NOW = datetime.now(UTC).replace(microsecond=0)
READERS = ("bounce@example.com", "complain@example.com", "soft@example.com", "other@example.com")


def certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


SNS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Fetcher:
    """Stands in for the internet: serves the test's SNS certificate, records every URL asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        return certificate(SNS_KEY) if url == CERT_URL else b"confirmed"


@pytest.fixture
def served(sample_pub):
    site = sample_pub / "feeds" / "site.toml"
    site.write_text(site.read_text("utf-8") + f'ses_topics = ["{TOPIC}"]\n', "utf-8")
    pub = load_publication(sample_pub)
    with open_store(pub.state_dir) as store:
        for email in READERS:
            add_subscriber(store, pub, email, feeds=["ar-news"], now=NOW - timedelta(days=3))
    fetcher = Fetcher()
    app = App(pub, load_secret(pub.state_dir), mailgun_key=MAILGUN_KEY, fetch=fetcher)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/bounce", app, fetcher
    server.shutdown()
    server.server_close()


def post(url: str, body: bytes, **headers: str) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def status(app: App, email: str) -> str:
    with open_store(app.pub.state_dir) as store:
        return get_subscriber(store, email).status


def sns(message: dict, *, kind: str = "Notification", key=SNS_KEY, version: str = "1", cert_url: str = CERT_URL,
        topic: str = TOPIC, when: datetime = NOW, message_id: str = "e6f1b0a2-0000-4000-8000-000000000001",
        **extra: str) -> bytes:
    """An SNS HTTP(S) delivery as Amazon sends it, signed with ``key``."""
    body = {"Type": kind, "MessageId": message_id, "TopicArn": topic, "Message": json.dumps(message),
            "Timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "SignatureVersion": version,
            "SigningCertURL": cert_url, "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
            **extra}
    names = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type") if kind == "Notification" else \
        ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    signed = "".join(f"{n}\n{body[n]}\n" for n in names if n in body).encode()
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    body["Signature"] = base64.b64encode(key.sign(signed, padding.PKCS1v15(), digest)).decode()
    return json.dumps(body).encode()


def ses_bounce(email: str, bounce_type: str = "Permanent") -> dict:
    return {"notificationType": "Bounce",
            "bounce": {"bounceType": bounce_type, "bounceSubType": "General", "feedbackId": f"fb-{email}",
                       "timestamp": NOW.isoformat(), "bouncedRecipients": [
                           {"emailAddress": email, "action": "failed", "status": "5.1.1",
                            "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
            "mail": {"timestamp": NOW.isoformat(), "messageId": "0102018f-ses", "source": "newsletter@news.example.org",
                     "destination": [email], "commonHeaders": {"messageId": "<x@news.example.org>"}}}


SNS_HEADERS = {"x-amz-sns-message-type": "Notification", "Content-Type": "text/plain; charset=UTF-8"}


class TestSes:
    def test_a_signed_bounce_and_complaint_suppress_the_address(self, served) -> None:
        """A Permanent bounce makes the address bounced, a complaint complained; others stay active."""
        url, app, fetcher = served
        assert 200 == post(url, sns(ses_bounce("bounce@example.com")), **SNS_HEADERS)
        complaint = {"notificationType": "Complaint", "complaint": {
            "complainedRecipients": [{"emailAddress": "complain@example.com"}], "complaintFeedbackType": "abuse",
            "feedbackId": "fb-c", "timestamp": NOW.isoformat()}, "mail": {"commonHeaders": {}}}
        assert 200 == post(url, sns(complaint, version="2", message_id="m-2"), **SNS_HEADERS)
        assert ["bounced", "complained", "active"] == [status(app, e) for e in READERS[:2] + ("other@example.com",)]
        assert [CERT_URL] == fetcher.asked             # fetched once, then cached

    def test_forged_replayed_stale_and_foreign_deliveries_are_refused(self, served) -> None:
        """Another key's signature, a changed message, a replay, an old timestamp, another topic, a certificate off amazonaws.com: all 4xx, nothing changes."""
        url, app, fetcher = served
        forged = sns(ses_bounce("bounce@example.com"), key=OTHER_KEY)
        assert 403 == post(url, forged, **SNS_HEADERS)
        changed = json.loads(sns(ses_bounce("other@example.com")))
        changed["Message"] = json.dumps(ses_bounce("bounce@example.com"))
        assert 403 == post(url, json.dumps(changed).encode(), **SNS_HEADERS)
        assert 403 == post(url, sns(ses_bounce("bounce@example.com"), when=NOW - timedelta(hours=3)), **SNS_HEADERS)
        assert 403 == post(url, sns(ses_bounce("bounce@example.com"), topic=TOPIC + "-x"), **SNS_HEADERS)
        evil = "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem"
        assert 403 == post(url, sns(ses_bounce("bounce@example.com"), cert_url=evil), **SNS_HEADERS)
        assert evil not in fetcher.asked
        assert "active" == status(app, "bounce@example.com")
        genuine = sns(ses_bounce("soft@example.com", "Transient"), message_id="m-soft")
        assert 200 == post(url, genuine, **SNS_HEADERS)
        assert 409 == post(url, genuine, **SNS_HEADERS)
        assert "active" == status(app, "soft@example.com")   # one soft bounce is not enough

    def test_a_subscription_is_confirmed(self, served) -> None:
        """A signed SubscriptionConfirmation for a configured topic makes masthead visit its SubscribeURL."""
        url, _, fetcher = served
        subscribe = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"
        body = sns({}, kind="SubscriptionConfirmation", Token="abc", SubscribeURL=subscribe)
        assert 200 == post(url, body, **{**SNS_HEADERS, "x-amz-sns-message-type": "SubscriptionConfirmation"})
        assert subscribe in fetcher.asked


def postmark_auth(app: App, password: str | None = None) -> str:
    secret = password or hook_password(app.site.secret)
    return "Basic " + base64.b64encode(f"masthead:{secret}".encode()).decode()


def postmark(email: str, record: str = "Bounce", type_: str = "HardBounce", code: int = 1, id_: int = 4323372036) -> bytes:
    return json.dumps({"RecordType": record, "ID": id_, "Type": type_, "TypeCode": code, "Tag": "", "MessageID": "883953f4",
                       "ServerID": 23, "MessageStream": "outbound", "Description": "The server was unable to deliver",
                       "Details": "smtp;550 5.1.1 unknown", "Email": email, "From": "newsletter@news.example.org",
                       "BouncedAt": NOW.isoformat(), "Inactive": True, "CanActivate": True}).encode()


class TestPostmark:
    def test_bounces_and_complaints_with_the_url_credentials(self, served) -> None:
        """With the URL's basic-auth password a HardBounce bounces the address and a SpamComplaint marks it complained."""
        url, app, _ = served
        assert 200 == post(url, postmark("bounce@example.com"), Authorization=postmark_auth(app))
        complaint = postmark("complain@example.com", "SpamComplaint", "SpamComplaint", 100001, 99)
        assert 200 == post(url, complaint, Authorization=postmark_auth(app))
        assert ["bounced", "complained"] == [status(app, e) for e in READERS[:2]]

    def test_wrong_credentials_and_replays_are_refused(self, served) -> None:
        """A wrong password, no credentials, or the same event again: 403 / 409, nothing changes."""
        url, app, _ = served
        assert 403 == post(url, postmark("bounce@example.com"), Authorization=postmark_auth(app, "guess"))
        assert 403 == post(url, postmark("bounce@example.com"), **{"Content-Type": "application/json"})
        assert "active" == status(app, "bounce@example.com")
        soft = postmark("soft@example.com", type_="SoftBounce", code=4096, id_=7)
        assert 200 == post(url, soft, Authorization=postmark_auth(app))
        assert 409 == post(url, soft, Authorization=postmark_auth(app))


def mailgun(event: dict, *, key: str = MAILGUN_KEY, when: datetime = NOW, token: str = "a" * 50) -> bytes:
    timestamp = str(int(when.timestamp()))
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"signature": {"timestamp": timestamp, "token": token, "signature": signature},
                       "event-data": event}).encode()


def mailgun_failed(email: str, severity: str = "permanent") -> dict:
    return {"id": f"ev-{email}", "event": "failed", "severity": severity, "reason": "bounce", "recipient": email,
            "timestamp": NOW.timestamp(), "message": {"headers": {"to": email, "message-id": "x@news.example.org",
                                                                  "from": "newsletter@news.example.org", "subject": "s"}},
            "delivery-status": {"code": 550, "enhanced-code": "5.1.1", "message": "No such user",
                                "description": "550 5.1.1 The email account that you tried to reach does not exist"}}


class TestMailgun:
    def test_failed_and_complained_events(self, served) -> None:
        """A signed permanent failure bounces the address, a complained event marks it complained."""
        url, app, _ = served
        assert 200 == post(url, mailgun(mailgun_failed("bounce@example.com")), **{"Content-Type": "application/json"})
        complained = {"id": "ev-c", "event": "complained", "recipient": "complain@example.com",
                      "message": {"headers": {"message-id": "y@news.example.org"}}}
        assert 200 == post(url, mailgun(complained, token="b" * 50), **{"Content-Type": "application/json"})
        assert ["bounced", "complained"] == [status(app, e) for e in READERS[:2]]

    def test_forged_stale_and_replayed_events_are_refused(self, served) -> None:
        """Another key, a timestamp hours old, or a token used before: 403 / 409, nothing changes."""
        url, app, _ = served
        json_type = {"Content-Type": "application/json"}
        assert 403 == post(url, mailgun(mailgun_failed("bounce@example.com"), key="key-guess"), **json_type)
        assert 403 == post(url, mailgun(mailgun_failed("bounce@example.com"), when=NOW - timedelta(hours=2)), **json_type)
        assert "active" == status(app, "bounce@example.com")
        genuine = mailgun(mailgun_failed("soft@example.com", "temporary"), token="c" * 50)
        assert 200 == post(url, genuine, **json_type)
        assert 409 == post(url, genuine, **json_type)

    def test_other_requests_are_refused_clearly(self, served) -> None:
        """A GET, or a POST from no known provider, gets a 4xx with a plain explanation."""
        url, _, _ = served
        with pytest.raises(urllib.error.HTTPError) as got:
            urllib.request.urlopen(url)
        got.value.close()
        assert 405 == got.value.code
        assert 403 == post(url, b'{"hello": "world"}', **{"Content-Type": "application/json"})
