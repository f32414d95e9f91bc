"""Recovery cases (managers' audience): the case list and page, the survey's rule, recovery figures,
and the customer's one-question re-survey after a case is resolved."""
from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

from . import views  # noqa: E402,F401  (routes register on bp)
