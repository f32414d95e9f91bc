"""The survey page as a respondent sees it: one renderer for the live survey and the researcher's preview."""
from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _

from analysis.instruments import condition_text

from ..i18n import select_locale, text_in
from ..services.welcome import estimated_minutes, welcome_texts
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
    feature_numbers, feature_count = kano_feature_numbers(pages, index)
    # The preview stores no answers, so it shows every question and says which
    # ones a respondent sees only on a condition.
    conditions = {v.name: condition_text(v.show_if) for v in page.variables
                  if v.show_if} if preview else {}
    return render_template(
        "survey/page.html", feature_numbers=feature_numbers, feature_count=feature_count,
        conditions=conditions,
 survey=survey, visit=visit, page=page, index=index,
        page_count=len(pages), title=page_title(page.topic, firm), form=form, fields=fields,
        anchors={v.name: scale_anchors(v, lang) for v in page.variables},
        action_url=action_url, preview=preview, text_in=text_in)


def kano_feature_numbers(pages: list, index: int) -> tuple[dict[str, int], int]:
    """``({item: number}, count)``: KANO features numbered across the instrument's pages.

    The KANO block is split into pages of a few features; "Feature 4 of 10"
    tells the respondent how far through the block they are.
    """
    page = pages[index]
    if page.layout != "kano":
        return {}, 0
    instrument = page.variables[0].instrument if page.variables else None
    numbers: dict[str, int] = {}
    for other in pages:
        if other.layout == "kano" and other.variables \
                and other.variables[0].instrument == instrument:
            for section in other.sections:
                for group in section.groups:
                    numbers.setdefault(group.item, len(numbers) + 1)
    return numbers, len(numbers)


def render_welcome(survey: Any, design: dict, pages: list, *, start_url: str,
                   resume_page: int | None = None, preview: bool = False) -> str:
    """``survey/welcome.html``: purpose, firm, estimated minutes, privacy text, languages.

    ``resume_page`` (1-based) turns it into the "welcome back" page of a
    respondent who stopped on that page.
    """
    lang = select_locale()
    firm = text_in(design.get("firm") or {}, lang) or survey.title(lang)
    variables = [v for page in pages for v in page.variables]
    texts = {name: text_in(entry, lang) for name, entry in welcome_texts(design).items()}
    languages = [code for code in (design.get("languages") or []) if code]
    return render_template(
        "survey/welcome.html", survey=survey, firm=firm, texts=texts,
        minutes=estimated_minutes(variables), question_count=len(variables),
        page_count=len(pages), start_url=start_url, resume_page=resume_page,
        survey_languages=languages, preview=preview)
