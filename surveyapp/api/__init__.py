"""The JSON API ``/api/v1``: surveys, codebooks, responses and analysis results.

Every request except the OpenAPI document carries ``Authorization: Bearer
<token>`` (``flask users token NAME`` issues one; only its SHA-256 is
stored). Errors are JSON ``{"error": {"status", "title", "message"}}``,
including the 404/405 of paths that match no route. There are no cookies,
so CSRF does not apply (the blueprint is exempt).
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException, NotFound, Unauthorized
from werkzeug.http import HTTP_STATUS_CODES

from ..extensions import csrf, db
from ..models import User, hash_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

# Endpoints anyone may read (the API's own description).
PUBLIC_ENDPOINTS = {"api.openapi_document"}


def json_error(status: int, message: str, headers: dict[str, str] | None = None):
    response = jsonify({"error": {"status": status, "title": _title(status), "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _title(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error")


def _in_api(path: str) -> bool:
    return path == bp.url_prefix or path.startswith(bp.url_prefix + "/")


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the header 'Authorization: Bearer <token>' "
                           "(flask users token NAME issues a token)")
    user = db.session.execute(
        db.select(User).where(User.api_token_hash == hash_token(token.strip()))
    ).scalar_one_or_none()
    if user is None:
        raise Unauthorized("unknown or revoked API token")
    g.api_user = user
    return None


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    headers = {"WWW-Authenticate": 'Bearer realm="surveyapp"'} if error.code == 401 else {}
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return json_error(error.code or 500, error.description or _title(error.code or 500), headers)


@bp.before_app_request
def routing_errors_as_json():
    """404/405 of an /api/v1 path that matched no route: JSON, like every other API error.

    Routing fails before Flask knows the blueprint, so the blueprint's error
    handler never sees these; this hook does, without touching the HTML
    error pages of the rest of the site.
    """
    error = request.routing_exception
    if error is None or not _in_api(request.path) or not isinstance(error, HTTPException):
        return None
    if error.code not in (404, 405):
        return None  # e.g. a redirect to the canonical URL
    if isinstance(error, NotFound):
        return json_error(404, "no such API endpoint; see /api/v1/openapi.json")
    return http_error(error)


from . import views  # noqa: E402,F401  (routes register on bp)
