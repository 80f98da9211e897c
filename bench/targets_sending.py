"""Sending: ``masthead send`` beside a plain smtplib loop on one reused connection, messages per second.

Both sides send the sample publication's Arabic daily digest to the same
number of subscribers, each copy personalised (name, unsubscribe URL), to the
same aiosmtpd server running in its own process on 127.0.0.1:

- near: aiosmtpd as it ships (it does not offer PIPELINING);
- far:  a relay that waits 20 ms in handle_DATA before answering each message,
  as a server across a network does, and offers PIPELINING in its EHLO, as
  Postfix, Exim and the big providers' relays do (aiosmtpd reads pipelined
  commands in order, but does not advertise the extension by itself).

The baseline is what a user writes without masthead: ``build_message`` for
each reader, then ``smtplib.SMTP.send_message`` over one connection kept open.
masthead's side is ``delivery.deliver`` as ``masthead send`` runs it: every
copy claimed and marked in SQLite before its final dot, ``[email]
connections`` parallel connections (16 here: a relay across a network is
waited on per message), PIPELINING where offered.

Run alone: .venv/bin/python bench/targets.py --only sending [--quick] [--rounds 5]
(--quick: 120 and 150 copies, at most 3 rounds; otherwise 1,000 and 400 copies.)
Profile masthead's side: .venv/bin/python bench/targets_sending.py --profile [near|far] [CONNECTIONS]
"""

from __future__ import annotations

import shutil
import signal
import smtplib
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ratio import PYTHON, ROOT, Result, interleaved

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
AR_DIGEST = "ar-news/daily/2022-05-06"          # the seed's day, as the sample publication makes it
CONNECTIONS = 16
DELAY_MS = 20
SERVER = textwrap.dedent("""
    import asyncio, signal, sys
    from aiosmtpd.controller import Controller
    near_port, far_port, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    class Count:
        accepted = 0
        def __init__(self, delay, pipelining):
            self.delay, self.pipelining = delay, pipelining
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            if self.pipelining:
                responses.insert(-1, "250-PIPELINING")
            return responses
        async def handle_DATA(self, server, session, envelope):
            if self.delay:
                await asyncio.sleep(self.delay)
            Count.accepted += len(envelope.rcpt_tos)
            return "250 2.0.0 Ok: queued"
    async def main():
        near = Controller(Count(0.0, False), hostname="127.0.0.1", port=near_port)
        far = Controller(Count(delay, True), hostname="127.0.0.1", port=far_port)
        near.start()
        far.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        near.stop()
        far.stop()
        print(Count.accepted, flush=True)
    asyncio.run(main())
""")


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Servers:
    """Both aiosmtpd servers in one child process; ``stop()`` returns how many copies they accepted."""

    def __init__(self) -> None:
        self.near, self.far = free_port(), free_port()
        self.proc = subprocess.Popen([PYTHON, "-c", SERVER, str(self.near), str(self.far), str(DELAY_MS / 1000)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        return int(out.strip().splitlines()[-1])


def publication(root: Path, recipients: int, connections: int = CONNECTIONS):  # type: ignore[no-untyped-def]
    """A copy of the sample publication with ``recipients`` subscribers of ar-news, its digest planned."""
    from masthead.config import load_publication
    from masthead.pipeline import run
    from masthead.state.db import open_store
    from masthead.subscribers import import_csv

    shutil.copytree(ROOT / "feeds", root / "feeds")
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", root / "templates")
    site = root / "feeds" / "site.toml"
    site.write_text(site.read_text("utf-8").replace("[email]\n", f"[email]\nconnections = {connections}\n", 1),
                    "utf-8")
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


class Sides:
    """The two senders over one publication; each round sends a freshly planned copy of the digest."""

    def __init__(self, pub, recipients: int) -> None:  # type: ignore[no-untyped-def]
        from masthead.send import plan as sendplan
        from masthead.state import roster
        from masthead.state.db import open_store

        self.pub, self.recipients, self.round = pub, recipients, 0
        with open_store(pub.state_dir) as store:
            self.digest = sendplan.planned_digest(store, AR_DIGEST)
            self.readers = [(email, roster.standing(store, email, "ar-news").name)  # type: ignore[union-attr]
                            for email in roster.active_emails(store, "ar-news")]
        assert self.digest is not None and len(self.readers) == recipients

    def masthead(self, port: int) -> float:
        """Messages per second of ``delivery.deliver`` (as ``masthead send`` runs it) for a new digest."""
        from masthead.config import parse_smtp_url
        from masthead.send import delivery
        from masthead.send import plan as sendplan
        from masthead.state.db import open_store

        self.round += 1
        with open_store(self.pub.state_dir) as store:
            if self.round > 1:                       # the first round sends the digest the run planned
                sendplan.plan(store, replace(self.digest, id=f"{AR_DIGEST}-round-{self.round}"), now=NOW)
            start = time.perf_counter()
            reports = delivery.deliver(self.pub, store, [], now=NOW, smtp=parse_smtp_url(f"smtp://127.0.0.1:{port}"))
            elapsed = time.perf_counter() - start
        sent = sum(r.sent for r in reports)
        assert sent == self.recipients, (sent, reports)
        return sent / elapsed

    def smtplib(self, port: int) -> float:
        """Messages per second of build_message + send_message per reader over one reused connection."""
        from masthead.records import Recipient
        from masthead.send.message import build_message
        from masthead.tokens import load_secret, make_token, unsubscribe_url

        secret = load_secret(self.pub.state_dir)
        url = self.pub.site.email.unsubscribe_url
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port, local_hostname=self.pub.site.host) as smtp:
            for email, name in self.readers:
                recipient = Recipient(email, name, unsubscribe_url(url, make_token(secret, email, "ar-news")))
                smtp.send_message(build_message(self.pub, self.digest, recipient, date=NOW))
        return len(self.readers) / (time.perf_counter() - start)


def measure(rounds: int, quick: bool, pub: Path) -> list[Result]:
    sys.path.insert(0, str(ROOT / "src"))
    near_count, far_count = (120, 150) if quick else (1000, 400)
    rounds = min(rounds, 3) if quick else rounds             # --quick: for trying the command
    sides = {name: Sides(publication(pub.parent / f"sending-{name}", count), count)
             for name, count in (("near", near_count), ("far", far_count))}
    servers = Servers()
    try:
        near = interleaved(rounds, lambda: sides["near"].masthead(servers.near),
                           lambda: sides["near"].smtplib(servers.near))
        far = interleaved(rounds, lambda: sides["far"].masthead(servers.far),
                          lambda: sides["far"].smtplib(servers.far))
    finally:
        accepted = servers.stop()
    expected = rounds * 2 * (near_count + far_count)
    assert accepted == expected, f"the servers accepted {accepted} copies, {expected} were sent"
    # Result divides ours by theirs, lowest by lowest: with rates, the lowest rates pair up as the slowest rounds.
    return [
        Result(f"sending: masthead send / smtplib reused connection, local aiosmtpd, {near_count} copies, msg/s",
               near[0], near[1], ">= 1.5x", lambda r: r >= 1.5, unit="msg/s",
               note=f"{CONNECTIONS} connections; smtplib {min(near[1]):.0f}-{max(near[1]):.0f} msg/s, "
                    f"masthead {min(near[0]):.0f}-{max(near[0]):.0f}"),
        Result(f"sending: the same, server answering each message after {DELAY_MS} ms, {far_count} copies",
               far[0], far[1], ">= 5x", lambda r: r >= 5, unit="msg/s",
               note=f"{CONNECTIONS} connections, PIPELINING; smtplib {min(far[1]):.0f}-{max(far[1]):.0f} msg/s, "
                    f"masthead {min(far[0]):.0f}-{max(far[0]):.0f}"),
    ]


def profile(which: str, connections: int) -> None:
    """cProfile of masthead's side alone, sorted by own time."""
    import cProfile
    import pstats
    import tempfile

    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory() as tmp:
        count = 1000 if which == "near" else 300
        sides = Sides(publication(Path(tmp) / "pub", count, connections), count)
        servers = Servers()
        try:
            port = servers.near if which == "near" else servers.far
            profiles = [cProfile.Profile()]
            lane = threading.Thread.run

            def profiled(thread: threading.Thread) -> None:      # every connection's thread too
                profiles.append(cProfile.Profile())
                profiles[-1].runcall(lane, thread)

            threading.Thread.run = profiled                      # type: ignore[method-assign]
            rate = profiles[0].runcall(sides.masthead, port)
        finally:
            servers.stop()
        print(f"{rate:.0f} msg/s under the profiler, {len(profiles)} threads")
        stats = pstats.Stats(*profiles)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--profile"]:
        profile((sys.argv[2:3] or ["near"])[0], int((sys.argv[3:4] or [CONNECTIONS])[0]))
    else:
        raise SystemExit(__doc__)
