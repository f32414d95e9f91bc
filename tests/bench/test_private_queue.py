"""Benchmarks enqueue into a queue of their own, never the checkout's instance/queue.sqlite."""
import os

from bench import private_queue_url
from bench.submissions import app_env


def test_the_servers_under_benchmark_get_the_runs_own_queue(monkeypatch):
    monkeypatch.delenv("QUEUE_URL", raising=False)
    url = app_env("sqlite:////tmp/bench-survey.sqlite")["QUEUE_URL"]
    assert url == private_queue_url()
    path = url[len("sqlite:///"):]
    assert os.path.basename(os.path.dirname(path)).startswith("bench-queue-")
    assert "instance" not in path.split(os.sep)


def test_a_queue_chosen_by_the_caller_is_kept(monkeypatch):
    monkeypatch.setenv("QUEUE_URL", "redis://queue-host:6379/0")
    assert app_env("sqlite:////tmp/bench-survey.sqlite")["QUEUE_URL"] == "redis://queue-host:6379/0"
