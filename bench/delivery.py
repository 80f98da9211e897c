"""Delivery throughput to a local SMTP server, and memory as the recipient list grows.

Run: .venv/bin/python bench/delivery.py [--recipients 10000] [--baseline 10000] [--memory 10000,100000]

The digest is the sample publication's real Arabic daily digest (collected,
rendered and planned by ``masthead run`` with no SMTP server), the server a
real aiosmtpd in its own process on 127.0.0.1 that counts what it accepts.

A: masthead's delivery (``delivery.deliver``): one connection, every copy
   recorded in SQLite before the final dot (a durable commit) and after.
B: a plain loop, the usual first attempt: for each recipient open a
   connection, EHLO, ``send_message``, QUIT. Same messages (mail.build_message,
   same tokens), no state kept. Timed in the same run.
C: B's loop on one connection, still without state: how much of A's time is
   the durable record, and what reusing the connection saves by itself.
Far: A and B again through a relay (in the server's process) that holds every
   chunk --latency ms each way, as a server across a network would.
M: peak memory (tracemalloc) of planning a digest for N recipients and
   preparing every copy as delivery does (pending rows read a page at a time,
   token, Recipient; 250 copies spread over the list also built and
   serialised for the wire), for each N in --memory: flat means it does not
   grow with N.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from masthead.config import load_publication, parse_smtp_url
from masthead.pipeline import run
from masthead.records import Recipient
from masthead.send import delivery
from masthead.send import plan as sendplan
from masthead.send.message import build_message
from masthead.state import roster, sends
from masthead.state.db import open_store
from masthead.subscribers import import_csv
from masthead.tokens import load_secret, make_token, unsubscribe_url

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
AR_DIGEST = "ar-news/daily/2022-05-06"          # the seed's day, as the sample publication makes it
# Messages built in the memory check, whatever the list size. The email package
# makes a new header class on every header lookup (headerregistry.__getitem__),
# freed only by the cyclic GC: the number built, not the list, moves that part.
BUILT = 250
SERVER = textwrap.dedent("""
    import asyncio, signal, sys
    from aiosmtpd.controller import Controller
    smtp_port, proxy_port, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    class Count:
        accepted = 0
        async def handle_DATA(self, server, session, envelope):
            Count.accepted += len(envelope.rcpt_tos)
            return "250 2.0.0 Ok: queued"
    async def pump(reader, writer):
        try:
            while data := await reader.read(65536):
                await asyncio.sleep(delay)          # one way across the simulated network
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
    async def relay(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", smtp_port)
        await asyncio.gather(pump(client_reader, server_writer), pump(server_reader, client_writer))
    async def main():
        controller = Controller(Count(), hostname="127.0.0.1", port=smtp_port)
        controller.start()
        proxy = await asyncio.start_server(relay, "127.0.0.1", proxy_port)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        proxy.close()
        controller.stop()
        print(Count.accepted, flush=True)
    asyncio.run(main())
""")


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """aiosmtpd in a child process; ``stop()`` returns how many copies it accepted."""

    def __init__(self, latency_ms: float) -> None:
        self.direct_port, self.slow_port = free_port(), free_port()
        self.port = self.direct_port
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(self.direct_port),
                                      str(self.slow_port), str(latency_ms / 1000)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def far(self) -> Server:
        """Reach the same server through the relay that delays every chunk each way."""
        self.port = self.slow_port
        return self

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        return int(out.strip().splitlines()[-1])


def publication(tmp: Path, recipients: int, label: str):
    """A copy of the sample publication with ``recipients`` subscribers of ar-news, planned."""
    root = tmp / f"{label}-{recipients}"
    shutil.copytree(ROOT / "feeds", root / "feeds")
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", root / "templates")
    pub = load_publication(root)
    readers = root / "readers.csv"
    readers.write_text("email,name,feeds\n" + "".join(f"reader{i:06d}@example.com,قارئ {i},ar-news\n"
                                                       for i in range(recipients)), "utf-8")
    with open_store(pub.state_dir) as store:
        import_csv(store, pub, readers, now=NOW)
    report = run(pub, now=NOW)                     # no SMTP server given: collects, renders and plans
    (planned,) = [d for d in report.deliveries if d.feed == "ar-news"]
    assert planned.pending == recipients, planned
    return pub


def bench_masthead(pub, server: Server) -> tuple[float, int]:
    with open_store(pub.state_dir) as store:
        start = time.perf_counter()
        reports = delivery.deliver(pub, store, [], now=NOW, smtp=parse_smtp_url(server.url))
        elapsed = time.perf_counter() - start
    return elapsed, sum(r.sent for r in reports)


def bench_plain_loop(pub, server: Server, count: int, *, reuse: bool = False) -> tuple[float, int]:
    with open_store(pub.state_dir) as store:
        digest_id = AR_DIGEST
        digest = sendplan.planned_digest(store, digest_id)
        emails = list(islice(roster.active_emails(store, "ar-news"), count))
    secret = load_secret(pub.state_dir)
    sent = 0
    start = time.perf_counter()
    shared = smtplib.SMTP("127.0.0.1", server.port, local_hostname=pub.site.host) if reuse else None
    for email in emails:
        recipient = Recipient(email, None, unsubscribe_url(pub.site.email.unsubscribe_url, make_token(secret, email)))
        msg = build_message(pub, digest, recipient, date=NOW)
        if shared is not None:
            shared.send_message(msg)
        else:
            with smtplib.SMTP("127.0.0.1", server.port, local_hostname=pub.site.host) as smtp:
                smtp.send_message(msg)
        sent += 1
    if shared is not None:
        shared.quit()
    return time.perf_counter() - start, sent


def prepare_all(pub, every: int) -> tuple[int, int]:
    """Plan a digest for every subscriber and prepare each copy as delivery does.

    Pending rows are read a page at a time, with token and Recipient per copy;
    every ``every``-th copy is also built and serialised for the wire (building
    all 100,000 would take minutes and allocates the same per copy).
    Returns (copies, bytes of the messages built).
    """
    secret = load_secret(pub.state_dir)
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
                size += len(delivery.wire_bytes(build_message(pub, digest, recipient, date=NOW)))
            copies += 1
    return copies, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=2_000,
                        help="copies sent by the plain loop (its rate does not depend on the count)")
    parser.add_argument("--memory", default="10000,100000", help="list sizes for the memory check")
    parser.add_argument("--latency", type=float, default=2.0, help="ms each way for the far server")
    parser.add_argument("--far", type=int, default=500, help="copies each way sent to the far server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        pub = publication(tmp, args.recipients, "send")
        far_pub = publication(tmp, args.far, "far")
        server = Server(args.latency)
        try:
            a_time, a_sent = bench_masthead(pub, server)
            b_time, b_sent = bench_plain_loop(pub, server, args.baseline)
            c_time, c_sent = bench_plain_loop(pub, server, args.baseline, reuse=True)
            far_a_time, far_a_sent = bench_masthead(far_pub, server.far())
            far_b_time, far_b_sent = bench_plain_loop(far_pub, server, args.far)
        finally:
            accepted = server.stop()
        size = len(delivery.wire_bytes(build_message(pub, sendplan.planned_digest(
            open_store(pub.state_dir), AR_DIGEST), Recipient(
            "reader@example.com", None, "https://news.example.org/unsubscribe?token=x"), date=NOW)))
        print(f"digest message: {size / 1024:.1f} KB; server accepted {accepted} copies "
              f"(expected {a_sent + b_sent + c_sent + far_a_sent + far_b_sent})")
        print(f"A masthead deliver, one connection, state per copy: {a_sent} copies in {a_time:.1f} s"
              f" = {a_sent / a_time:.0f} msg/s")
        print(f"B plain loop, one connection per message:          {b_sent} copies in {b_time:.1f} s"
              f" = {b_sent / b_time:.0f} msg/s")
        print(f"C plain loop on one connection, no state:         {c_sent} copies in {c_time:.1f} s"
              f" = {c_sent / c_time:.0f} msg/s")
        print(f"A/B throughput: {(a_sent / a_time) / (b_sent / b_time):.2f}x; C/B (connection reuse alone): "
              f"{(c_sent / c_time) / (b_sent / b_time):.2f}x; A minus C per copy (the durable record, and noise): "
              f"{1000 * (a_time / a_sent - c_time / c_sent):.1f} ms")
        print(f"with {args.latency:g} ms each way (a relay delaying every chunk), {args.far} copies: "
              f"A {far_a_sent / far_a_time:.0f} msg/s, B {far_b_sent / far_b_time:.0f} msg/s, "
              f"A/B {(far_a_sent / far_a_time) / (far_b_sent / far_b_time):.2f}x")
        for count in [int(n) for n in args.memory.split(",")]:
            mpub = publication(tmp, count, "memory")
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
