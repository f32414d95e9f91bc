"""Who may see what: the role and survey-access checks every protected view uses."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, current_app, url_for
from flask_login import current_user, login_required

from .extensions import db
from .models import Role, ShareRole, Survey, SurveyShare, User


def role_required(*roles: Role) -> Callable:
    """Require login and one of ``roles`` (admins pass every role check)."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(Role.ADMIN, *roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


#: What each share role allows (admins and the owner may do everything, "share" included).
#: "view": dashboard, follow-up, recovery figures, cases (reading and working them: the
#: managers who call customers back held such shares before roles existed) and the survey's
#: description and codebook in the API; "analyse": the survey's data page and exports (raw
#: responses and comments), the API's responses and analysis; "edit": the builder, preview,
#: opening and closing, invitations, imports and webhooks; "share": adding, changing and
#: removing shares, which no share grants. The account's own role (researcher, manager) no
#: longer limits what a share allows; it decides who creates surveys. Contact details of a
#: case follow their own rule (services.cases.may_see_contact).
SHARE_GRANTS: dict[str, frozenset[str]] = {
    ShareRole.VIEWER.value: frozenset({"view"}),
    ShareRole.ANALYST.value: frozenset({"view", "analyse"}),
    ShareRole.EDITOR.value: frozenset({"view", "analyse", "edit"}),
}
NEEDS = ("view", "analyse", "edit", "share")


def share_role(user: User, survey: Survey) -> str | None:
    """The role of ``user``'s share of ``survey`` (None if it is not shared with them)."""
    if not user.is_authenticated:
        return None
    return db.session.execute(
        db.select(SurveyShare.role).where(SurveyShare.survey_id == survey.id,
                                          SurveyShare.user_id == user.id)
    ).scalar_one_or_none()


def survey_permissions(user: User, survey: Survey) -> frozenset[str]:
    """Everything ``user`` may do with ``survey``: a subset of :data:`NEEDS`."""
    if not user.is_authenticated:
        return frozenset()
    if user.has_role(Role.ADMIN) or survey.owner_id == user.id:
        return frozenset(NEEDS)
    return SHARE_GRANTS.get(share_role(user, survey), frozenset())


def may(user: User, survey: Survey, need: str) -> bool:
    """Whether ``user`` may do ``need`` (one of :data:`NEEDS`) with ``survey``."""
    if need not in NEEDS:
        raise ValueError(f"need must be one of {NEEDS}, not {need!r}")
    return need in survey_permissions(user, survey)


def can_access_survey(user: User, survey: Survey) -> bool:
    """Admins see every survey; others their own and those shared with them (in any role)."""
    return may(user, survey, "view")


def require_survey_access(survey: Survey | str | None, need: str = "view", user: User | None = None,
                          missing: str | None = None) -> Survey:
    """The survey (object or slug) if ``user`` (the signed-in user by default) may do ``need``.

    Every survey page and the JSON API call this, so both answer the same:
    404 for no such survey and for one not shared with the user (a 403 would
    tell a stranger which link names exist; ``missing`` is the 404's message),
    403 when it is shared but the share's role does not allow ``need``.
    """
    if need not in NEEDS:
        raise ValueError(f"need must be one of {NEEDS}, not {need!r}")
    user = current_user if user is None else user
    if isinstance(survey, str):
        missing = missing or f"no survey {survey!r} (or not yours)"
        survey = db.session.execute(db.select(Survey).where(Survey.slug == survey)).scalar_one_or_none()
    granted = survey_permissions(user, survey) if survey is not None else frozenset()
    if "view" not in granted:
        abort(404, description=missing or "no such survey (or not yours)")
    if need not in granted:
        abort(403, description=f"your share of this survey does not allow this ({need})")
    return survey


def accessible_survey_or_404(slug: str) -> Survey:
    """The survey named by ``slug`` if the current user may see it (see require_survey_access)."""
    return require_survey_access(slug, "view")


def visible_surveys(user: User) -> list[Survey]:
    """The surveys ``user`` may see (own and shared; every survey for an admin), newest first."""
    query = db.select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())
    if not user.has_role(Role.ADMIN):
        shared = db.select(SurveyShare.survey_id).where(SurveyShare.user_id == user.id)
        query = query.where(db.or_(Survey.owner_id == user.id, Survey.id.in_(shared)))
    return list(db.session.execute(query).scalars())


def survey_role_label(user: User, survey: Survey) -> str:
    """How ``user`` holds ``survey``: "owner", "admin" or the share's role (lists show it)."""
    if survey.owner_id == user.id:
        return "owner"
    role = share_role(user, survey)
    if role is not None:
        return role
    return "admin" if user.has_role(Role.ADMIN) else ""


def optional_url(endpoint: str, **values) -> str | None:
    """``url_for(endpoint)`` if the app has that endpoint, else None.

    Pages link to parts of the app that may not be installed (the cases
    list comes in a later release) without a hard dependency on them.
    """
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)
