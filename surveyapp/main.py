"""The home page: each role's own start (after login), else the demo survey and its logins;
for everyone, the open surveys marked public."""
from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from .access import optional_url, visible_surveys
from .extensions import db
from .models import Role, Survey, SurveyStatus

bp = Blueprint("main", __name__)
# Templates link to optional parts (the cases list) only where the app has them.
bp.add_app_template_global(optional_url, "optional_url")


@bp.route("/")
def index():
    from .services.demo import DEMO_SLUG, DEMO_USERS
    # Only surveys their owner marked public: an open survey reached by its link (or personal
    # links) is not advertised to every visitor.
    open_surveys = db.session.execute(
        select(Survey).where(Survey.status == SurveyStatus.OPEN.value, Survey.is_public.is_(True))
        .order_by(Survey.id)
    ).scalars().all()
    demo = next((s for s in open_surveys if s.slug == DEMO_SLUG), None)
    return render_template(
        "index.html", open_surveys=open_surveys, demo=demo,
        demo_users={role.value: creds for role, creds in DEMO_USERS.items()} if demo else {},
        has_dashboard="dashboard.view" in current_app.view_functions,
        user=current_user, Role=Role,
        my_surveys=visible_surveys(current_user) if current_user.is_authenticated else [])
