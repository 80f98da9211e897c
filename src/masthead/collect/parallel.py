"""Reading many changed files on every core: what makes the cold collect of a large archive fast.

Reading and normalising a file is pure work on its bytes, the costliest part
of collecting; ``Readers.read`` takes a batch of files to read and gives each
one's outcome in the batch's order. A batch of PARALLEL_MIN files or more is
spread over worker processes, one per usable core, when there is more than
one and this process runs no other thread (forking a threaded process may
copy a lock another thread holds); everything else is read here, in order.
Either way a file gives the same outcome: what the file cache keeps of it,
which the collector turns into articles as it does for a file read on an
earlier run.

The workers are forked when a collect has a large batch to read: they start
at once and share the code already loaded. A worker closes its
copy of the publication's lock file straight away and exits within half a
second of its run's death (kill -9), so it never holds the lock against the
next run, and it never touches the run's database connection.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:            # concurrent.futures (and logging) load only when workers start
    from concurrent.futures import Executor, Future

PARALLEL_MIN = 64        # files to read in one batch before workers are worth starting
CHUNK = 16               # files handed to a worker at a time
AHEAD = 4                # chunks handed out per worker before their outcomes are taken
MAX_WORKERS = 8

Job = tuple[Any, ...]    # the reading function's arguments after its shared ones
Read = Callable[..., Any]


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                       # not Linux
        return os.cpu_count() or 1


class Readers:
    """Runs ``read(*shared, *job)`` for each job of a batch; on worker processes when the batch is large.

    ``workers``: processes to use (None: one per usable core, at most
    MAX_WORKERS; 1: none, every file is read here). ``closing``: file
    descriptors a worker closes as it starts (the publication's lock).
    """

    def __init__(self, read: Read, shared: tuple[Any, ...], workers: int | None = None,
                 closing: Sequence[int] = ()):
        self.read, self.shared, self.closing = read, shared, tuple(closing)
        self.workers = min(usable_cores(), MAX_WORKERS) if workers is None else max(1, workers)
        self._pool: Executor | None = None

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def parallel(self) -> bool:
        """Whether a large batch goes to worker processes: cores to spare, and no thread but this one."""
        return self.workers > 1 and threading.active_count() == 1 and hasattr(os, "fork")

    def read_all(self, jobs: Sequence[Job]) -> Iterator[Any]:
        """Each job's outcome, in the order of ``jobs``, as it comes."""
        if len(jobs) < PARALLEL_MIN or not self.parallel:
            return (self.read(*self.shared, *job) for job in jobs)
        return self._in_order(self._start(), jobs)

    def _in_order(self, pool: Executor, jobs: Sequence[Job]) -> Iterator[Any]:
        """The outcomes of ``jobs`` read by ``pool``, a few chunks ahead of the caller and no more.

        Outcomes wait in this process until they are taken: with every chunk
        handed out at once, a large archive's records would all pile up here.
        """
        starts = iter(range(0, len(jobs), CHUNK))
        ahead: deque[Future[list[Any]]] = deque()

        def hand_out() -> None:
            start = next(starts, None)
            if start is not None:
                ahead.append(pool.submit(_read_chunk, jobs[start:start + CHUNK]))

        for _ in range(AHEAD * self.workers):
            hand_out()
        while ahead:
            outcomes = ahead.popleft().result()
            hand_out()
            yield from outcomes

    def _start(self) -> Executor:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start,
                initargs=(self.read, self.shared, os.getpid(), self.closing))
        return self._pool


_work: tuple[Read, tuple[Any, ...]] | None = None     # in a worker: the reading function and its shared arguments


def _worker_start(read: Read, shared: tuple[Any, ...], parent: int, closing: tuple[int, ...]) -> None:
    global _work
    _work = (read, shared)
    for fd in closing:                   # the lock stays with the run's own descriptor
        try:
            os.close(fd)
        except OSError:
            pass
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="masthead-parent-watch").start()


def _read_chunk(jobs: Sequence[Job]) -> list[Any]:
    assert _work is not None
    read, shared = _work
    return [read(*shared, *job) for job in jobs]


def _watch(parent: int) -> None:
    """In a worker: exit as soon as the run that started it is gone (its children pass to another parent)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
