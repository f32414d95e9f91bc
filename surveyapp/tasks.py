"""Every kind of heavy work, as the queue worker runs it.

The worker is ``huey_consumer surveyapp.tasks.huey`` (``make run`` starts
one); importing this module registers every job runner and queue task.
The mechanism (claiming, progress, heartbeats, requeueing) is in
services/jobs.py; this module only says what each job does:

* ``export``: a raw-data, codebook or statistics file (services/exports.py);
* ``import``: a file of responses collected elsewhere (services/imports.py);
* ``analysis``: the whole analysis as the API's JSON document, the CSI model's
  bootstrap intervals left to
* ``csi-bootstrap``: those intervals, started by the analysis job, with the
  time they were computed and whether the data changed in between;
* ``invitation-mail``: invitations or reminders e-mailed (services/invitations.py);
* dashboard recomputation: services/dashboard_cache.py defines its tasks;
* recovery cases (open a case on a completed response, escalate overdue
  cases every minute): services/cases.py defines its tasks;
* alerts: e-mails (services/alerts.py) and webhook deliveries (services/webhooks.py);
* contact details past retention purged every night: services/personal_data.py.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from werkzeug.datastructures import MultiDict

from analysis.common import InsufficientData
from analysis.report import csi_bootstrap_json

from .models import Job, Survey, User
from .extensions import db
from .queue import huey
from .services import alerts, audit, cases, dashboard_cache, personal_data, webhooks  # noqa: F401  (their queue tasks register on import)
from .services.analysis import report_options, survey_analysis, survey_csi_intervals
from .services.dashboard_cache import data_stamp
from .services.exports import ExportError, export_format, export_to_file
from .services.filters import FilterError, describe_filter, parse_filters
from .services.imports import ImportRejected, import_responses
from .services.invitations import mail_links, send_invitations, send_reminders
from .services.jobs import JobFailed, JobOutcome, Progress, job_runner, start_job, write_json

__all__ = ["huey"]


def _survey(job: Job) -> Survey:
    survey = db.session.get(Survey, job.survey_id)
    if survey is None:
        raise JobFailed("the survey no longer exists")
    return survey


def _filters(survey: Survey, job: Job):
    try:
        return parse_filters(survey, MultiDict(job.params.get("args", [])))
    except FilterError as error:
        raise JobFailed(str(error)) from None


def _audit_job(job: Job, action: str, survey: Survey, detail: dict) -> None:
    """The audit entry of a job's work, in the name of who started it, from where."""
    audit.record(action, survey=survey, target=f"job:{job.id}", detail=detail,
                 user=db.session.get(User, job.user_id) if job.user_id else None,
                 address=job.params.get("requested_from"))


@job_runner("export")
def run_export(job: Job, directory: Path, progress: Progress) -> JobOutcome:
    survey = _survey(job)
    try:
        fmt = export_format(job.params["format"])
        filters = _filters(survey, job)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
        name = f"{survey.slug}-{stamp}-{fmt.suffix}"
        export_to_file(survey, fmt.key, filters, directory / name, job.params.get("lang", "zh"),
                       progress=lambda fraction: progress(fraction, "writing"))
    except ExportError as error:
        raise JobFailed(str(error)) from None
    # Raw data and statistics files carry answers and comments, never contact details
    # (those stay in the contact table; the links CSV is audited where it is made).
    _audit_job(job, audit.EXPORT, survey, {"format": fmt.key, "contact_details": False,
                                           "filter": describe_filter(filters)})
    return JobOutcome(path=directory / name, name=name, mimetype=fmt.mimetype,
                      result={"filter": describe_filter(filters)})


@job_runner("import")
def run_import(job: Job, directory: Path, progress: Progress) -> JobOutcome:
    survey = _survey(job)
    upload = Path(job.params["upload"])
    try:
        data = upload.read_bytes()
    except FileNotFoundError:
        raise JobFailed("the uploaded file is gone; upload it again") from None
    progress(0.0, "checking every row")
    try:
        result = import_responses(survey, job.params.get("filename", ""), data)
    except ImportRejected as rejected:
        raise JobFailed(f"{rejected.total} problem(s); nothing was imported",
                        {"problems": [str(p) for p in rejected.problems],
                         "problems_total": rejected.total}) from None
    finally:
        # The upload is only needed once: imported or rejected, it is not kept.
        upload.unlink(missing_ok=True)
    _audit_job(job, audit.IMPORT, survey, {"kind": "responses", "imported": result.imported})
    return JobOutcome(result={"imported": result.imported,
                              "by_version": {str(k): v for k, v in result.by_version.items()}})


@job_runner("analysis")
def run_analysis(job: Job, directory: Path, progress: Progress) -> JobOutcome:
    """The report with the CSI point estimates; their bootstrap intervals (one PLS fit per
    resample, most of the job's time at scale) are a ``csi-bootstrap`` job of their own, which
    the document points to."""
    survey = _survey(job)
    filters = _filters(survey, job)
    progress(0.0, "analysing")
    options = report_options()
    # Read before the responses: a response committed meanwhile makes the bootstrap
    # job's stamp differ, so it says the data may have changed rather than miss it.
    stamp = data_stamp(survey.id)
    result = survey_analysis(survey, filters, replace(options, csi_boot=0))
    document: dict[str, Any] = {"survey": survey.slug, "filter": describe_filter(filters), **result.to_dict()}
    if result.csi is not None:
        document["csi_bootstrap"] = _start_csi_bootstrap(job, survey, options, stamp, result.csi.n)
    outcome = write_json(directory, f"{survey.slug}-analysis.json", document)
    outcome.result = {"csi_bootstrap": document.get("csi_bootstrap")}
    return outcome


def _start_csi_bootstrap(job: Job, survey: Survey, options, stamp: str, n: int) -> dict[str, Any]:
    """Queue the CSI intervals of the analysis ``job`` (same survey, filter and starter) and say
    where they will be: the pointer the analysis document carries."""
    if not options.csi_boot:
        return {"status": "not requested", "n_boot": 0}
    follow = start_job("csi-bootstrap", user=db.session.get(User, job.user_id) if job.user_id else None,
                       survey=survey, params={"args": job.params.get("args", []), "analysis_job": job.id,
                                              "data_stamp": stamp, "n": n, "n_boot": options.csi_boot,
                                              "seed": options.seed,
                                              "requested_from": job.params.get("requested_from")})
    with current_app.test_request_context():
        url = url_for("api.get_job", job_id=follow.id)
    return {"status": "pending", "job": follow.id, "url": url, "n_boot": options.csi_boot,
            "seed": options.seed}


@job_runner("csi-bootstrap")
def run_csi_bootstrap(job: Job, directory: Path, progress: Progress) -> JobOutcome:
    """The bootstrap intervals of the CSI model the analysis job ``params["analysis_job"]`` fitted,
    on the survey's responses as they are now, with when they were computed and whether the
    data changed since that analysis."""
    survey = _survey(job)
    filters = _filters(survey, job)
    # The resamples and seed the analysis document announced, whatever the configuration now.
    options = replace(report_options(), csi_boot=job.params["n_boot"], seed=job.params["seed"])
    progress(0.0, f"bootstrap: {options.csi_boot} resamples")
    stamp = data_stamp(survey.id)
    try:
        boot = survey_csi_intervals(survey, filters, options)
    except InsufficientData as error:
        raise JobFailed(f"too few responses for the CSI model now: {error}") from None
    if boot is None:
        raise JobFailed("the survey no longer measures a CSI model")
    changed = stamp != job.params.get("data_stamp") or boot.n != job.params.get("n")
    computed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    document = {"survey": survey.slug, "filter": describe_filter(filters),
                "analysis_job": job.params.get("analysis_job"), "computed_at": computed_at,
                "data_stamp": stamp, "analysis_data_stamp": job.params.get("data_stamp"),
                "data_changed": changed, "analysis_n": job.params.get("n"), **csi_bootstrap_json(boot)}
    if changed:
        document["note"] = (f"The responses changed after the analysis (its CSI model used {job.params.get('n')} "
                            f"responses; these intervals, and the estimates beside them, use {boot.n}, as "
                            f"of {computed_at}).")
    outcome = write_json(directory, f"{survey.slug}-csi-bootstrap.json", document)
    outcome.result = {"computed_at": computed_at, "n": boot.n, "n_boot": boot.n_boot, "seed": boot.seed,
                      "data_changed": changed}
    return outcome


@job_runner("invitation-mail")
def run_invitation_mail(job: Job, directory: Path, progress: Progress) -> JobOutcome:
    survey = _survey(job)
    progress(0.0, "sending")
    # The links in the e-mails are absolute: built as the request that started the job would.
    with current_app.test_request_context(base_url=job.params["base_url"]):
        if job.params["mode"] == "reminders":
            report = send_reminders(survey, mail_links, after_days=job.params["after_days"],
                                    max_reminders=job.params["max_reminders"])
        else:
            report = send_invitations(survey, mail_links)
    return JobOutcome(result={"sent": report.sent, "bounced": report.bounced, "failed": report.failed,
                              "skipped": report.skipped, "errors": report.errors[:20]})

