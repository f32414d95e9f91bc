"""The survey overview's data panel: downloads (raw data, codebook, statistics) and response import.

The panel (``admin/_exports.html``) is included by the overview page; it gets
its forms from the template global :func:`exports_panel`, so the overview
view does not need to know about it. The rules live in services.exports and
services.imports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import Response, current_app, flash, g, redirect, request, send_file, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..auth import role_required
from ..models import Role, Survey
from ..services.exports import (EXPORT_FORMATS, ExportError, FilterError, export_format,
                                export_to_temporary_file, parse_filters, survey_codebook)
from ..services.imports import ImportProblem, ImportRejected, import_responses, max_import_bytes
from . import bp
from .views import _editable_survey, _lang, survey_overview

FORMAT_LABELS = {
    "csv": _l("Responses - CSV (UTF-8, opens in Excel)"),
    "xlsx": _l("Responses - Excel workbook with a labels sheet"),
    "sav": _l("Responses - SPSS .sav with labels"),
    "dta": _l("Responses - Stata .dta with labels"),
    "codebook-csv": _l("Codebook - CSV"),
    "codebook-xlsx": _l("Codebook - Excel"),
    "stats-xlsx": _l("Statistics tables - Excel, a sheet per analysis"),
}


class ExportForm(FlaskForm):
    """The download choices. Sent by GET: a download changes nothing, so it carries no CSRF token.

    Field names are the query parameters of services.exports.parse_filters
    (the API's names), which validates them.
    """

    class Meta:
        csrf = False

    format = SelectField(_l("What to download"),
                         choices=[SelectChoice(key, FORMAT_LABELS[key]) for key in EXPORT_FORMATS])
    start = DateField(_l("Submitted from (UTC)"), name="from", validators=[Optional()])
    end = DateField(_l("Submitted up to and including (UTC)"), name="to", validators=[Optional()])
    version = SelectField(_l("Survey version"), validators=[Optional()])
    partial = BooleanField(_l("Include unfinished responses"), render_kw={"value": "1"})
    download = SubmitField(_l("Download"))


class ImportForm(FlaskForm):
    responses = FileField(_l("Responses file (.csv in UTF-8, or .xlsx)"),
                          validators=[FileRequired(_l("Choose a file."))])
    submit = SubmitField(_l("Import responses"))


@dataclass
class ExportsPanel:
    export_form: ExportForm
    segment_fields: list
    import_form: ImportForm
    problems: list[ImportProblem] = field(default_factory=list)
    problems_total: int = 0
    can_import: bool = True
    max_bytes: int = 0


def _export_form(survey: Survey) -> tuple[ExportForm, list]:
    """The export form with one multiple choice per segment (profile) question of ``survey``."""
    lang = _lang()
    segment_variables = survey_codebook(survey).select(segment=True)

    class SurveyExportForm(ExportForm):
        pass

    for variable in segment_variables:
        setattr(SurveyExportForm, f"segment_{variable.name}", SelectMultipleField(
            variable.text.get(lang) or variable.name, name=f"segment.{variable.name}",
            choices=[SelectChoice(str(option["value"]), option["label"][lang])
                     for option in variable.scale.get("options", [])],
            validators=[Optional()]))
    form = SurveyExportForm(formdata=None)
    form.version.choices = [SelectChoice("", _("All versions"))] + [
        SelectChoice(str(version.number), str(version.number)) for version in survey.versions]
    return form, [form[f"segment_{variable.name}"] for variable in segment_variables]


@bp.app_template_global()
def exports_panel(survey: Survey) -> ExportsPanel:
    export_form, segment_fields = _export_form(survey)
    rejected: ImportRejected | None = g.get("import_rejected")
    return ExportsPanel(
        export_form=export_form, segment_fields=segment_fields,
        import_form=g.get("import_form") or ImportForm(formdata=None),
        problems=rejected.problems if rejected else [],
        problems_total=rejected.total if rejected else 0,
        can_import=survey.current_version is not None, max_bytes=max_import_bytes())


@bp.route("/surveys/<slug>/export")
@role_required(Role.RESEARCHER)
def export_data(slug: str):
    survey = _editable_survey(slug)
    try:
        fmt = export_format(request.args.get("format", ""))
        filters = parse_filters(survey, request.args)
    except (ExportError, FilterError) as error:
        flash(_("Nothing was exported: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    filename = f"{survey.slug}-{stamp}-{fmt.suffix}"
    if fmt.chunks is not None:
        body = stream_with_context(fmt.chunks(survey, filters, _lang()))
        return Response(body, mimetype=fmt.mimetype, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})
    try:
        stream = export_to_temporary_file(survey, fmt.key, filters, _lang())
    except ExportError as error:
        flash(_("Nothing was exported: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))
    return send_file(stream, mimetype=fmt.mimetype, as_attachment=True, download_name=filename)


@bp.route("/surveys/<slug>/import", methods=["POST"])
@role_required(Role.RESEARCHER)
def import_data(slug: str):
    survey = _editable_survey(slug)
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
        g.import_form = form
        return _overview_with_problems(slug, 400)
    upload = form.responses.data
    try:
        result = import_responses(survey, upload.filename or "", upload.read())
    except ImportRejected as rejected:
        g.import_form, g.import_rejected = form, rejected
        return _overview_with_problems(slug, 400)
    flash(_("%(n)s responses imported.", n=result.imported), "info")
    return redirect(url_for("admin.survey_overview", slug=slug, _anchor="exports"))


def _overview_with_problems(slug: str, status: int):
    """The overview page again, its data panel listing what was wrong (from ``g``)."""
    flash(_("Nothing was imported: fix the problems listed under Import and upload the file again."),
          "error")
    return survey_overview(slug), status
