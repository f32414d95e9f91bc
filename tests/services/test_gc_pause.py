"""The collector pause of bulk reads (surveyapp/services/gc_pause.py)."""
import gc
import threading

import pytest

from surveyapp.services.gc_pause import gc_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_the_collector_is_off_inside_and_on_again_after(collector_on):
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_comes_back_after_an_error(collector_on):
    with pytest.raises(RuntimeError):
        with gc_paused():
            raise RuntimeError("read failed")
    assert gc.isenabled()


def test_a_collector_switched_off_on_purpose_stays_off(collector_on):
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_of_two_threads_end_with_the_last(collector_on):
    inside, leave = threading.Event(), threading.Event()

    def other_reader():
        with gc_paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other_reader)
    with gc_paused():
        thread.start()
        inside.wait(5)
    # This thread has left; the other is still reading.
    assert not gc.isenabled()
    leave.set()
    thread.join(5)
    assert gc.isenabled()
