"""The language of a request: one rule for every page, e-mail and export label."""
from __future__ import annotations

from typing import Mapping

from flask import current_app, has_request_context, request, session


def select_locale() -> str:
    """``?lang=`` (remembered in the session), else the browser's Accept-Language.

    Outside a request (CLI commands, queue jobs) the default language.
    """
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def text_in(mapping: Mapping[str, str] | None, lang: str) -> str:
    """The ``lang`` text of a ``{zh, en}`` mapping, falling back to English, then any, then ""."""
    mapping = mapping or {}
    return mapping.get(lang) or mapping.get("en") or next(iter(mapping.values()), "")
