"""The managers' dashboard: charts of a survey's analysis, filters in the URL, the follow-up list."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from . import views  # noqa: E402,F401  (routes register on bp)
