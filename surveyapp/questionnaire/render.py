"""The survey page as a respondent sees it: one renderer for the live survey and the researcher's preview."""
from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _

from ..i18n import select_locale, text_in
from .forms import scale_anchors


def page_title(topic: str, firm: str) -> str:
    # Each literal goes through gettext here so pybabel extracts it.
    titles = {
        "profile": _("About you"),
        "expectation": _("What you expect of an excellent company"),
        "perception": _("Your experience with %(firm)s", firm=firm),
        "pairs": _("What you expect, and what you experience with %(firm)s", firm=firm),
        "overall": _("Your overall view"),
        "allocation": _("What matters most to you"),
        "kano": _("Services %(firm)s might offer", firm=firm),
        "rating": _("You and %(firm)s", firm=firm),
        "emotions": _("How you felt"),
        "final": _("One last step"),
    }
    return titles.get(topic, titles["rating"])


def render_survey_page(survey: Any, design: dict, pages: list, index: int, form: Any, *,
                       action_url: str, visit: Any = None, preview: bool = False) -> str:
    """``survey/page.html`` for page ``index`` of ``pages``, with ``form`` bound to its questions.

    ``design`` is the frozen version's design for a live visit and the draft
    design in a preview (its firm name fills the titles).
    """
    lang = select_locale()
    page = pages[index]
    firm = text_in(design.get("firm") or {}, lang) or survey.title(lang)
    fields = ([form.comment, form.name, form.email, form.phone] if page.is_final
              else [form[v.name] for v in page.variables])
    return render_template(
        "survey/page.html", survey=survey, visit=visit, page=page, index=index,
        page_count=len(pages), title=page_title(page.topic, firm), form=form, fields=fields,
        anchors={v.name: scale_anchors(v, lang) for v in page.variables},
        action_url=action_url, preview=preview, text_in=text_in)
