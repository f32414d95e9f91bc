"""Who may see what: the role and survey-access checks every protected view uses."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, current_app, url_for
from flask_login import current_user, login_required

from .extensions import db
from .models import Role, Survey, SurveyShare, User


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


def can_access_survey(user: User, survey: Survey) -> bool:
    """Admins see every survey; others their own and those shared with them."""
    if not user.is_authenticated:
        return False
    if user.has_role(Role.ADMIN) or survey.owner_id == user.id:
        return True
    return db.session.execute(
        db.select(SurveyShare.id).where(SurveyShare.survey_id == survey.id,
                                        SurveyShare.user_id == user.id)
    ).first() is not None


def accessible_survey_or_404(slug: str) -> Survey:
    """The survey named by ``slug`` if the current user may see it, else 404.

    Absent and not theirs get the same answer: a 403 would tell a stranger which
    link names exist.
    """
    survey = db.session.execute(db.select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None or not can_access_survey(current_user, survey):
        abort(404)
    return survey


def visible_surveys(user: User) -> list[Survey]:
    """The surveys ``user`` may see (own and shared; every survey for an admin), newest first."""
    query = db.select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())
    if not user.has_role(Role.ADMIN):
        shared = db.select(SurveyShare.survey_id).where(SurveyShare.user_id == user.id)
        query = query.where(db.or_(Survey.owner_id == user.id, Survey.id.in_(shared)))
    return list(db.session.execute(query).scalars())


def optional_url(endpoint: str, **values) -> str | None:
    """``url_for(endpoint)`` if the app has that endpoint, else None.

    Pages link to parts of the app that may not be installed (the cases
    list comes in a later release) without a hard dependency on them.
    """
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)
