"""The analysis job and the CSI bootstrap job it leaves its intervals to (surveyapp/tasks.py)."""
from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import select

from analysis.report import ReportOptions, analyse_survey, csi_tables
from surveyapp import queue
from surveyapp.models import Job, JobStatus, Response, ResponseStatus
from surveyapp.services.codebooks import survey_codebook
from surveyapp.services.jobs import result_file, start_job
from surveyapp.services.responses import responses_frame


@pytest.fixture
def researcher(make_user):
    return make_user("analysis-owner")


def _document(job: Job) -> dict:
    return json.loads(result_file(job).read_text(encoding="utf-8"))


def _run_queued() -> None:
    """Run what is on the (in-memory) queue, in order, as a worker would."""
    while (task := queue.huey.dequeue()) is not None:
        queue.huey.execute(task)


def _joint_report(survey, boot: int, seed: int):
    """The whole report with the CSI bootstrap inside it, computed directly (the reference)."""
    return analyse_survey(responses_frame(survey), survey_codebook(survey),
                          ReportOptions(n_boot=0, csi_boot=boot, seed=seed))


def test_the_analysis_job_leaves_the_csi_intervals_to_a_job_of_their_own(app, db, seeded_survey, researcher):
    app.config["REPORT_OPTIONS"] = {"n_boot": 0, "csi_boot": 50, "seed": 9}
    analysis = start_job("analysis", user=researcher, survey=seeded_survey, params={"args": []})
    assert analysis.status == JobStatus.DONE.value
    report = _document(analysis)
    pointer = report["csi_bootstrap"]
    assert pointer["status"] == "pending" and pointer["n_boot"] == 50 and pointer["seed"] == 9
    assert pointer["url"] == f"/api/v1/jobs/{pointer['job']}" and analysis.result == {"csi_bootstrap": pointer}
    # The report itself has the estimates and no interval.
    assert all(row["se"] is None and row["estimate"] is not None for row in report["tables"]["csi_paths"])

    boot_job = db.session.get(Job, pointer["job"])
    assert (boot_job.kind, boot_job.status, boot_job.user_id, boot_job.survey_id) == \
        ("csi-bootstrap", JobStatus.DONE.value, researcher.id, seeded_survey.id)
    boot = _document(boot_job)
    assert boot["analysis_job"] == analysis.id and boot["data_changed"] is False and "note" not in boot
    assert datetime.fromisoformat(boot["computed_at"]).tzinfo is not None
    assert boot_job.result["computed_at"] == boot["computed_at"]
    assert (boot["n_boot"], boot["seed"], boot["n_boot_failed"]) == (50, 9, 0)
    # The intervals are those of the joint computation (report and bootstrap in one run),
    # and the estimates beside them the report's.
    joint = _joint_report(seeded_survey, 50, 9)
    assert boot["n"] == joint.csi.n == boot["analysis_n"]
    for name, table in csi_tables(joint.csi).items():
        ours = pd.DataFrame(boot["tables"][name])
        pd.testing.assert_frame_equal(ours, table.reset_index(drop=True), check_dtype=False,
                                      check_exact=False, rtol=0, atol=1e-12)
        estimate = {"csi_paths": "estimate", "csi_outer": "loading", "csi_r2": "r2", "csi_index": "index"}[name]
        assert ours[estimate].tolist() == pd.DataFrame(report["tables"][name])[estimate].tolist()
    assert "percentile bootstrap (50 resamples, seed 9" in boot["methods"]["test"]


def test_no_csi_job_without_resamples(app, db, seeded_survey, researcher):
    app.config["REPORT_OPTIONS"] = {"n_boot": 0, "csi_boot": 0}
    analysis = start_job("analysis", user=researcher, survey=seeded_survey, params={"args": []})
    assert _document(analysis)["csi_bootstrap"] == {"status": "not requested", "n_boot": 0}
    assert db.session.scalar(select(Job.id).where(Job.kind == "csi-bootstrap")) is None


@pytest.mark.real_worker
def test_the_bootstrap_job_is_queued_and_says_when_the_data_changed(app, db, seeded_survey, researcher):
    app.config["REPORT_OPTIONS"] = {"n_boot": 0, "csi_boot": 50, "seed": 9}
    queue.huey.immediate = False
    try:
        analysis = start_job("analysis", user=researcher, survey=seeded_survey, params={"args": []})
        assert analysis.status == JobStatus.QUEUED.value
        task = queue.huey.dequeue()
        queue.huey.execute(task)  # the analysis only: the bootstrap job is queued behind it
        db.session.refresh(analysis)
        pointer = _document(analysis)["csi_bootstrap"]
        boot_job = db.session.get(Job, pointer["job"])
        assert analysis.status == JobStatus.DONE.value and boot_job.status == JobStatus.QUEUED.value
        # The configuration changes: the job still draws what the analysis document announced.
        app.config["REPORT_OPTIONS"] = {"n_boot": 0, "csi_boot": 60, "seed": 10}
        # A response goes away before the worker gets to the bootstrap.
        gone = db.session.scalars(select(Response).where(Response.survey_id == seeded_survey.id,
                                                         Response.status == ResponseStatus.COMPLETE.value)
                                  .order_by(Response.id)).first()
        db.session.delete(gone)
        db.session.commit()
        _run_queued()
    finally:
        queue.huey.immediate = True
    db.session.refresh(boot_job)
    assert boot_job.status == JobStatus.DONE.value, boot_job.error
    boot = _document(boot_job)
    assert boot["data_changed"] is True and boot_job.result["data_changed"] is True
    assert (boot["n_boot"], boot["seed"]) == (pointer["n_boot"], pointer["seed"]) == (50, 9)
    assert boot["data_stamp"] != boot["analysis_data_stamp"]
    assert f"use {boot['n']}" in boot["note"] and str(boot["analysis_n"]) in boot["note"]
    # The intervals are those of the data as they are now.
    now = _joint_report(seeded_survey, 50, 9)
    assert boot["n"] == now.csi.n
    assert [row["ci_low"] for row in boot["tables"]["csi_paths"]] == pytest.approx(
        now.csi.paths["ci_low"].tolist(), abs=1e-12)
