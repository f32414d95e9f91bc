"""Who may see what: the role and survey-access checks every protected view uses."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
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
    """The survey named by ``slug`` if the current user may see it: 404 if absent, 403 if not theirs."""
    survey = db.session.execute(db.select(Survey).where(Survey.slug == slug)).scalar_one_or_none()
    if survey is None:
        abort(404)
    if not can_access_survey(current_user, survey):
        abort(403)
    return survey
