"""Case pages: list per survey, the case page and its forms, the rule, recovery figures, the re-survey.

Access: the list, the case page, its forms and the recovery figures need any
share of the survey (viewer and up; :func:`surveyapp.access.require_survey_access`);
contact details only for those :func:`surveyapp.services.cases.may_see_contact`
allows. Changing the rule needs the survey's owner or an admin (it decides
whom the team calls). The re-survey page is public: its unguessable token is
the customer's key, and it answers once.
"""
from __future__ import annotations

import json

import plotly
import plotly.graph_objects as go
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import accessible_survey_or_404, require_survey_access, role_required
from ..extensions import db
from ..i18n import select_locale
from ..models import Case, CaseStatus, Role, Survey, User
from ..services import cases as service
from ..services.codebooks import value_labels
from . import bp
from .forms import (CHURN_BAND_LABELS, PRIORITY_LABELS, ROOT_CAUSE_LABELS, STATUS_LABELS, AssignForm, NoteForm,
                    PriorityForm, ResolveForm, ResurveyForm, RuleForm, StatusForm)

PER_PAGE = 50


def _case_or_404(case_id: int) -> tuple[Case, Survey]:
    case = db.session.get(Case, case_id)
    if case is None:
        abort(404)
    return case, require_survey_access(db.session.get(Survey, case.survey_id), "view")


def _flag(value: str | None) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


@bp.route("/<slug>/")
@role_required(Role.MANAGER, Role.RESEARCHER)
def case_list(slug: str):
    survey = accessible_survey_or_404(slug)
    status = request.args.get("status") or None
    owner = request.args.get("owner", type=int)
    overdue = _flag(request.args.get("overdue"))
    page = max(1, request.args.get("page", 1, type=int))
    if status is not None and status not in STATUS_LABELS:
        abort(400)
    found = service.list_cases(survey, status=status, owner_id=owner, overdue=overdue, page=page,
                               per_page=PER_PAGE)
    return render_template("cases/list.html", survey=survey, found=found, status=status, owner=owner,
                           overdue=overdue, team=service.case_team(survey),
                           status_labels=STATUS_LABELS, priority_labels=PRIORITY_LABELS,
                           band_labels=CHURN_BAND_LABELS,
                           open_count=service.open_case_counts([survey.id]).get(survey.id, 0))


@bp.route("/case/<int:case_id>")
@role_required(Role.MANAGER, Role.RESEARCHER)
def case_page(case_id: int):
    case, survey = _case_or_404(case_id)
    return _render_case(case, survey)


def _forms(case: Case, survey: Survey) -> dict:
    assign = AssignForm(prefix="assign")
    assign.owner.choices = [(0, "—")] + [(u.id, u.username) for u in service.case_team(survey)]
    status = StatusForm(prefix="status")
    status.status.choices = [(s, STATUS_LABELS[s]) for s in sorted(service.TRANSITIONS.get(case.status, ()))]
    return {"assign_form": assign, "status_form": status, "priority_form": PriorityForm(prefix="priority"),
            "note_form": NoteForm(prefix="note"), "resolve_form": ResolveForm(prefix="resolve")}


def _render_case(case: Case, survey: Survey, status_code: int = 200, **forms):
    lang = select_locale()
    all_forms = {**_forms(case, survey), **forms}
    if request.method == "GET":
        all_forms["assign_form"].owner.data = case.owner_id or 0
        all_forms["priority_form"].priority.data = case.priority
    contact = service.contact_of(case) if service.may_see_contact(current_user, survey) else None
    return render_template(
        "cases/case.html", case=case, survey=survey, answers=service.case_answers(case, lang),
        contact=contact, contact_hidden=not service.may_see_contact(current_user, survey),
        has_contact=service.contact_of(case) is not None,
        status_labels=STATUS_LABELS, priority_labels=PRIORITY_LABELS, band_labels=CHURN_BAND_LABELS,
        root_cause_labels=ROOT_CAUSE_LABELS, emotion_engine=service.engine_label(),
        resurvey_url=service.resurvey_url(case), closed=case.status in service.CLOSED,
        **all_forms), status_code


def _act(case_id: int, form_cls, prefix: str, action):
    case, survey = _case_or_404(case_id)
    forms = _forms(case, survey)
    form = forms[f"{prefix}_form"]
    if form.validate_on_submit():
        try:
            action(case, survey, form)
        except service.CaseError as error:
            flash(str(error), "error")
            return _render_case(case, survey, 400, **{f"{prefix}_form": form})
        flash(_("Saved."), "success")
        return redirect(url_for("cases.case_page", case_id=case.id))
    return _render_case(case, survey, 400, **{f"{prefix}_form": form})


@bp.post("/case/<int:case_id>/assign")
@role_required(Role.MANAGER, Role.RESEARCHER)
def assign(case_id: int):
    def do(case, survey, form):
        owner = db.session.get(User, form.owner.data) if form.owner.data else None
        service.assign(case, owner, current_user)
    return _act(case_id, AssignForm, "assign", do)


@bp.post("/case/<int:case_id>/status")
@role_required(Role.MANAGER, Role.RESEARCHER)
def status(case_id: int):
    return _act(case_id, StatusForm, "status",
                lambda case, survey, form: service.set_status(case, form.status.data, current_user))


@bp.post("/case/<int:case_id>/priority")
@role_required(Role.MANAGER, Role.RESEARCHER)
def priority(case_id: int):
    return _act(case_id, PriorityForm, "priority",
                lambda case, survey, form: service.set_priority(case, form.priority.data, current_user))


@bp.post("/case/<int:case_id>/note")
@role_required(Role.MANAGER, Role.RESEARCHER)
def note(case_id: int):
    return _act(case_id, NoteForm, "note",
                lambda case, survey, form: service.add_note(case, form.text.data, current_user))


@bp.post("/case/<int:case_id>/resolve")
@role_required(Role.MANAGER, Role.RESEARCHER)
def resolve(case_id: int):
    return _act(case_id, ResolveForm, "resolve", lambda case, survey, form: service.resolve(
        case, form.root_cause.data, form.action_taken.data, current_user,
        unreachable=form.outcome.data == CaseStatus.CLOSED_UNREACHABLE.value))


@bp.route("/<slug>/rule", methods=["GET", "POST"])
@role_required(Role.MANAGER, Role.RESEARCHER)
def rule(slug: str):
    survey = accessible_survey_or_404(slug)
    may_edit = current_user.has_role(Role.ADMIN) or survey.owner_id == current_user.id
    settings = service.case_settings(survey)
    segments = service.segment_variables(survey)
    team = service.case_team(survey)
    form = RuleForm()
    form.set_segments(segments, select_locale())
    if request.method == "GET":
        form.fill(service.survey_rule(survey), settings.sla_hours, settings.suppression_days,
                  settings.enabled)
        form.fill_routing(service.survey_routing(survey), {u.id: u.username for u in team})
    elif not may_edit:
        abort(403)
    elif form.validate_on_submit():
        routing = form.routing(segments, {u.username: u.id for u in team})
        if routing is not None:
            try:
                service.save_settings(survey, form.rule(), sla_hours=form.sla_hours.data,
                                      suppression_days=form.suppression_days.data,
                                      enabled=form.enabled.data, routing=routing)
            except service.CaseError as error:
                form.route_owners.errors = [*form.route_owners.errors, str(error)]
            else:
                flash(_("The rule is saved. New responses are checked against it; the follow-up list uses it."),
                      "success")
                return redirect(url_for("cases.rule", slug=slug))
    return render_template("cases/rule.html", survey=survey, form=form, may_edit=may_edit,
                           segments=segments, team=team, lang=select_locale(), segment_values=value_labels,
                           emotion_engine=service.engine_label()), (400 if form.errors else 200)


@bp.route("/<slug>/recovery")
@role_required(Role.MANAGER, Role.RESEARCHER)
def recovery(slug: str):
    survey = accessible_survey_or_404(slug)
    summary = service.survey_recovery(survey)
    frame = service.recovery_frame(survey)
    bands = frame["churn_band"].value_counts().reindex(["high", "medium", "low"]).fillna(0).astype(int)
    return render_template("cases/recovery.html", survey=survey, summary=summary,
                           # "</" escaped: the JSON sits in a <script type="application/json"> block.
                           figure=json.dumps(_before_after_figure(summary),
                                             cls=plotly.utils.PlotlyJSONEncoder).replace("</", "<\\/"),
                           root_cause_labels=ROOT_CAUSE_LABELS, bands=bands.to_dict(),
                           band_labels=CHURN_BAND_LABELS)


def _before_after_figure(summary) -> dict:
    """Mean satisfaction at the response vs with the recovery (1-10), answered re-surveys only."""
    before, after = summary.mean_before, summary.mean_after
    n = len(summary.before_after)
    figure = go.Figure(go.Bar(
        x=[_("Before (overall satisfaction)"), _("After (satisfaction with the recovery)")],
        y=[before or 0, after or 0], text=[f"{v:.1f}" if v is not None else "—" for v in (before, after)],
        textposition="outside", marker_color=["#c0392b", "#1f5fa8"]))
    figure.update_layout(title=_("Satisfaction before and after recovery (n = %(n)s)", n=n),
                         yaxis={"range": [0, 10.5], "title": "1–10"}, margin={"t": 50, "l": 40, "r": 10},
                         height=320)
    return figure.to_plotly_json()


@bp.route("/r/<token>", methods=["GET", "POST"])
def resurvey(token: str):
    """The customer's one question after a resolved case (no login: the token is the key)."""
    case = service.case_by_resurvey_token(token)
    if case is None:
        abort(404)
    survey = db.session.get(Survey, case.survey_id)
    if case.recovery_answered_at is not None:
        return render_template("cases/resurvey_done.html", survey=survey, already=True)
    form = ResurveyForm()
    if form.validate_on_submit():
        service.answer_resurvey(case, form.satisfaction.data, form.comment.data)
        return render_template("cases/resurvey_done.html", survey=survey, already=False)
    return render_template("cases/resurvey.html", survey=survey, form=form), (400 if form.errors else 200)


@bp.app_context_processor
def open_cases_badge():
    """``open_cases()``: not-closed cases the signed-in user can see (the badge)."""
    def count() -> int:
        if not current_user.is_authenticated or not current_user.has_role(
                Role.ADMIN, Role.MANAGER, Role.RESEARCHER):
            return 0
        return service.accessible_open_cases(current_user)
    return {"open_cases": count}
