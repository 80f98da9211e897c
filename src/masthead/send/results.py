"""What a delivery tells its caller, and how hard it tries: per-digest results, refusals, the retry policy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one message in one run before leaving it for the next run."""

    attempts: int = 4             # tries per message (and per connection attempt)
    first_delay: float = 2.0      # seconds before the second try; doubles each time
    max_delay: float = 60.0
    give_up_after: int = 3        # consecutive messages that exhaust their tries stop the run

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** attempt)


@dataclass(frozen=True, slots=True)
class Failure:
    email: str
    reply: str                    # the server's answer, or why it was refused before SMTP


@dataclass(frozen=True, slots=True)
class DigestDelivery:
    """What happened to one digest in this run: what ``masthead run --json`` shows."""

    digest_id: str
    feed: str
    recipients: int               # fixed when the digest was first planned
    sent: int                     # delivered by this run
    already_sent: int             # delivered by earlier runs: skipped
    failed: tuple[Failure, ...]   # refused for good in this run (5xx, or a bad header value)
    pending: int                  # still to send (temporary failures, or not attempted)
    uncertain: int                # left 'sending' by a killed sender: presumed delivered
    cancelled: int                # unsubscribed or bounced before their copy went
    not_sent: str | None = None   # why nothing more could be sent in this run
    in_flight: int = 0            # held right now by other senders (send workers)
    bounced: int = 0              # recipients whose copy bounced so far (at sending, by mail or webhook)
    complained: int = 0           # recipients who marked it as spam so far
    unsubscribed: int = 0         # recipients who left after it arrived

    def to_dict(self) -> dict[str, object]:
        return {"digest": self.digest_id, "feed": self.feed, "recipients": self.recipients,
                "sent": self.sent, "already_sent": self.already_sent,
                "failed": [{"email": f.email, "reply": f.reply} for f in self.failed],
                "pending": self.pending, "uncertain": self.uncertain,
                "cancelled": self.cancelled, "in_flight": self.in_flight, "not_sent": self.not_sent,
                "bounced": self.bounced, "complained": self.complained, "unsubscribed": self.unsubscribed}


DEFAULT_RETRY = RetryPolicy()
