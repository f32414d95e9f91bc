"""The rate limits' embedded storage: limits' ``memory://`` with a sweep once a second.

``memory://`` (limits.storage.MemoryStorage) removes expired counters on a
timer that it restarts 10 ms after each one while requests come in, and each
run walks every counter it holds. Each customer leaves counters for up to an
hour (the per-hour survey and login limits), so at the issue-14 rate of 20
questionnaires a second a worker holds tens of thousands of them, and the
walk (0.8 ms at 10,000 counters, 12 ms at 50,000, measured on this machine)
would run a hundred times a second: more than a core, from the counters alone.

Sweeping once a second costs 1 % of that and changes no limit: a counter past
its expiry is dropped when it is next read (``MemoryStorage.get``), so the
sweep only returns the memory of counters nobody reads again. The scheme is
``swept-memory://``, the default of ``RATELIMIT_STORAGE_URI``; production
sets that to Redis (README), where the server expires keys itself.

The sweep interval is set through limits' (private) scheduling method; a
test counts the sweeps, so an upstream change that bypasses it shows up there.
"""
from __future__ import annotations

import threading

from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose expired counters are swept at most every :data:`SWEEP_SECONDS`."""

    STORAGE_SCHEME = ["swept-memory"]

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the 10 ms timer
        if not self.timer.is_alive():
            self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)
            # A waiting sweep must not hold up the process's exit.
            self.timer.daemon = True
            self.timer.start()
