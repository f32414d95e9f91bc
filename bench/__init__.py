"""Benchmarks: ``python -m bench [name ...]`` (``make bench``)."""
from __future__ import annotations

import resource


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
