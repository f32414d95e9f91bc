"""Pausing Python's cyclic garbage collector while a bulk read builds its rows.

A chunk of an export or of the analysis frame is tens of thousands of row
tuples from the driver, then their transposition into columns. Each
allocation counts towards the collector's thresholds, and the collections
they trigger walk every tracked object, including all the rows built so far:
on 100k responses that was 25-45 % of the read (0.82 -> 0.46 CPU s, measured
with ``bench exports --one read``). Rows hold only numbers, strings and bytes,
so no reference cycle is made while the collector waits; it runs again as soon
as the chunk is built. CPython's own ``timeit`` pauses it the same way.

The collector is one per process, so the pause is counted: with several
threads reading at once (the export's read-ahead thread beside a request) the
collector is enabled again when the last of them leaves, and never if it was
off before the first came (a caller that disabled it on purpose keeps it off).
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic garbage collection inside the block (reference counting still frees)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
