"""Memory of sending as the recipient list grows: it must not grow with the list.

Run: .venv/bin/python bench/delivery.py [--memory 10000,100000]

Throughput (masthead send against plain smtplib, near and far servers) is
measured by ``bench/targets.py --only sending`` (bench/targets_sending.py).

The digest is the sample publication's real Arabic daily digest (collected,
rendered and planned by ``masthead run`` with no SMTP server).
M: peak memory (tracemalloc) of planning a digest for N recipients and
   preparing every copy as delivery does (pending rows read a page at a time,
   token, Recipient; 250 copies spread over the list also put together from
   the digest's stencil for the wire), for each N in --memory: flat means it
   does not grow with N.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from targets_sending import publication as planned_publication

from masthead.records import Recipient
from masthead.send import plan as sendplan
from masthead.send.copies import Stencils
from masthead.state import roster, sends
from masthead.state.db import open_store
from masthead.tokens import load_secret, make_token, unsubscribe_url

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
AR_DIGEST = "ar-news/daily/2022-05-06"          # the seed's day, as the sample publication makes it
# Messages built in the memory check, whatever the list size. The email package
# makes a new header class on every header lookup (headerregistry.__getitem__),
# freed only by the cyclic GC: the number built, not the list, moves that part.
BUILT = 250


def prepare_all(pub, every: int) -> tuple[int, int]:
    """Plan a digest for every subscriber and prepare each copy as delivery does.

    Pending rows are read a page at a time, with token and Recipient per copy;
    every ``every``-th copy is also built and serialised for the wire (building
    all 100,000 would take minutes and allocates the same per copy).
    Returns (copies, bytes of the messages built).
    """
    secret = load_secret(pub.state_dir)
    stencils = Stencils()
    copies = size = 0
    with open_store(pub.state_dir) as store:
        planned = sendplan.planned_digest(store, AR_DIGEST)
        digest = replace(planned, id=AR_DIGEST + "-again")
        sendplan.plan(store, digest, now=NOW)
        for email in sends.pending(store, digest.id):
            standing = roster.standing(store, email, digest.feed)
            name = standing.name if standing else None
            recipient = Recipient(email, name, unsubscribe_url(pub.site.email.unsubscribe_url,
                                                                make_token(secret, email)))
            if copies % every == 0:
                size += len(stencils.get(pub, digest, date=NOW, utf8=False).copy(recipient)[0])
            copies += 1
    return copies, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memory", default="10000,100000", help="list sizes for the memory check")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for count in [int(n) for n in args.memory.split(",")]:
            mpub = planned_publication(tmp / f"memory-{count}", count)
            tracemalloc.start()
            start = time.perf_counter()
            copies, total = prepare_all(mpub, every=max(1, count // BUILT))
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"M plan + prepare {copies:>7} copies ({BUILT} built: {total / 1e6:.1f} MB) "
                  f"in {elapsed:.1f} s: peak traced memory {peak / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
