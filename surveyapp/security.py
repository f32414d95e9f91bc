"""Cross-cutting protections wired in by :func:`init_app` (one line in the app factory).

* every submitted form value loses its control characters before any view,
  form or service sees it (:func:`surveyapp.services.text_safety.clean_text`);
"""
from __future__ import annotations

from flask import Flask, Request

from .services.text_safety import clean_text


class CleanFormRequest(Request):
    """A request whose ``form`` values are cleaned of control characters once, when parsed.

    One place for every form of the app (survey answers, comments, titles,
    KANO features, account fields): a NUL or ``\\x01`` can no longer reach
    the database or an export. Uploaded files are left alone (the import
    service cleans the cells it keeps).
    """

    def _load_form_data(self) -> None:
        already_parsed = "form" in self.__dict__
        super()._load_form_data()
        if already_parsed:
            return
        form = self.__dict__["form"]
        self.__dict__["form"] = self.parameter_storage_class(
            [(clean_text(key), clean_text(value)) for key, value in form.items(multi=True)])


def init_app(app: Flask) -> None:
    """Install the protections of this module on ``app``."""
    app.request_class = CleanFormRequest
