"""Worker processes: the pool that draws charts and the process that fits the cluster model.

Both start their processes with the ``spawn`` method (a fresh interpreter: no copy of the
parent's threads, locks or open files, the same on Linux, macOS and Windows); their
workers leave Ctrl-C to the parent and end as soon as the parent has ended
(:func:`start_worker`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: multiprocessing only when a pool is made
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.pool import Pool

__all__ = ["one_worker", "process_pool", "start_worker", "worker_count"]


def worker_count(jobs: int | None) -> int:
    """The processes ``--jobs`` allows: all cores when None, at least 1.

    Examples
    --------
    >>> worker_count(1), worker_count(0), worker_count(None) >= 1
    (1, 1, True)
    """
    return (os.cpu_count() or 1) if jobs is None else max(1, int(jobs))


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` ``spawn`` processes set up by :func:`start_worker`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
    )


def one_worker() -> Pool:
    """One ``spawn`` process set up by :func:`start_worker`, started at once, for one long
    task. A :class:`multiprocessing.pool.Pool`, not an executor: ``terminate()`` stops
    the task at once on an error or Ctrl-C in the parent (an executor's shutdown waits
    for a running task to end, also at the interpreter's exit)."""
    import multiprocessing

    return multiprocessing.get_context("spawn").Pool(1, initializer=start_worker)


def start_worker() -> None:
    """Set up a worker: Ctrl-C is left to the parent (which stops the pool), and the
    worker exits as soon as its parent is gone, however the parent ended.

    Without this, workers of a parent killed with ``SIGKILL`` stay blocked forever on
    their task queue, which they hold open themselves. ``parent_process().sentinel``
    becomes ready when the parent ends (a pipe's end on POSIX, the process handle on
    Windows).
    """
    import multiprocessing
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_with_parent, args=(parent.sentinel,), daemon=True,
            name="sizecheck-parent-watch",
        ).start()  # fmt: skip


def _exit_with_parent(sentinel: int) -> None:
    """Wait until the parent process has ended, then end this process at once."""
    from multiprocessing.connection import wait as wait_for

    wait_for([sentinel])
    os._exit(1)
