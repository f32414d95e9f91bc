"""Erasing one respondent on request, and deleting a whole survey (services/personal_data.py).

Only an admin or the survey's owner; anyone else is told there is no such
survey (404), like every survey page. The form is a POST with the CSRF token
and a ticked confirmation; the audit entry names the response id only.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, NumberRange

from ..access import accessible_survey_or_404, role_required
from ..extensions import db
from ..models import Case, Response, Role
from ..services.personal_data import ErasureError, delete_survey, erase_response, owner_or_admin
from . import bp


class EraseResponseForm(FlaskForm):
    response_id = IntegerField(_l("Response id"), validators=[DataRequired(), NumberRange(min=1)])
    confirm = BooleanField(_l("I understand that this respondent's answers, comment, contact details "
                              "and case are erased for good."), validators=[DataRequired()])
    submit = SubmitField(_l("Erase this respondent"))


def _erasable_survey(slug: str):
    survey = accessible_survey_or_404(slug)
    if not owner_or_admin(current_user, survey):
        abort(404)
    return survey


@bp.route("/surveys/<slug>/erase", methods=["GET", "POST"])
@role_required(Role.RESEARCHER)
def erase_respondent(slug: str):
    """GET ``?response=ID``: what would be erased, and the confirmation form; POST: erase."""
    survey = _erasable_survey(slug)
    form = EraseResponseForm()
    if request.method == "GET":
        form.response_id.data = request.args.get("response", type=int)
    response = None
    if form.response_id.data and form.response_id.data < 2**31:
        response = db.session.get(Response, form.response_id.data)
        if response is not None and response.survey_id != survey.id:
            response = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            erase_response(survey, form.response_id.data)
        except ErasureError:
            abort(404)
        flash(_("Respondent %(id)s is erased: answers, comment, contact details, case and "
                "invitation. The audit log keeps the response id only.", id=form.response_id.data),
              "info")
        return redirect(url_for("admin.survey_overview", slug=slug))
    if request.method == "POST" and response is None:
        abort(404)
    case = db.session.execute(select(Case).where(Case.response_id == response.id)
                              ).scalar_one_or_none() if response is not None else None
    status = 400 if request.method == "POST" else (404 if form.response_id.data and response is None else 200)
    return render_template("admin/erase.html", survey=survey, form=form, response=response,
                           case=case), status


class DeleteSurveyForm(FlaskForm):
    slug = StringField(_l("Type the survey's link name to confirm"), validators=[DataRequired()])
    submit = SubmitField(_l("Delete the survey and all its data"))


@bp.route("/surveys/<slug>/delete", methods=["GET", "POST"])
@role_required(Role.RESEARCHER)
def delete_survey_view(slug: str):
    """Delete a survey with all its responses, contacts and cases (owner or admin; audited)."""
    survey = _erasable_survey(slug)
    form = DeleteSurveyForm()
    if form.validate_on_submit():
        if form.slug.data.strip() != survey.slug:
            form.slug.errors = [*form.slug.errors, _("That is not this survey's link name.")]
        else:
            responses = delete_survey(survey)
            flash(_("Deleted the survey %(slug)s and its %(n)s responses.", slug=slug, n=responses),
                  "info")
            return redirect(url_for("admin.index"))
    return render_template("admin/delete_survey.html", survey=survey, form=form), \
        (400 if form.errors else 200)
