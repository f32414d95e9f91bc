"""API endpoints. Thin: access checks and JSON shapes; data from services, statistics from analysis.report."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd
from flask import abort, g, jsonify, request, send_file, url_for
from sqlalchemy import select

from ..access import require_survey_access, survey_permissions, survey_role_label, visible_surveys
from ..extensions import db
from ..models import Case, CaseStatus, Survey, User
from ..services import audit, cases as cases_service
from ..services.builder import version_counts
from ..services.codebooks import survey_codebook
from ..services.exports import iter_raw_frames, raw_page
from ..services.filters import FilterError, UnknownVersionError, describe_filter, parse_filters
from ..services.jobs import job_for, job_payload, result_file, start_job
from ..services.responses import codebook_of, count_responses
from . import bp
from .openapi import MAX_PAGE, MAX_PER_PAGE, openapi_document as build_openapi_document

DEFAULT_PER_PAGE = 50


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(build_openapi_document())


def _survey(slug: str, need: str = "view") -> Survey:
    """The survey if the token's user may do ``need``: the same check as the pages."""
    return require_survey_access(slug, need, user=g.api_user)


def _iso(moment) -> str | None:
    if moment is None or moment is pd.NaT:
        return None
    stamp = pd.Timestamp(moment)
    if pd.isna(stamp):
        return None
    return (stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")).isoformat()


def _summary(survey: Survey, counts) -> dict[str, Any]:
    return {
        "slug": survey.slug,
        "title": {"zh": survey.title_zh, "en": survey.title_en},
        "status": survey.status,
        "current_version": survey.current_version.number if survey.current_version else None,
        "responses": {"complete": sum(c.complete for c in counts),
                      "partial": sum(c.partial for c in counts)},
    }


@bp.get("/surveys")
def list_surveys():
    user = g.api_user
    surveys = sorted(visible_surveys(user), key=lambda survey: survey.id)
    return jsonify({"surveys": [{**_summary(survey, version_counts(survey)),
                                 "access": {"role": survey_role_label(user, survey),
                                            "may": sorted(survey_permissions(user, survey))}}
                                for survey in surveys]})


@bp.get("/surveys/<slug>")
def get_survey(slug: str):
    survey = _survey(slug)
    counts = version_counts(survey)
    return jsonify({
        **_summary(survey, counts),
        "opens_at": _iso(survey.opens_at), "closes_at": _iso(survey.closes_at),
        "target_responses": survey.target_responses,
        "design": survey.design,
        "versions": [{"number": c.number, "frozen_at": _iso(c.frozen_at), "variables": c.variables,
                      "complete": c.complete, "partial": c.partial} for c in counts],
    })


@bp.get("/surveys/<slug>/codebook")
def get_codebook(slug: str):
    survey = _survey(slug)
    text = (request.args.get("version") or "").strip()
    if text:
        version = next((v for v in survey.versions if text.isdigit() and v.number == int(text)), None)
        if version is None:
            abort(400 if not text.isdigit() else 404,
                  description=f"version: {text!r} is not a version of this survey")
        codebook = codebook_of(version)
    else:
        codebook = survey_codebook(survey)
    return jsonify({"variables": codebook.to_json()})


def _positive_int(name: str, default: int, maximum: int | None = None) -> int:
    text = (request.args.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1 or (maximum is not None and int(text) > maximum):
        limit = f" from 1 to {maximum}" if maximum is not None else " of at least 1"
        abort(400, description=f"{name}: {text!r} is not a whole number{limit}")
    return int(text)


def _filters(survey: Survey):
    try:
        return parse_filters(survey, request.args)
    except UnknownVersionError as error:
        abort(404, description=str(error))
    except FilterError as error:
        abort(400, description=str(error))


def _number(value: Any) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value) if float(value).is_integer() else float(value)


@bp.get("/surveys/<slug>/responses")
def list_responses(slug: str):
    """One page of responses in id order.

    Without a segment filter only the page is read (and the total counted);
    a segment filter needs the answers, so its pages are cut from the streamed
    response frames: memory stays at one chunk, time grows with the survey.
    """
    survey = _survey(slug, "analyse")
    page = _positive_int("page", 1, MAX_PAGE)
    per_page = _positive_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    filters = _filters(survey)
    asked = {version.number: codebook_of(version).names for version in survey.versions}
    first, records = (page - 1) * per_page, []

    def add(rows: pd.DataFrame) -> None:
        for row in rows.to_dict("records"):
            version = int(row["version"])
            records.append({
                "id": int(row["response_id"]), "version": version, "status": row["status"],
                "started_at": _iso(row["started_at"]), "submitted_at": _iso(row["submitted_at"]),
                "duration_seconds": _number(row["duration_seconds"]),
                "contact_ok": bool(row["contact_ok"]), "language": row["language"],
                "comment": row["comment"],
                "answers": {name: _number(row[name]) for name in asked[version]},
            })

    if filters.segments:
        total = 0
        for frame in iter_raw_frames(survey, filters, missing_codes=False):
            add(frame.iloc[max(first - total, 0):max(first + per_page - total, 0)])
            total += len(frame)
    else:
        total = count_responses(survey, filters)
        if first < total:
            add(raw_page(survey, filters, first, per_page, missing_codes=False))
    return jsonify({"page": page, "per_page": per_page, "total": total,
                    "pages": max(1, -(-total // per_page)), "filter": describe_filter(filters),
                    "responses": records})


@bp.get("/surveys/<slug>/analysis")
def get_analysis(slug: str):
    """Start the analysis on the job queue: 202 with the job's URL (its ``result_url`` when done)."""
    survey = _survey(slug, "analyse")
    _filters(survey)  # a bad filter is refused now, not in the job
    args = [[key, value] for key, value in request.args.items(multi=True)]
    job = start_job("analysis", user=g.api_user, survey=survey, params={"args": args})
    response = jsonify(_job_document(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_job", job_id=job.id)
    return response


def _job_document(job) -> dict[str, Any]:
    document = job_payload(job)
    document["url"] = url_for("api.get_job", job_id=job.id)
    document["result_url"] = (url_for("api.get_job_result", job_id=job.id)
                              if job.status == "done" and document.pop("has_file") else None)
    document.pop("has_file", None)
    return document


def _own_job(job_id: str):
    job = job_for(job_id, g.api_user)
    if job is None:
        abort(404, description="no such job (or not yours)")
    return job


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    """A job's state and progress; poll until ``status`` is ``done`` or ``failed``."""
    return jsonify(_job_document(_own_job(job_id)))


@bp.get("/jobs/<job_id>/result")
def get_job_result(job_id: str):
    job = _own_job(job_id)
    if not job.finished:
        abort(409, description="the job has not finished yet; poll its URL")
    path = result_file(job)
    if path is None:
        abort(404, description=job.error or "this job has no result file (or it has expired)")
    return send_file(path, mimetype=job.result_mimetype, download_name=job.result_name)



# --------------------------------------------------------------------------
# Recovery cases: the same permissions as the case pages (surveyapp/cases)
# --------------------------------------------------------------------------

def _case_document(case, survey: Survey, *, history: bool) -> dict[str, Any]:
    contact = cases_service.contact_of(case) if cases_service.may_see_contact(g.api_user, survey) else None
    document = {
        "id": case.id, "survey": survey.slug, "response_id": case.response_id,
        "status": case.status, "priority": cases_service.PRIORITIES[case.priority],
        "owner": case.owner.username if case.owner else None, "reasons": case.reasons,
        "scores": {k: _number(v) for k, v in (case.scores or {}).items()},
        "screening_flags": list(case.screening_flags or []),
        "comment": {"text": case.response.comment, "label": case.comment_label,
                    "score": case.comment_score, "emotions": list(case.comment_emotions or []),
                    "engine": cases_service.comment_engine().name},
        "churn": {"risk": case.churn_risk, "band": case.churn_band},
        "opened_at": _iso(case.opened_at), "due_at": _iso(case.due_at),
        "first_contact_at": _iso(case.first_contact_at), "closed_at": _iso(case.closed_at),
        "overdue": bool(case.overdue), "root_cause": case.root_cause, "action_taken": case.action_taken,
        "resurvey": {"url": cases_service.resurvey_url(case), "sent_at": _iso(case.resurvey_sent_at),
                     "satisfaction": case.recovery_satisfaction, "comment": case.recovery_comment,
                     "answered_at": _iso(case.recovery_answered_at)},
        "contact": ({"name": contact.name, "email": contact.email, "phone": contact.phone}
                    if contact is not None else None),
        "url": url_for("api.get_case", case_id=case.id),
    }
    if history:
        document["history"] = [{"at": _iso(e.at), "user": e.user.username if e.user else None,
                                "kind": e.kind, "old": e.old, "new": e.new} for e in case.events]
    return document


@bp.get("/surveys/<slug>/cases")
def list_cases(slug: str):
    survey = _survey(slug)
    page = _positive_int("page", 1, MAX_PAGE)
    per_page = _positive_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    status = (request.args.get("status") or "").strip() or None
    try:
        found = cases_service.list_cases(survey, status=status, page=page, per_page=per_page)
    except cases_service.CaseError as error:
        abort(400, description=str(error))
    documents = [_case_document(case, survey, history=False) for case in found.cases]
    with_contact = sum(document["contact"] is not None for document in documents)
    if with_contact:
        # A page of cases with names, e-mails and phones is an export of contact details.
        audit.record(audit.EXPORT, survey=survey, user=g.api_user,
                     detail={"format": "api-cases", "contact_details": True, "page": page,
                             "rows": len(documents), "with_contact": with_contact})
    return jsonify({"page": page, "per_page": per_page, "total": found.total, "pages": found.pages,
                    "cases": documents})


def _accessible_case(case_id: int):
    case = db.session.get(Case, case_id) if case_id < 2**31 else None
    if case is None:
        abort(404, description=f"no case {case_id}")
    survey = require_survey_access(db.session.get(Survey, case.survey_id), "view", user=g.api_user,
                                   missing=f"no case {case_id}")
    return case, survey


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    case, survey = _accessible_case(case_id)
    return jsonify(_case_document(case, survey, history=True))


PATCH_FIELDS = {"owner", "status", "priority", "note", "root_cause", "action_taken"}


@bp.patch("/cases/<int:case_id>")
def patch_case(case_id: int):
    """Change a case as the case page does: owner, priority, status, a note; closing
    (``status`` resolved / closed_unreachable) needs ``root_cause`` and ``action_taken``."""
    case, survey = _accessible_case(case_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        abort(400, description="send a JSON object with at least one of: " + ", ".join(sorted(PATCH_FIELDS)))
    unknown = set(body) - PATCH_FIELDS
    if unknown:
        abort(400, description=f"unknown fields: {', '.join(sorted(unknown))}")
    priorities = {label: key for key, label in cases_service.PRIORITIES.items()}
    statuses = {s.value for s in CaseStatus}
    # Every field is checked before anything changes.
    problems = []
    owner = None
    if "owner" in body:
        if body["owner"] is not None and not isinstance(body["owner"], str):
            problems.append("owner: a user name or null")
        elif body["owner"] is not None:
            owner = db.session.execute(select(User).where(User.username == body["owner"])
                                       ).scalar_one_or_none()
            if owner is None:
                problems.append(f"owner: no user {body['owner']!r}")
    if "priority" in body and body["priority"] not in priorities:
        problems.append("priority: high, normal or low")
    if "note" in body and (not isinstance(body["note"], str) or not body["note"].strip()):
        problems.append("note: non-empty text")
    status = body.get("status")
    if "status" in body and status not in statuses:
        problems.append(f"status: one of {', '.join(sorted(statuses))}")
    closing = status in cases_service.CLOSED
    for name in ("root_cause", "action_taken"):
        if closing and (not isinstance(body.get(name), str) or not body[name].strip()):
            problems.append(f"{name}: required to close a case")
        if not closing and name in body:
            problems.append(f"{name}: only with a closing status")
    if closing and body.get("root_cause") not in cases_service.ROOT_CAUSES:
        problems.append(f"root_cause: one of {', '.join(cases_service.ROOT_CAUSES)}")
    if problems:
        # The body fits the schema but not this case or workflow: a conflict, not a malformed request.
        abort(409, description="; ".join(problems))
    user = g.api_user
    try:
        if "owner" in body:
            cases_service.assign(case, owner, user)
        if "priority" in body:
            cases_service.set_priority(case, priorities[body["priority"]], user)
        if "note" in body:
            cases_service.add_note(case, body["note"], user)
        if closing:
            cases_service.resolve(case, body["root_cause"], body["action_taken"], user,
                                  unreachable=status == CaseStatus.CLOSED_UNREACHABLE.value)
        elif status is not None and status != case.status:
            cases_service.set_status(case, status, user)
    except cases_service.CaseError as error:
        db.session.rollback()
        abort(409, description=str(error))
    return jsonify(_case_document(case, survey, history=True))
