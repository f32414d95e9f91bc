"""Login, logout, and the role and survey-access checks every protected view uses."""
from __future__ import annotations

import math
from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .extensions import db, limiter, login_manager
from .models import Role, Survey, SurveyShare, User
from .security import (authenticate, configured_limit, login_locked_for, note_failed_login,
                       note_successful_login)

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session or remember cookie ``"<id>:<session version>"``, if still valid."""
    number, _, version = user_id.partition(":")
    if not number.isdigit():
        return None
    user = db.session.get(User, int(number))
    if user is None or version != str(user.session_version):
        return None  # revoked: logged out, password or role changed since
    return user


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Log in"))


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would turn the login page into a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        wait = login_locked_for(username)
        user = authenticate(username, form.password.data)
        if wait:
            flash(_("Too many failed log-ins for this user name. Please try again in "
                    "%(minutes)s minute(s).", minutes=math.ceil(wait / 60)), "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            note_failed_login(username)
            flash(_l("Unknown user name or wrong password."), "error")
            return render_template("auth/login.html", form=form), 401
        note_successful_login(username)
        login_user(user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ends this user's sessions everywhere: a copied cookie must not outlive the logout.
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    return redirect(url_for("main.index"))


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
