"""The rate limits' embedded storage (surveyapp/limiter_storage.py)."""
import threading
import time

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from surveyapp import limiter_storage
from surveyapp.limiter_storage import SweptMemoryStorage


def test_the_app_limiter_uses_the_swept_storage_by_default():
    from surveyapp import create_app
    from surveyapp.extensions import limiter

    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": True,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "swept-memory://"
    with app.app_context():
        assert isinstance(limiter.storage, SweptMemoryStorage)


def test_limits_hold_as_with_limits_own_memory_storage():
    storage = storage_from_string("swept-memory://")
    limiter = FixedWindowRateLimiter(storage)
    limit = RateLimitItemPerSecond(3, 1)
    assert [limiter.hit(limit, "customer") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "someone else")
    time.sleep(1.1)
    # Past the window: the expired counter is dropped when read, whether or not a sweep ran.
    assert limiter.hit(limit, "customer")


def test_expired_counters_are_swept_at_most_once_per_interval(monkeypatch):
    monkeypatch.setattr(limiter_storage, "SWEEP_SECONDS", 0.2)
    storage = SweptMemoryStorage()
    sweeps = []
    original = storage._MemoryStorage__expire_events

    def counted_sweep():
        sweeps.append(time.monotonic())
        original()

    monkeypatch.setattr(storage, "_MemoryStorage__expire_events", counted_sweep)
    storage.timer.join()  # limits' first one-off timer
    started = time.monotonic()
    while time.monotonic() - started < 1.0:  # a busy second of requests
        storage.incr(f"visitor-{len(sweeps)}-{time.monotonic()}", expiry=0.05)
        time.sleep(0.002)
    storage.timer.join()
    # limits' own memory:// would have swept about a hundred times in that second.
    assert 3 <= len(sweeps) <= 7
    assert all(later - earlier >= 0.19 for earlier, later in zip(sweeps, sweeps[1:]))
    # One more request after they all expired: its sweep removes them without reading them.
    time.sleep(0.1)
    storage.incr("last visitor", expiry=0.05)
    storage.timer.join()
    assert not storage.expirations and not storage.storage


def test_a_waiting_sweep_does_not_hold_up_exit():
    storage = SweptMemoryStorage()
    storage.timer.join()  # limits' first one-off timer
    storage.incr("key", expiry=60)
    assert storage.timer.daemon
    assert isinstance(storage.timer, threading.Timer)
