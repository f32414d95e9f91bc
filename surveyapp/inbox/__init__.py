"""The staff inbox: alerts of the recovery loop for the signed-in user, and the header badge."""
from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

from . import views  # noqa: E402,F401  (routes register on bp)
