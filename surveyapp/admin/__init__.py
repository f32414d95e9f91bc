"""Researchers' and admins' pages under /admin: surveys, builder, invitations, users."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401  (routes register on bp)
from . import data_views  # noqa: E402,F401  (exports/import panel, issue 6B)
from . import webhook_views  # noqa: E402,F401  (a survey's webhooks)
from . import audit_views  # noqa: E402,F401  (the audit log, admins only)
from . import erasure_views  # noqa: E402,F401  (erasing one respondent on request)
