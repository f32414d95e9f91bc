"""Dashboard pages: the charts of a survey, each chart's CSV, the follow-up list, plotly.js."""
from __future__ import annotations

from pathlib import Path

import plotly
from flask import Response, abort, jsonify, render_template, request, send_file, url_for
from flask_login import current_user
from flask_babel import gettext as _
from sqlalchemy import select

from ..access import accessible_survey_or_404, role_required, visible_surveys
from ..i18n import select_locale, text_in
from ..extensions import db
from ..models import Contact, Role

from ..services import cases, dashboard_cache
from ..services.codebooks import survey_codebook
from ..services.filters import FilterError
from ..services.responses import ResponseFilter
from ..services.spreadsheet_safety import safe_csv
from . import bp
from .forms import filter_form, follow_up_form

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
#: Follow-up rows shown on the page; the CSV has them all.
FOLLOW_UP_PAGE_ROWS = 200


def _lang() -> str:
    return select_locale()


def _filtered_request(survey):
    """The survey's filter form from the query string, and its request (None if invalid)."""
    form = filter_form(survey, survey_codebook(survey), _lang(), request.args)
    if not form.validate():
        return form, None
    try:
        return form, form.dashboard_request(survey, request.args)
    except (FilterError, ValueError) as error:
        form.period.errors = [str(error)]
        return form, None


@bp.route("/")
@role_required(Role.MANAGER, Role.RESEARCHER)
def index():
    """The surveys whose dashboard this user may open."""
    return render_template("dashboard/index.html", surveys=visible_surveys(current_user))


@bp.route("/<slug>")
@role_required(Role.MANAGER, Role.RESEARCHER)
def view(slug: str):
    survey = accessible_survey_or_404(slug)
    form, dashboard_request = _filtered_request(survey)
    if dashboard_request is None:
        return render_template("dashboard/view.html", survey=survey, form=form, found=None,
                               content=None), 400
    found = dashboard_cache.lookup(survey, dashboard_request, lang=_lang())
    content = found.entry["languages"][_lang()] if found.entry is not None else None
    figures = {chart["id"]: chart["figure"] for section in (content or {}).get("sections", [])
               for chart in section["charts"] if chart["figure"] is not None}
    return render_template("dashboard/view.html", survey=survey, form=form, found=found, content=content,
                           entry=found.entry, figures=figures, query=request.query_string.decode(),
                           filter_summary=filter_summary(survey, dashboard_request.filters, _lang()),
                           clear_url=_clear_url(survey))


def filter_summary(survey, filters: ResponseFilter, lang: str) -> list[str]:
    """What the filter (read by :func:`..services.filters.parse_filters`) selects, in words:
    ``["survey version 2", "Region = North", "from 2026-01-01"]``; empty when nothing is filtered."""
    parts = []
    if filters.versions:
        parts.append(_("survey version %(numbers)s", numbers=", ".join(str(v) for v in filters.versions)))
    codebook = survey_codebook(survey)
    for column, codes in filters.segments.items():
        variable = codebook[column]
        options = {float(option["value"]): text_in(option.get("label"), lang)
                   for option in (variable.scale or {}).get("options", [])}
        values = ", ".join(options.get(code) or f"{code:g}" for code in codes)
        parts.append(f"{text_in(variable.text, lang) or column} = {values}")
    if filters.start is not None:
        parts.append(_("from %(day)s", day=f"{filters.start:%Y-%m-%d}"))
    if filters.end is not None:
        parts.append(_("to %(day)s", day=f"{filters.end:%Y-%m-%d}"))
    if not filters.complete_only:
        parts.append(_("partial responses included"))
    return parts


def _clear_url(survey) -> str:
    """The dashboard without filters; the language, trend period and comparison stay."""
    kept = {name: request.args[name] for name in ("lang", "period", "compare") if request.args.get(name)}
    return url_for("dashboard.view", slug=survey.slug, **kept)


@bp.route("/<slug>/status")
@role_required(Role.MANAGER, Role.RESEARCHER)
def status(slug: str):
    """Whether the dashboard of this filter is current (the computing page polls this)."""
    survey = accessible_survey_or_404(slug)
    _form, dashboard_request = _filtered_request(survey)
    if dashboard_request is None:
        abort(400)
    found = dashboard_cache.lookup(survey, dashboard_request, wait=0, lang=_lang())
    return jsonify(ready=found.fresh, stale=found.entry is not None and not found.fresh,
                   computed_at=found.entry["computed_at"] if found.entry else None)


@bp.route("/<slug>/chart/<chart_id>.csv")
@role_required(Role.MANAGER, Role.RESEARCHER)
def chart_csv(slug: str, chart_id: str):
    """The data a chart was drawn from, for the same filter as the page."""
    survey = accessible_survey_or_404(slug)
    _form, dashboard_request = _filtered_request(survey)
    if dashboard_request is None:
        abort(400)
    tables = _computed_entry(survey, dashboard_request)["languages"][_lang()]["csv"]
    if chart_id not in tables:
        abort(404)
    return _csv_download(tables[chart_id], f"{survey.slug}-{chart_id}.csv")


def _computed_entry(survey, dashboard_request) -> dict:
    """The cached dashboard of the request; 409 while it is still being computed."""
    found = dashboard_cache.lookup(survey, dashboard_request, lang=_lang())
    if found.entry is None:
        abort(409, description=_("The dashboard is still being computed; try again in a moment."))
    return found.entry


def _csv_download(text: str, filename: str) -> Response:
    # The byte order mark makes Excel read the file as UTF-8 (Chinese labels).
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/<slug>/follow-up")
@role_required(Role.MANAGER, Role.RESEARCHER)
def follow_up(slug: str):
    """Unhappy customers who agreed to be contacted, with why they are listed."""
    survey = accessible_survey_or_404(slug)
    filters_form, dashboard_request = _filtered_request(survey)
    form = follow_up_form(request.args, cases.survey_rule(survey))
    valid = dashboard_request is not None and form.validate()
    rows, total = [], 0
    if valid:
        # Read now, not from the dashboard cache: the cache's analysis leaves out screened
        # responses, and screening must never hide an unhappy customer.
        table = cases.follow_up_table(survey, dashboard_request.filters, form.thresholds())
        total = len(table)
        rows = _with_contacts(table.head(FOLLOW_UP_PAGE_ROWS), cases.may_see_contact(current_user, survey))
    return render_template("dashboard/follow_up.html", survey=survey, form=form, filters_form=filters_form,
                           valid=valid, rows=rows, total=total, shown=len(rows), emotion_engine=cases.engine_label(),
                           query=request.query_string.decode()), (200 if valid else 400)


@bp.route("/<slug>/follow-up.csv")
@role_required(Role.MANAGER, Role.RESEARCHER)
def follow_up_csv(slug: str):
    survey = accessible_survey_or_404(slug)
    _filters_form, dashboard_request = _filtered_request(survey)
    form = follow_up_form(request.args, cases.survey_rule(survey))
    if dashboard_request is None or not form.validate():
        abort(400)
    rows = _with_contacts(cases.follow_up_table(survey, dashboard_request.filters, form.thresholds()),
                          cases.may_see_contact(current_user, survey))
    columns = ["response_id", "name", "email", "phone", "overall", "ratio", "gap", "negative_emotion",
               "polarity", "reasons"]
    return _csv_download(safe_csv(columns, ([row.get(c) for c in columns] for row in rows)),
                         f"{survey.slug}-follow-up.csv")


def _with_contacts(table, may_see: bool) -> list[dict]:
    """Follow-up rows joined with the contact details (read now, never cached).

    Only for those the case pages show them to (services.cases.may_see_contact); for the
    others the columns stay empty.
    """
    ids = [int(i) for i in table["response_id"]] if may_see else []
    contacts = {}
    # Chunked: SQLite allows a limited number of bound parameters per statement.
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        contacts.update({c.response_id: c for c in db.session.execute(
            select(Contact).where(Contact.response_id.in_(chunk))).scalars()})
    rows = []
    for record in table.to_dict("records"):
        contact = contacts.get(int(record["response_id"]))
        rows.append({**{k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()},
                     "name": contact.name if contact else None, "email": contact.email if contact else None,
                     "phone": contact.phone if contact else None})
    return rows


@bp.route("/assets/plotly.min.js")
def plotly_js():
    """plotly.js from the installed plotly package (no CDN); the URL carries its version."""
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=365 * 24 * 3600)


@bp.app_context_processor
def plotly_url():
    return {"plotly_js_url": lambda: url_for("dashboard.plotly_js", v=plotly.__version__)}
