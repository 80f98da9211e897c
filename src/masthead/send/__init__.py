"""Stage 4, send: digests to subscribers over SMTP, each copy exactly once.

Owns the message (message.py: headers, placeholders, bodies; wire.py: its
bytes and address on the wire; copies.py: each reader's copy put together
from the digest's message serialised once), DKIM keys and signing (dkim.py),
the parallel connections of one sender sharing its pace (lanes.py), the SMTP
connection that knows how each copy ended and signs what it sends (smtp.py),
the plan of who gets a digest (plan.py), delivery itself with a return path
per copy (delivery.py; its results and retry policy: results.py), the send
workers that share it across machines
(claims.py, worker.py), and the delivery report page (report.py).

Imports: the shared vocabulary (records, errors, config, tokens) and state.
Never collect, feeds, digest, subscribers, web, the pipeline or the CLI.
"""

from typing import Any

__all__ = ["DigestDelivery", "RetryPolicy", "deliver"]


def __getattr__(name: str) -> Any:
    if name in __all__:      # the SMTP client and TLS load with delivery, not with the message alone
        from . import delivery
        return getattr(delivery, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
