"""The respondent's side: public survey pages at /s/<slug>."""
from flask import Blueprint

bp = Blueprint("survey", __name__, url_prefix="/s")

from . import views  # noqa: E402,F401  (routes register on bp)
