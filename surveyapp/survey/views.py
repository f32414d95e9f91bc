"""Survey-taking views: thin; storage rules live in services.responses."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Invitation, Response, ResponseStatus, Survey
from ..services.responses import AnswerError, codebook_of, submit_response
from ..services.surveys import availability
from .forms import answers_from_form, build_form, duplicated_fields, unknown_fields
from . import bp

FORM_EXTRA_FIELDS = ("csrf_token", "t", "lang")


def _survey_or_404(slug: str) -> Survey:
    survey = db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None:
        abort(404)
    return survey


def _invitation(survey: Survey) -> Invitation | None:
    token = request.values.get("t")
    if not token:
        return None
    invitation = db.session.execute(select(Invitation).where(
        Invitation.token == token, Invitation.survey_id == survey.id)).scalar_one_or_none()
    if invitation is None:
        abort(404)
    return invitation


@bp.route("/<slug>", methods=["GET", "POST"])
def take(slug: str):
    from .. import select_locale
    lang = select_locale()
    survey = _survey_or_404(slug)
    unavailable = availability(survey)
    if unavailable:
        return render_template("survey/unavailable.html", survey=survey, reason=unavailable), 403
    invitation = _invitation(survey)
    if invitation is not None and db.session.execute(select(Response.id).where(
            Response.invitation_id == invitation.id,
            Response.status == ResponseStatus.COMPLETE.value)).first():
        return render_template("survey/already_answered.html", survey=survey), 409

    version = survey.current_version
    variables = list(codebook_of(version))
    form = build_form(variables, lang)
    if request.method == "POST":
        names = [v.name for v in variables]
        tampered = duplicated_fields(request.form, names) + unknown_fields(
            request.form, names, FORM_EXTRA_FIELDS)
        if tampered:
            abort(400, description="unexpected fields: " + ", ".join(tampered))
        if form.validate():
            try:
                submit_response(version, answers_from_form(form, variables), language=lang,
                                invitation_id=invitation.id if invitation else None)
            except AnswerError as error:
                for name, message in error.errors.items():
                    form[name].errors.append(message)
            except IntegrityError:
                return render_template("survey/already_answered.html", survey=survey), 409
            else:
                return redirect(url_for("survey.thanks", slug=slug))
        flash(_("Some answers are missing or not valid; see the marked questions."), "error")
    return render_template("survey/take.html", survey=survey, form=form, variables=variables,
                           invitation=invitation)


@bp.route("/<slug>/thanks")
def thanks(slug: str):
    return render_template("survey/thanks.html", survey=_survey_or_404(slug))
