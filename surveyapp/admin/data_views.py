"""The survey overview's data panel: downloads (raw data, codebook, statistics) and response import.

Both run on the job queue (surveyapp/tasks.py): the view checks the request,
starts the job and shows its progress page, which offers the file or lists
an import's problems when the job is done. The rules live in
services.exports, services.filters and services.imports; the panel's forms
in admin/forms.py, the overview page in admin/overview.py.
"""
from __future__ import annotations

from flask import (abort, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import require_survey_access
from ..extensions import db
from ..i18n import select_locale
from ..models import Survey
from ..services.exports import ExportError, export_format
from ..services.filters import FilterError, parse_filters
from ..services.jobs import job_for, job_payload, keep_upload, result_file, start_job
from . import bp
from .forms import ImportForm
from .overview import exports_panel, render_overview


@bp.route("/surveys/<slug>/export")
@login_required
def export_data(slug: str):
    """Check the choices, then hand the export to the job queue and show its progress page."""
    survey = require_survey_access(slug, "analyse")
    try:
        fmt = export_format(request.args.get("format", ""))
        parse_filters(survey, request.args)
    except (ExportError, FilterError) as error:
        flash(_("Nothing was exported: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))
    args = [[key, value] for key, value in request.args.items(multi=True) if key not in ("format", "download")]
    job = start_job("export", user=current_user, survey=survey,
                    params={"format": fmt.key, "args": args, "lang": select_locale()})
    return redirect(url_for("admin.job_page", job_id=job.id))


@bp.route("/surveys/<slug>/import", methods=["POST"])
@login_required
def import_data(slug: str):
    """Keep the upload, then hand the checking and storing to the job queue."""
    survey = require_survey_access(slug, "edit")
    # A body over MAX_CONTENT_LENGTH never gets here: security.request_too_large answers it.
    form = ImportForm()
    valid = form.validate_on_submit()
    if not valid:
        flash(_("Nothing was imported: fix the problems listed under Import and upload the file again."),
              "error")
        return render_overview(survey, exports_panel(survey, import_form=form)), 400
    upload = form.responses.data
    job = start_job("import", user=current_user, survey=survey,
                    params={"upload": str(keep_upload(upload.read())), "filename": upload.filename or ""})
    return redirect(url_for("admin.job_page", job_id=job.id))


# --------------------------------------------------------------------------
# A job's progress page, its state for polling, and its file
# --------------------------------------------------------------------------

def _own_job_or_404(job_id: str):
    job = job_for(job_id, current_user)
    if job is None:
        abort(404)
    return job


@bp.route("/jobs/<job_id>")
@login_required
def job_page(job_id: str):
    job = _own_job_or_404(job_id)
    survey = db.session.get(Survey, job.survey_id) if job.survey_id else None
    return render_template("admin/job.html", job=job, state=job_payload(job), survey=survey)


@bp.route("/jobs/<job_id>.json")
@login_required
def job_state(job_id: str):
    return jsonify(job_payload(_own_job_or_404(job_id)))


@bp.route("/jobs/<job_id>/download")
@login_required
def job_download(job_id: str):
    job = _own_job_or_404(job_id)
    path = result_file(job)
    if path is None:
        abort(404)
    return send_file(path, mimetype=job.result_mimetype, as_attachment=True, download_name=job.result_name)
