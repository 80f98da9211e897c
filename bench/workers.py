"""Send workers: messages per second with 1, 2 and 4 workers on PostgreSQL, against a server that takes 20 ms.

Run: .venv/bin/python bench/workers.py [COPIES] [ROUNDS] [--batch N] [--delay MS]
     (600 copies, 3 rounds, batches of 10, 20 ms by default; needs the PostgreSQL
     server binaries and psycopg, as the tests do)

The state is in a throwaway PostgreSQL server (tests/pgserver.py); the mail
server is aiosmtpd in its own process on 127.0.0.1 that waits --delay ms (20)
before answering each message, as a real server that writes to disk and scans
the mail would, and notes when it accepted each one. The digest is the sample
publication's Arabic daily, made by ``masthead run --no-send``;
each measurement plans it again under a new id for COPIES subscribers and
starts N ``masthead send --worker --batch N`` processes. Batches are small
beside the list so that the last ones do not leave workers idle (with 300
copies in batches of 50, four workers would share six batches: the last two
go at half speed).

Rounds are interleaved (1, 2, 4 workers, then again); for each N it prints
messages per second, min and median over the rounds, two ways: from the
first to the last message the server accepted (the sending itself), and from
starting the workers to the last of them exiting (with each process's start).
The baseline is one worker in the same run: the ratios are N workers' rate
over one worker's. One connection can do at most 1000/delay messages a second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.pgserver import PgServer, free_port

from masthead.config import load_publication
from masthead.pipeline import run
from masthead.state import roster, sends
from masthead.state.db import open_store

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)
SAMPLE_DIGEST = "ar-news/daily/2022-05-06"
WORKERS = (1, 2, 4)
SECRET = "bench-secret-shared-by-every-worker"
SERVER = textwrap.dedent("""
    import asyncio, signal, sys, time
    from aiosmtpd.controller import Controller
    port, delay, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    class Slow:
        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(delay)              # the server's own work on each message
            with open(log, "a") as out:
                out.write(f"{time.monotonic()}\\n")
            return "250 2.0.0 Ok: queued"
    controller = Controller(Slow(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM})
    controller.stop()
""")


def prepare(folder: Path, url: str, copies: int) -> tuple[Path, list[str], str]:
    """The sample publication with ``copies`` subscribers, its digest planned; (folder, addresses, content)."""
    shutil.copytree(ROOT / "feeds", folder / "feeds")
    shutil.copytree(ROOT / "templates", folder / "templates")
    pub = load_publication(folder)
    run(pub, now=NOW, database=url, secret=SECRET.encode(), send=False)    # planned for nobody yet
    emails = [f"reader{i:05d}@example.com" for i in range(copies)]
    with open_store(pub.state_dir, url) as store:
        with store.transaction():
            for email in emails:
                roster.upsert(store, email, "قارئ", ("ar-news",), NOW, resubscribe=False)
        content = sends.planned_content(store, SAMPLE_DIGEST)
    assert content is not None
    return folder, emails, content


def measure(folder: Path, url: str, emails: list[str], content: str, log: Path, workers: int,
            smtp_port: int, label: str, batch: int) -> tuple[float, float]:
    """Plan the digest again as ``label`` and let ``workers`` workers send it; (sending rate, whole rate)."""
    data = json.loads(content)
    data["id"] = label
    with open_store(folder / ".masthead", url) as store:
        sends.plan(store, label, emails, json.dumps(data, ensure_ascii=False), now=NOW)
    log.write_text("")
    env = {**os.environ, "MASTHEAD_DATABASE_URL": url, "MASTHEAD_SECRET": SECRET,
           "MASTHEAD_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "masthead", "send", "--worker", "--batch", str(batch),
                               "--project", str(folder), "--now", "2022-05-07T06:00:00Z"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed ({proc.returncode}):\n{err}")
    whole = time.monotonic() - started
    accepted = [float(line) for line in log.read_text().split()]
    if len(accepted) != len(emails):
        raise SystemExit(f"the server accepted {len(accepted)} messages, not {len(emails)}")
    return (len(accepted) - 1) / (accepted[-1] - accepted[0]), len(accepted) / whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("copies", nargs="?", type=int, default=600)
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    parser.add_argument("--batch", type=int, default=10, help="copies a worker claims at a time")
    parser.add_argument("--delay", type=float, default=20.0, help="ms the server waits on each message")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="masthead-bench-workers-"))
    smtp_port = free_port()
    log = work / "accepted.log"
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(smtp_port), str(args.delay / 1000), str(log)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        with PgServer() as pg:
            url = pg.create_database()
            folder, emails, content = prepare(work / "pub", url, args.copies)
            rates: dict[int, list[tuple[float, float]]] = {n: [] for n in WORKERS}
            for round_ in range(args.rounds):
                for n in WORKERS:
                    rates[n].append(measure(folder, url, emails, content, log, n, smtp_port,
                                            f"bench/{round_}/{n}", args.batch))
                    print(f"round {round_ + 1}, {n} worker(s): {rates[n][-1][0]:6.1f} msg/s sending, "
                          f"{rates[n][-1][1]:6.1f} msg/s with start-up", flush=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.copies} copies per measurement in batches of {args.batch}, server delay {args.delay:.0f} ms "
          f"(one connection: at most {1000 / args.delay:.0f} msg/s), {args.rounds} interleaved rounds")
    for which, name in ((0, "sending (first to last accepted)"), (1, "whole (workers started to all exited)")):
        base = statistics.median(r[which] for r in rates[1])
        base_min = min(r[which] for r in rates[1])
        print(f"{name}:")
        for n in WORKERS:
            values = [r[which] for r in rates[n]]
            print(f"  {n} worker(s): min {min(values):6.1f}  median {statistics.median(values):6.1f} msg/s"
                  f"   x{statistics.median(values) / base:4.2f} of one worker (median), "
                  f"x{min(values) / base_min:4.2f} (min)")


if __name__ == "__main__":
    main()
