"""`masthead serve` under load, with slow clients holding connections open.

Run: .venv/bin/python bench/serve.py [--clients 200] [--seconds 20] [--slow 5] [--baseline-seconds 8]

The sample publication is built once (``masthead run``) into a temporary
folder, with one subscriber; then, each against a fresh server process on
127.0.0.1:

A: ``masthead serve`` (waitress) while --slow clients hold connections open
   (half the headers sent, then a byte every few seconds; a POST whose body
   never comes), and --clients concurrent clients (keep-alive connections)
   fetch feeds, pages and the unsubscribe confirm page (a signed token)
   for --seconds, each as fast as it is answered.
B: the same load on the same server without the slow clients: what they cost.
C: the old default, wsgiref's single-threaded server with the same app and
   the same load and slow clients, for --baseline-seconds.

Printed per run: requests, errors (non-200 answers, dropped connections),
timeouts (no answer in 5 s), requests per second, latency p50 / p99 / max.
The client is asyncio in this process; the server is its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from masthead.config import load_publication
from masthead.state.db import open_store
from masthead.subscribers.roster import add_subscriber
from masthead.tokens import load_secret, make_token

TIMEOUT = 5.0
WSGIREF = ("import sys; from wsgiref.simple_server import make_server, WSGIRequestHandler; "
           "from masthead.serve import make_app\n"
           "class Quiet(WSGIRequestHandler):\n    def log_message(self, *a): pass\n"
           "make_server('127.0.0.1', int(sys.argv[2]), make_app(sys.argv[1]), handler_class=Quiet).serve_forever()")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(folder: Path) -> tuple[Path, list[str]]:
    """The sample publication built into ``folder``; the paths the clients ask for."""
    pub_dir = folder / "pub"
    shutil.copytree(ROOT / "feeds", pub_dir / "feeds")
    shutil.copytree(ROOT / "templates", pub_dir / "templates")
    env = {**os.environ, "MASTHEAD_SMTP_URL": "", "MASTHEAD_SECRET": "bench-secret-0123456789abcdef"}
    subprocess.run([sys.executable, "-m", "masthead", "run", "--project", str(pub_dir), "--now",
                    "2022-05-07T06:00:00Z", "--quiet"], check=True, env=env, cwd=ROOT)
    pub = load_publication(pub_dir)
    with open_store(pub.state_dir) as store:
        add_subscriber(store, pub, "reader@example.com", feeds=["ar-news"], now=__import__("datetime").datetime(
            2022, 5, 7, tzinfo=__import__("datetime").UTC))
    token = make_token(load_secret(pub.state_dir, env["MASTHEAD_SECRET"]), "reader@example.com", "ar-news")
    static = ["/ar-news/rss.xml", "/ar-news/atom.xml", "/ar-news/feed.json", "/ar-news/", "/en-news/rss.xml",
              "/all/atom.xml", "/feeds.opml", "/"]
    return pub_dir, static + [f"/unsubscribe?token={token}"] * len(static)


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MASTHEAD_SECRET": "bench-secret-0123456789abcdef", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server on port {port} did not start")


async def slow_client(port: int, index: int, stop: float) -> None:
    """Holds a connection with a request that never completes; reconnects when the server closes it."""
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if index % 2:
                writer.write(b"GET /ar-news/rss.xml HTTP/1.1\r\nHost: bench\r\n")
            else:
                writer.write(b"POST /subscribe HTTP/1.1\r\nHost: bench\r\nContent-Length: 9000\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\n\r\nemail=")
            while time.monotonic() < stop and not reader.at_eof():
                writer.write(b"a" if index % 2 == 0 else b"X-Slow: 1\r\n"[: 1 + index % 3])
                await writer.drain()
                await asyncio.sleep(3)
            writer.close()
        except OSError:
            await asyncio.sleep(0.5)


async def client(port: int, paths: list[str], stop: float, results: dict[str, list]) -> None:
    """Keep-alive GETs as fast as they are answered, until ``stop``."""
    reader = writer = None
    rng = random.Random(id(results) ^ port)
    while time.monotonic() < stop:
        path = rng.choice(paths)
        started = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
            assert reader is not None
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: */*\r\n\r\n".encode())
            status = await asyncio.wait_for(read_response(reader), TIMEOUT)
            results["latency"].append(time.monotonic() - started)
            if status != 200:
                results["errors"].append(status)
        except TimeoutError:
            results["timeouts"].append(path)
            writer = _close(writer)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            results["errors"].append(type(exc).__name__)
            writer = _close(writer)
    _close(writer)


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    if length:
        await reader.readexactly(length)
    return status


async def load(port: int, paths: list[str], clients: int, seconds: float, slow: int) -> dict[str, list]:
    results: dict[str, list] = {"latency": [], "errors": [], "timeouts": []}
    stop = time.monotonic() + seconds
    holders = [asyncio.create_task(slow_client(port, i, stop)) for i in range(slow)]
    await asyncio.sleep(1.0 if slow else 0)          # the slow ones are in before the load starts
    stop = time.monotonic() + seconds
    await asyncio.gather(*(client(port, paths, stop, results) for _ in range(clients)))
    for task in holders:
        task.cancel()
    await asyncio.gather(*holders, return_exceptions=True)
    return results


def report(label: str, results: dict[str, list], seconds: float) -> None:
    latency = sorted(results["latency"])
    count = len(latency) + len(results["timeouts"])

    def pct(p: float) -> float:
        return latency[min(len(latency) - 1, int(len(latency) * p))] * 1000 if latency else float("nan")

    print(f"{label}: {count} requests, {len(results['errors'])} errors, {len(results['timeouts'])} timeouts, "
          f"{count / seconds:.0f} req/s, p50 {pct(0.50):.0f} ms, p99 {pct(0.99):.0f} ms, "
          f"max {(latency[-1] * 1000 if latency else float('nan')):.0f} ms")


def run(label: str, command: list[str], port: int, paths: list[str], clients: int, seconds: float,
        slow: int) -> None:
    server = start(command, port)
    try:
        results = asyncio.run(load(port, paths, clients, seconds, slow))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    report(label, results, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--slow", type=int, default=5)
    parser.add_argument("--baseline-seconds", type=float, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pub_dir, paths = build(Path(tmp))
        print(f"{args.clients} clients, {args.slow} slow clients, {len(set(paths))} paths "
              f"(static files and the unsubscribe page), {os.cpu_count()} cores")
        port = free_port()
        serve = [sys.executable, "-m", "masthead", "serve", "--project", str(pub_dir), "--port", str(port)]
        run(f"A masthead serve, {args.slow} slow clients", serve, port, paths, args.clients, args.seconds,
            args.slow)
        port = free_port()
        serve[-1] = str(port)
        run("B masthead serve, no slow clients", serve, port, paths, args.clients, args.seconds, 0)
        port = free_port()
        run(f"C wsgiref (the old default), {args.slow} slow clients",
            [sys.executable, "-c", WSGIREF, str(pub_dir), str(port)], port, paths, args.clients,
            args.baseline_seconds, args.slow)


if __name__ == "__main__":
    main()
