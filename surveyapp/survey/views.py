"""Survey-taking views: thin; paging rules in services.pages, storage in services.responses."""
from __future__ import annotations

from flask import (abort, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _, refresh
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from sqlalchemy import inspect as sa_inspect, select

from ..extensions import csrf, db
from ..models import Invitation
from ..security import (PAGE_SAVE_LIMIT, SURVEY_PAGE_SAVE_LIMIT, UNKNOWN_LINK_LIMIT,
                        respondent_limits)
from ..services.invitations import note_link_opened, unsubscribe
from ..services.responses import AnswerError, save_unfinished_page, submit_response
from ..services.surveys import availability
from ..services.version_cache import version_design
from . import bp
from .flow import (CLIENT_COOKIE, LinkInUse, SurveySnapshot, UnknownInvitation, Visit,
                   forget_started, note_started, remembered_not_applicable, response_object,
                   set_client_cookie, start_visit, started_at, survey_by_slug)
from ..i18n import select_locale
from ..questionnaire.forms import (FINAL_PAGE_FIELDS, FinalPageForm, UnsubscribeForm,
                                   answers_from_form, build_form, csrf_token_valid, posted_answers,
                                   duplicated_fields, form_data_from_answers, invalid_answers,
                                   unknown_fields)
from ..questionnaire.render import render_from_frame, render_survey_page, render_welcome
from ..services.pages import next_shown, shown_page

NAVIGATION_FIELDS = ("csrf_token", "t", "page", "action", "switch_lang")


def _language() -> str:
    return select_locale()


def _survey_or_404(slug: str) -> SurveySnapshot:
    survey = survey_by_slug(slug)
    if survey is None:
        abort(404)
    return survey


def _link(visit: Visit, page_index: int | None = None, **extra) -> str:
    """The survey URL for ``visit`` (token kept), at a 0-based page."""
    args = dict(extra)
    if visit.token is not None:
        args["t"] = visit.token
    if page_index is not None:
        args["p"] = page_index + 1
    return url_for("survey.take", slug=visit.slug, **args)


def _open_visit(survey: SurveySnapshot):
    """The visit, or a finished HTTP response for an unavailable survey, a bad link or a done one."""
    reason = availability(survey)
    if reason:
        return None, (render_template("survey/unavailable.html", survey=survey, reason=reason), 403)
    try:
        visit = start_visit(survey, request.values.get("t"), request.cookies.get(CLIENT_COOKIE),
                            lock=request.method == "POST")
    except UnknownInvitation:
        return None, (render_template("survey/unavailable.html", survey=survey,
                                      reason="unknown_link"), 404)
    except LinkInUse:
        status = 409 if request.method == "POST" else 200
        return None, (render_template("survey/already_answered.html", survey=survey,
                                      in_other_browser=True), status)
    if visit.completed:
        status = 409 if request.method == "POST" else 200
        return None, (render_template("survey/already_answered.html", survey=survey), status)
    if visit.response is not None and "lang" not in session and "lang" not in request.args:
        # Coming back later: continue in the language the respondent chose before.
        session["lang"] = visit.response.language
    return visit, None


def _with_cookie(rendered, visit: Visit):
    http_response = make_response(rendered)
    set_client_cookie(http_response, visit)
    # Pages hold personal answers: never from a shared cache, always fresh on "back".
    http_response.headers["Cache-Control"] = "no-store"
    return http_response


@bp.route("/<slug>", methods=["GET"])
@respondent_limits(UNKNOWN_LINK_LIMIT)
def take(slug: str):
    survey = _survey_or_404(slug)
    visit, refusal = _open_visit(survey)
    if refusal:
        return refusal
    if visit.invitation is not None:
        note_link_opened(visit.invitation)
    furthest = visit.furthest_page
    index = request.args.get("p", type=int)
    if index is None:
        # The survey's own link: a welcome page (purpose, time, privacy,
        # language) before the first question, and a "welcome back" with the
        # page reached for someone who stopped part-way.
        note_started(survey.id)
        resumed = visit.response is not None and furthest > 0
        return _with_cookie(render_welcome(
            survey, version_design(visit.version), visit.pages, start_url=_link(visit, furthest),
            resume_page=furthest + 1 if resumed else None), visit)
    index -= 1
    if not 0 <= index <= furthest:
        return _with_cookie(redirect(_link(visit, furthest)), visit)
    note_started(survey.id)
    hidden = visit.hidden()
    shown_index = next_shown(visit.pages, index, hidden)
    if shown_index != index:
        # Every question of that page is hidden by an earlier answer.
        return _with_cookie(redirect(_link(visit, min(shown_index, furthest))), visit)
    page = shown_page(visit.pages[index], hidden)
    if page.is_final:
        form = FinalPageForm(formdata=None,
                             data={"comment": visit.response.comment if visit.response else None})
        return _with_cookie(_render_page(visit, index, form), visit)
    data = form_data_from_answers(page.variables, visit.answers(),
                                  remembered_not_applicable(visit))

    def page_form(answers=data):
        return build_form(page.variables, _language(), formdata=None, data=answers,
                          version=visit.version)

    html = render_from_frame(
        visit.survey, version_design(visit.version), _shown_pages(visit, index), index, data,
        action_url=_link(visit), visit=visit, build_form=page_form)
    return _with_cookie(html if html is not None else _render_page(visit, index, page_form()),
                        visit)


@bp.route("/<slug>", methods=["POST"])
# The page's own form checks its CSRF token (_csrf_expired below): the global check would
# refuse an expired token with a bare 400 and lose what the respondent typed.
@csrf.exempt
@respondent_limits(UNKNOWN_LINK_LIMIT, PAGE_SAVE_LIMIT, SURVEY_PAGE_SAVE_LIMIT)
def save_page(slug: str):
    survey = _survey_or_404(slug)
    visit, refusal = _open_visit(survey)
    if refusal:
        return refusal
    index = request.form.get("page", type=int)
    if index is None or not 1 <= index <= len(visit.pages):
        abort(400, description="missing or unknown page number")
    index -= 1
    if index > visit.furthest_page:
        # A page not reached yet (an old tab, or a hand-made POST): nothing is stored.
        flash(_("We have taken you back to where you left off."), "info")
        return _with_cookie(redirect(_link(visit, visit.furthest_page)), visit)
    hidden = visit.hidden()
    page = shown_page(visit.pages[index], hidden)
    names = list(FINAL_PAGE_FIELDS) if page.is_final else [v.name for v in page.variables]
    tampered = duplicated_fields(request.form, names + list(NAVIGATION_FIELDS)) + unknown_fields(
        request.form, names, NAVIGATION_FIELDS)
    if tampered:
        abort(400, description="unexpected fields: " + ", ".join(tampered))

    action = request.form.get("action", "next")
    switch_to = request.form.get("switch_lang")
    if switch_to is not None and switch_to not in current_app.config["LANGUAGES"]:
        abort(400, description="unknown language")
    if action not in ("next", "back") and switch_to is None:
        abort(400, description="unknown action")
    lang = _language()
    leaving_forward = switch_to is None and action == "next"
    # A question page whose every answer is one its form accepts needs no form; any other
    # post (and the closing page) is read, checked and explained by the form.
    answers = None if page.is_final or not csrf_token_valid(request.form) else \
        posted_answers(page.variables, request.form, visit.version)
    form, valid = None, True
    if answers is None:
        form = _posted_form(visit, page, lang)
        valid = form.validate()
        if _csrf_expired(form):
            flash(_("This page was open for a long time, so for your safety nothing was saved "
                    "yet. Your answers are still here: please press the button again."), "error")
            return _with_cookie(_render_page(visit, index, form), visit)
        if leaving_forward and not valid:
            flash(_("Some answers are missing or not valid; see the marked questions."), "error")
            return _with_cookie(_render_page(visit, index, form), visit)
        if not page.is_final and invalid_answers(form, page.variables):
            # Even when going back, a value outside the scale is never stored.
            flash(_("Some answers are not valid; see the marked questions."), "error")
            return _with_cookie(_render_page(visit, index, form), visit)
        if not page.is_final:
            answers = answers_from_form(form, page.variables, skip_invalid=True)

    # Display logic: which later questions this page's answers show or hide.
    if not page.is_final:
        hidden = visit.hidden({**visit.answers(), **answers[0]})
    if leaving_forward:
        target = next_shown(visit.pages, index + 1, hidden)
        furthest = max(visit.furthest_page, target)
    else:
        # Leaving without the checks: this page may now be incomplete, so the
        # respondent must pass it again with "next" before going further.
        furthest = visit.furthest_page if valid else min(visit.furthest_page, index)
        target = index if switch_to else next_shown(visit.pages, max(index - 1, 0), hidden, -1)
    try:
        if page.is_final:
            _save_final_page(visit, form, complete=leaving_forward, furthest=furthest, lang=lang)
        else:
            _save_question_page(visit, answers, furthest, lang)
    except AnswerError as error:
        if form is None:
            form = _posted_form(visit, page, lang)
            form.validate()
        for name, message in error.errors.items():
            if name in form:
                form[name].errors.append(message)
        flash(_("Some answers are not valid; see the marked questions."), "error")
        return _with_cookie(_render_page(visit, index, form), visit)
    except IntegrityError:
        # The same invitation or browser saved a response at the same moment
        # (two tabs, or two browsers on one link): start over from what was stored;
        # another browser's response is then refused by start_visit.
        return _with_cookie(redirect(_link(visit)), visit)
    except StaleDataError:
        # Another tab saved this response after this request read it: nothing of this
        # page was stored; show the page again with what is stored now.
        flash(_("These answers were changed in another window at the same moment, so this page "
                "was not saved. Please check it and press the button again."), "error")
        return _with_cookie(redirect(_link(visit, index)), visit)
    if switch_to:
        session["lang"] = switch_to
    if page.is_final and leaving_forward:
        forget_started(visit.survey_id)
        return _with_cookie(redirect(url_for("survey.thanks", slug=slug)), visit)
    return _with_cookie(redirect(_link(visit, target)), visit)


def _csrf_expired(form) -> bool:
    token_field = getattr(form, "csrf_token", None)
    return bool(token_field is not None and token_field.errors)


def _posted_form(visit: Visit, page, lang: str):
    """The page's form with the posted values (the closing page's own form on the last page)."""
    if page.is_final:
        return FinalPageForm(formdata=request.form)
    return build_form(page.variables, lang, formdata=request.form, version=visit.version)


def _save_question_page(visit: Visit, posted: tuple[dict, set], furthest: int,
                        lang: str) -> int | None:
    """Store the page's ``(answers, not applicable)``; the response's id (None when nothing
    was worth a row)."""
    answers, not_applicable = posted
    if visit.response is None and not any(v is not None for v in answers.values()) \
            and not not_applicable:
        return None  # nothing to keep yet: no row for someone who only looked
    if visit.response is not None:
        return save_unfinished_page(visit.version, answers, response=visit.response,
                                    language=lang, page=furthest, browser_key=_browser_key(visit))
    stored = submit_response(
        visit.version, answers, complete=False,
        invitation_id=visit.invitation.id if visit.invitation else None,
        client_key=visit.client_key, browser_key=_browser_key(visit), language=lang,
        page=furthest, source="web",
        started_at=started_at(visit.survey_id))
    return _id_of(stored)


def _save_final_page(visit: Visit, form: FinalPageForm, *, complete: bool, furthest: int,
                     lang: str) -> int:
    """Store the closing page; the response's id."""
    return _id_of(submit_response(
        visit.version, {}, response=response_object(visit), complete=complete,
        invitation_id=visit.invitation.id if visit.invitation else None,
        client_key=visit.client_key, browser_key=_browser_key(visit), language=lang,
        comment=form.comment.data or "", contact=form.contact() if complete else None,
        page=furthest, source="web", started_at=started_at(visit.survey_id)))


def _id_of(response) -> int:
    """The id of a just-committed response, from its identity (the commit expired its columns,
    and reading one would load the row again)."""
    return sa_inspect(response).identity[0]


def _browser_key(visit: Visit) -> str | None:
    """The browser an invitation response is bound to (anonymous ones have their client key)."""
    return visit.browser_key if visit.invitation is not None else None


def _shown_pages(visit: Visit, index: int) -> list:
    """The visit's pages with page ``index`` showing only the questions asked (display logic)."""
    pages = list(visit.pages)
    pages[index] = shown_page(pages[index], visit.hidden())
    return pages


def _render_page(visit: Visit, index: int, form):
    return render_survey_page(visit.survey, version_design(visit.version),
                              _shown_pages(visit, index), index, form,
                              action_url=_link(visit), visit=visit)


@bp.before_app_request
def decide_locale_per_request() -> None:
    """Flask-Babel caches the locale on the app context, which a request may share
    (tests, CLI-driven requests); the language can change between requests."""
    refresh()


@bp.route("/<slug>/thanks")
def thanks(slug: str):
    return render_template("survey/thanks.html", survey=_survey_or_404(slug))


@bp.route("/<slug>/unsubscribe", methods=["GET", "POST"])
def unsubscribe_view(slug: str):
    """The link at the foot of every invitation e-mail: no more mail to this address, ever."""
    survey = _survey_or_404(slug)
    invitation = db.session.execute(select(Invitation).where(
        Invitation.token == (request.values.get("t") or ""),
        Invitation.survey_id == survey.id)).scalar_one_or_none()
    if invitation is None:
        return render_template("survey/unavailable.html", survey=survey, reason="unknown_link"), 404
    form = UnsubscribeForm()
    if form.validate_on_submit():
        unsubscribe(invitation)
    return render_template("survey/unsubscribe.html", survey=survey, invitation=invitation,
                           form=form, done=invitation.unsubscribed_at is not None)
