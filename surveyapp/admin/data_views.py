"""The survey overview's data panel: downloads (raw data, codebook, statistics) and response import.

The rules live in services.exports, services.filters and services.imports;
the panel's forms in admin/forms.py, the overview page in admin/overview.py.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Response, current_app, flash, redirect, request, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from ..access import accessible_survey_or_404, role_required
from ..i18n import select_locale
from ..models import Role
from ..services.exports import ExportError, export_format, export_to_temporary_file
from ..services.filters import FilterError, parse_filters
from ..services.imports import ImportRejected, import_responses
from . import bp
from .forms import ImportForm
from .overview import exports_panel, render_overview


@bp.route("/surveys/<slug>/export")
@role_required(Role.RESEARCHER)
def export_data(slug: str):
    survey = accessible_survey_or_404(slug)
    try:
        fmt = export_format(request.args.get("format", ""))
        filters = parse_filters(survey, request.args)
    except (ExportError, FilterError) as error:
        flash(_("Nothing was exported: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    filename = f"{survey.slug}-{stamp}-{fmt.suffix}"
    if fmt.chunks is not None:
        body = stream_with_context(fmt.chunks(survey, filters, select_locale()))
        return Response(body, mimetype=fmt.mimetype, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})
    try:
        stream = export_to_temporary_file(survey, fmt.key, filters, select_locale())
    except ExportError as error:
        flash(_("Nothing was exported: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))
    return send_file(stream, mimetype=fmt.mimetype, as_attachment=True, download_name=filename)


@bp.route("/surveys/<slug>/import", methods=["POST"])
@role_required(Role.RESEARCHER)
def import_data(slug: str):
    survey = accessible_survey_or_404(slug)
    try:
        form = ImportForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        # The body was never read, so the overview's own forms cannot be built on this request.
        flash(_("Nothing was imported: the file is larger than the upload limit of %(limit)s bytes; "
                "split it into several files.",
                limit=f"{current_app.config['MAX_CONTENT_LENGTH']:,}"), "error")
        return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))
    if not valid:
        return _overview_with_problems(survey, exports_panel(survey, import_form=form))
    upload = form.responses.data
    try:
        result = import_responses(survey, upload.filename or "", upload.read())
    except ImportRejected as rejected:
        return _overview_with_problems(survey, exports_panel(survey, import_form=form, rejected=rejected))
    flash(_("%(n)s responses imported.", n=result.imported), "info")
    return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))


def _overview_with_problems(survey, panel):
    """The overview page again, its data panel listing what was wrong."""
    flash(_("Nothing was imported: fix the problems listed under Import and upload the file again."),
          "error")
    return render_overview(survey, panel), 400
