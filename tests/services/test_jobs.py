"""The job queue's bookkeeping: claim once, heartbeat, requeue a stopped worker's job, results, access."""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from surveyapp.models import Job, JobStatus, Role, SurveyShare, utcnow
from surveyapp.services import jobs
from surveyapp.services.jobs import (JobError, execute_job, job_for, purge_finished, requeue_stalled,
                                     result_file, start_job)


@pytest.fixture
def researcher(make_user):
    return make_user("job-owner")


def _export(user, survey, fmt="csv", **extra):
    return start_job("export", user=user, survey=survey,
                     params={"format": fmt, "args": [], "lang": "en", **extra})


def test_an_export_job_runs_to_a_file(db, seeded_survey, researcher):
    job = _export(researcher, seeded_survey)
    assert job.status == JobStatus.DONE.value and job.progress == 1.0 and job.attempts == 1
    path = result_file(job)
    assert path is not None and path.read_bytes().startswith("\ufeffresponse_id".encode())
    assert job.result_name.endswith("-responses.csv") and job.result["filter"] == "complete responses"


def test_a_message_delivered_twice_runs_once(db, seeded_survey, researcher, monkeypatch):
    job = _export(researcher, seeded_survey)
    calls = []
    monkeypatch.setitem(jobs._RUNNERS, "export", lambda *args: calls.append(args))
    assert execute_job(job.id) is False
    assert calls == []


def test_an_expected_failure_is_shown_and_not_retried(db, seeded_survey, researcher):
    job = _export(researcher, seeded_survey, fmt="pdf")
    assert job.status == JobStatus.FAILED.value and "unknown export format 'pdf'" in job.error
    assert job.attempts == 1 and result_file(job) is None
    assert requeue_stalled() == 0


def test_a_bug_fails_the_job_without_leaking_the_traceback(db, seeded_survey, researcher, monkeypatch):
    def broken(job, directory, progress):
        raise KeyError("secret internals")
    monkeypatch.setitem(jobs._RUNNERS, "export", broken)
    job = _export(researcher, seeded_survey)
    assert job.status == JobStatus.FAILED.value
    assert "internal error (KeyError)" in job.error and "secret" not in job.error


def _stall(db, job_id: str, seconds_ago: float, status=JobStatus.RUNNING, attempts=1) -> None:
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status=status.value, attempts=attempts, finished_at=None, result_path=None,
        heartbeat_at=utcnow() - timedelta(seconds=seconds_ago)))
    db.session.commit()


def test_the_job_of_a_killed_worker_runs_again(app, db, seeded_survey, researcher):
    job = _export(researcher, seeded_survey)
    # As a worker killed mid-run leaves it: running, with a heartbeat that stopped.
    _stall(db, job.id, app.config["JOB_STALL_SECONDS"] + 1)
    assert requeue_stalled() == 1
    db.session.refresh(job)
    assert job.status == JobStatus.DONE.value and job.attempts == 2 and result_file(job) is not None


def test_a_running_job_with_a_live_heartbeat_is_left_alone(app, db, seeded_survey, researcher):
    job = _export(researcher, seeded_survey)
    _stall(db, job.id, app.config["JOB_STALL_SECONDS"] / 4)
    assert requeue_stalled() == 0
    db.session.refresh(job)
    assert job.status == JobStatus.RUNNING.value


def test_a_job_that_keeps_killing_its_worker_fails_with_the_reason(app, db, seeded_survey, researcher):
    job = _export(researcher, seeded_survey)
    _stall(db, job.id, app.config["JOB_STALL_SECONDS"] + 1, attempts=app.config["JOB_MAX_ATTEMPTS"])
    assert requeue_stalled() == 0
    db.session.refresh(job)
    assert job.status == JobStatus.FAILED.value and "stopped while running this job 3 times" in job.error


def test_a_queued_job_whose_message_was_lost_is_sent_again(app, db, seeded_survey, researcher):
    job = _export(researcher, seeded_survey)
    _stall(db, job.id, app.config["JOB_LOST_SECONDS"] + 1, status=JobStatus.QUEUED, attempts=0)
    assert requeue_stalled() == 1
    db.session.refresh(job)
    assert job.status == JobStatus.DONE.value


def test_only_the_starter_or_an_admin_sees_a_job(db, seeded_survey, researcher, make_user):
    # The starter sees an export job while the survey is shared with them as analyst
    # (tests/security/test_share_roles.py: a downgraded share closes it).
    db.session.add(SurveyShare(survey_id=seeded_survey.id, user_id=researcher.id, role="analyst"))
    db.session.commit()
    job = _export(researcher, seeded_survey)
    assert job_for(job.id, researcher).id == job.id
    assert job_for(job.id, make_user("someone-else")) is None
    assert job_for(job.id, make_user("the-admin", Role.ADMIN)).id == job.id
    assert job_for("0" * 32, researcher) is None


def test_unknown_kinds_are_refused(db, researcher):
    with pytest.raises(JobError, match="unknown job kind"):
        start_job("mine-bitcoin", user=researcher)
    assert db.session.execute(select(func.count(Job.id))).scalar_one() == 0


def test_old_finished_jobs_and_their_files_are_purged(app, db, seeded_survey, researcher):
    job = _export(researcher, seeded_survey)
    path = result_file(job)
    assert purge_finished() == 0
    assert purge_finished(utcnow() + timedelta(days=app.config["JOB_KEEP_DAYS"] + 1)) == 1
    assert not path.exists() and db.session.get(Job, job.id) is None


def test_a_real_worker_runs_queued_jobs(db, seeded_survey, researcher, queue_worker):
    job = _export(researcher, seeded_survey, fmt="xlsx")
    deadline = time.monotonic() + 60
    while True:
        db.session.expire_all()
        current = db.session.get(Job, job.id)
        if current.finished:
            break
        assert time.monotonic() < deadline, "the worker did not finish the job"
        time.sleep(0.1)
    assert current.status == JobStatus.DONE.value
    assert Path(current.result_path).read_bytes().startswith(b"PK")
