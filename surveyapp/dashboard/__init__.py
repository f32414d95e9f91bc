"""The managers' dashboard: charts of a survey's analysis, filters in the URL, the follow-up list."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def init_app(app: Flask) -> None:
    """Register the blueprint and set up the dashboard cache."""
    from ..services import dashboard_cache
    from . import views  # noqa: F401  (routes register on import)

    dashboard_cache.init_app(app)
    app.register_blueprint(bp)
