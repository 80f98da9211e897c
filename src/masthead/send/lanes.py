"""Several SMTP connections at once (``[email] connections``): one sender per connection, each a thread.

A relay answers each message after it has queued it, which takes it tens of
milliseconds across a network; one connection waits through every one of
those answers. Each lane is a complete sender of its own (delivery.Sender):
its own connection, its own connection to the state database
(``Store.another``) and its own name for its claims, so exactly once holds
between lanes exactly as it holds between send workers on many machines:
each copy is claimed in batches and marked 'sending' by a compare-and-set
before its final dot, on the lane that sends it. A process killed at any
moment leaves at most one copy 'sending' (uncertain) per connection.

The lanes share one pace (``[email] rate_per_minute`` is the sender's limit,
not each connection's) and, on SQLite, take turns at writing through one
lock in this process. The threads mostly wait on sockets; building a copy
holds the interpreter for a fraction of a millisecond.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..state.db import Store

T = TypeVar("T")


@dataclass
class Pacer:
    """Messages start at least ``interval`` seconds apart, across every connection of one sender."""

    interval: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = self.clock()
            start = now if self.next_start is None else max(now, self.next_start)
            self.next_start = start + self.interval
        if start > now:
            self.sleep(start - now)


def run_lanes(store: Store, count: int, lane: Callable[[Store, int, threading.Event], T]) -> list[T]:
    """``lane(store, number, abort)`` on ``count`` threads, each with its own connection to the state.

    A single lane runs in the calling thread on ``store`` itself. When a lane fails,
    ``abort`` is set (lanes stop taking copies) and its error is raised here
    once every lane has finished.
    """
    abort = threading.Event()
    if count <= 1:
        return [lane(store, 0, abort)]
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            own = store.another()          # in the thread that uses it (sqlite3 wants that)
            try:
                results[number] = lane(own, number, abort)
            finally:
                own.close()
        except BaseException as exc:       # raised again in the calling thread
            errors.append(exc)
            abort.set()

    threads = [threading.Thread(target=run, args=(n,), name=f"masthead-lane-{n}", daemon=True)
               for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        abort.set()                         # Ctrl-C: every lane finishes the copy at hand
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]
    return [result for result in results if result is not None]
