"""The home page: what this is, the demo survey, its dashboard, the demo logins."""
from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from .extensions import db
from .models import Role, Survey, SurveyStatus

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    from .services.demo import DEMO_SLUG, DEMO_USERS
    open_surveys = db.session.execute(
        select(Survey).where(Survey.status == SurveyStatus.OPEN.value).order_by(Survey.id)
    ).scalars().all()
    demo = next((s for s in open_surveys if s.slug == DEMO_SLUG), None)
    return render_template(
        "index.html", open_surveys=open_surveys, demo=demo,
        demo_users={role.value: creds for role, creds in DEMO_USERS.items()} if demo else {},
        has_dashboard="dashboard.view" in current_app.view_functions,
        user=current_user, Role=Role)
