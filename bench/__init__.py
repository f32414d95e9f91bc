"""Benchmarks: ``python -m bench [name ...]`` (``make bench``)."""
from __future__ import annotations

import atexit
import os
import resource
import shutil
import tempfile

_private_queue: str | None = None


def private_queue_url() -> str:
    """``QUEUE_URL`` of this benchmark run: a queue file of its own, removed at exit.

    The benchmarks' responses enqueue real tasks (a recovery case per unhappy
    customer, moment updates) that no worker runs during the benchmark. Left
    in the checkout's default ``instance/queue.sqlite``, they piled up (2,493
    after three ``make bench`` runs) and ``make run``'s worker would have run
    them against the development database, whose rows those ids do not name.
    """
    global _private_queue
    if _private_queue is None:
        directory = tempfile.mkdtemp(prefix="bench-queue-")
        atexit.register(shutil.rmtree, directory, True)
        _private_queue = f"sqlite:///{os.path.join(directory, 'queue.sqlite')}"
    return _private_queue


def peak_rss_mb() -> float:
    """Peak resident memory of this process's address space, in MB.

    ``VmHWM`` of ``/proc/self/status`` starts afresh with each program (the
    high-water mark of the new address space), whereas ``ru_maxrss`` is kept
    across ``execve`` and would report a large parent's size in a fresh
    subprocess. Falls back to ``ru_maxrss`` where there is no ``/proc``.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
