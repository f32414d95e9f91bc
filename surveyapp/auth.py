"""Login and logout (the access checks every protected view uses are in surveyapp.access)."""
from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .extensions import db, limiter, login_manager
from .models import User
from .services import audit
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
            audit.record(audit.LOGIN_FAILED, target=username, detail={"reason": "locked"})
            flash(_("Too many failed log-ins for this user name. Please try again in "
                    "%(minutes)s minute(s).", minutes=math.ceil(wait / 60)), "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            note_failed_login(username)
            # The name tried, never the password (a mistyped password is often a real one).
            audit.record(audit.LOGIN_FAILED, target=username, detail={"reason": "wrong credentials"})
            flash(_l("Unknown user name or wrong password."), "error")
            return render_template("auth/login.html", form=form), 401
        note_successful_login(username)
        login_user(user, remember=form.remember.data)
        audit.record(audit.LOGIN, user=user)
        return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Ends this user's sessions everywhere: a copied cookie must not outlive the logout.
    current_user.end_sessions()
    audit.record(audit.LOGOUT, commit=False)
    db.session.commit()
    logout_user()
    return redirect(url_for("main.index"))
