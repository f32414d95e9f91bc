"""The survey page as a respondent sees it: one renderer for the live survey and the researcher's preview."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, get_template_attribute, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from analysis.instruments import condition_text

from ..i18n import select_locale, text_in
from ..services.welcome import estimated_minutes, welcome_texts
from .cache import per_version_item
from .forms import form_class, scale_anchors


def page_title(topic: str, firm: str) -> str:
    # Each literal goes through gettext here so pybabel extracts it; only the page's own
    # title is translated (a lookup each costs more than the rest of this function).
    titles = {
        "profile": lambda: _("About you"),
        "expectation": lambda: _("What you expect of an excellent company"),
        "perception": lambda: _("Your experience with %(firm)s", firm=firm),
        "pairs": lambda: _("What you expect, and what you experience with %(firm)s", firm=firm),
        "overall": lambda: _("Your overall view"),
        "allocation": lambda: _("What matters most to you"),
        "kano": lambda: _("Services %(firm)s might offer", firm=firm),
        "rating": lambda: _("You and %(firm)s", firm=firm),
        "emotions": lambda: _("How you felt"),
        "final": lambda: _("One last step"),
    }
    return titles.get(topic, titles["rating"])()


def render_survey_page(survey: Any, design: dict, pages: list, index: int, form: Any, *,
                       action_url: str, visit: Any = None, preview: bool = False,
                       ask: Callable[..., Markup] | None = None) -> str:
    """``survey/page.html`` for page ``index`` of ``pages``, with ``form`` bound to its questions.

    ``design`` is the frozen version's design for a live visit and the draft
    design in a preview (its firm name fills the titles). A live visit's
    questions come from :func:`question_renderer` (made once per version);
    ``ask`` replaces it (:class:`PageFrame` marks where each question goes).
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
    anchors = {v.name: scale_anchors(v, lang) for v in page.variables}
    version = None if preview else getattr(visit, "version", None)
    return render_template(
        "survey/page.html", feature_numbers=feature_numbers, feature_count=feature_count,
        conditions=conditions,
 survey=survey, visit=visit, page=page, index=index,
        page_count=len(pages), title=page_title(page.topic, firm), form=form, fields=fields,
        anchors=anchors, ask=ask or question_renderer(form, anchors, lang, version),
        action_url=action_url, preview=preview, text_in=text_in)


def question_renderer(form: Any, anchors: dict[str, dict[str, str]], lang: str,
                      version: Any = None) -> Callable[..., Markup]:
    """``ask(variable, facet_label=None)`` for the page template: one question's HTML.

    It is the ``ask`` macro of ``survey/_questions.html``. With the frozen
    ``version`` of a live visit, a question without errors is its
    :class:`QuestionSkeleton` (the macro's output made once per version,
    language and label) with the respondent's answer filled in, which is the
    same HTML for a fraction of the work; a question with errors (and the
    preview of a draft) goes through the macro.
    """
    macro = get_template_attribute("survey/_questions.html", "ask")

    def ask(variable, facet_label: str | None = None) -> Markup:
        field = form[variable.name]
        if version is None or field.errors:
            return macro(form, variable, anchors, facet_label)
        skeleton = question_skeleton(version, variable, lang, facet_label)
        return macro(form, variable, anchors, facet_label) if skeleton is None \
            else skeleton.fill(field)

    return ask


def question_skeleton(version: Any, variable: Any, lang: str,
                      facet_label: str | None) -> "QuestionSkeleton | None":
    """The question's :class:`QuestionSkeleton`, made once per version, language and label."""
    return per_version_item("question-html", version, (lang, variable.name, facet_label),
                            lambda: QuestionSkeleton.build(variable, lang, facet_label))


@dataclass(frozen=True)
class QuestionSkeleton:
    """One question's HTML as the ``ask`` macro renders it with no answer and no error.

    ``openings`` maps each option value of a radio question to the start of
    its ``<input`` tag, where WTForms writes ``checked`` for the chosen one;
    a number question (no ``openings``) has one ``value=""`` to fill.
    """

    html: str
    openings: dict[str, str]

    @classmethod
    def build(cls, variable: Any, lang: str, facet_label: str | None) -> "QuestionSkeleton | None":
        """Rendered from a form of its own; None if the HTML is not as expected (use the macro)."""
        field = form_class([variable], lang)(formdata=None, meta={"csrf": False})[variable.name]
        macro = get_template_attribute("survey/_questions.html", "ask")
        html = str(macro({variable.name: field}, variable,
                         {variable.name: scale_anchors(variable, lang)}, facet_label))
        if variable.scale["type"] == "constant_sum":
            return cls(html, {}) if html.count(' value=""') == 1 else None
        openings = {str(option.data): f'<input id="{escape(option.id)}" ' for option in field}
        if any(html.count(opening) != 1 for opening in openings.values()):
            return None
        return cls(html, openings)

    def fill(self, field: Any) -> Markup:
        """The HTML with ``field``'s answer (its checked option, or its number) in it."""
        return self._filled(field._value() if not self.openings else field.data)

    def fill_data(self, data: object) -> Markup:
        """The HTML with ``data`` as the answer, as a field holding that data shows it.

        ``data`` is what :func:`~surveyapp.questionnaire.forms.form_data_from_answers`
        gives (an option's value, or a number), so a page shown again needs no form.
        """
        if not self.openings:
            return self._filled("" if data is None else str(data))
        return self._filled(data)

    def _filled(self, answer: object) -> Markup:
        if not self.openings:
            return Markup(self.html.replace(' value=""', f' value="{escape(answer)}"', 1)
                          if answer else self.html)
        opening = self.openings.get(answer) if isinstance(answer, str) else None
        if opening is None:
            return Markup(self.html)
        return Markup(self.html.replace(opening, "<input checked " + opening[len("<input "):], 1))


#: Marks a place :class:`PageFrame` fills; NUL is in no text a page shows (checked when built).
_SLOT = "\x00"
_CSRF_SLOT, _TOKEN_SLOT = "csrf", "token"
#: The query arguments a respondent's page links carry (see the survey views' ``_link``).
FRAMED_ARGS = frozenset({"p", "t"})
#: Invitation tokens are URL-safe, so they read the same in a link and in an attribute.
_URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class PageFrame:
    """A live question page's HTML with the places that differ between respondents left open.

    Showing a page again cost a form of its own and the whole template, though
    only three things differ between respondents on it: the CSRF token, the
    invitation token (in the form, the action URL and the language links) and
    the answers. The frame is that HTML cut at those places; :meth:`fill` puts
    a respondent's in. It is made once per version, page, language, shown
    questions and link shape, and kept only if filling it gave exactly what the
    template gave for the request that made it.
    """

    pieces: tuple[str, ...]
    #: What goes between ``pieces[i]`` and ``pieces[i + 1]``: ``"csrf"``, ``"token"`` or a
    #: question's ``(name, facet label)``.
    slots: tuple[object, ...]
    skeletons: dict[tuple[str, str | None], QuestionSkeleton]

    def fill(self, csrf_token: str | None, token: str | None,
             data: dict[str, object]) -> str:
        parts = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:]):
            if slot == _CSRF_SLOT:
                parts.append(csrf_token or "")
            elif slot == _TOKEN_SLOT:
                parts.append(token or "")
            else:
                parts.append(self.skeletons[slot].fill_data(data.get(slot[0])))
            parts.append(piece)
        return "".join(parts)

    @classmethod
    def cut(cls, html: str, csrf_token: str | None, token: str | None,
            skeletons: dict[tuple[str, str | None], QuestionSkeleton]) -> "PageFrame | None":
        """The frame of ``html``, rendered with ``_SLOT`` marks for questions; None if ambiguous."""
        if _SLOT in (csrf_token or "") or _SLOT in (token or ""):
            return None
        if csrf_token:
            if html.count(csrf_token) != 1:
                return None
            html = html.replace(csrf_token, f"{_SLOT}{_CSRF_SLOT}{_SLOT}")
        if token:
            html = html.replace(token, f"{_SLOT}{_TOKEN_SLOT}{_SLOT}")
        chunks = html.split(_SLOT)
        if len(chunks) % 2 == 0:
            return None
        names = {f"q{index}": key for index, key in enumerate(skeletons)}
        slots: list[object] = []
        for mark in chunks[1::2]:
            if mark in (_CSRF_SLOT, _TOKEN_SLOT):
                slots.append(mark)
            elif mark in names:
                slots.append(names[mark])
            else:
                return None
        return cls(tuple(chunks[0::2]), tuple(slots), dict(skeletons))


def render_from_frame(survey: Any, design: dict, pages: list, index: int,
                      data: dict[str, object], *, action_url: str, visit: Any,
                      build_form: Callable[[dict[str, object]], Any]) -> str | None:
    """Page ``index`` of a live visit with ``data`` as answers, from its :class:`PageFrame`.

    None when the page must go through :func:`render_survey_page`: a closing
    page, a message to show (``flash``), a link with other query arguments than
    ``p`` and ``t``, an invitation token that is not URL-safe, or a page whose
    frame could not be made. ``build_form(answers)`` makes the page's form with
    those answers (only when the frame is made).
    """
    page = pages[index]
    version = visit.version
    token = visit.token
    args = request.args
    if (page.is_final or version is None or "_flashes" in session
            or not set(args) <= FRAMED_ARGS
            or any(len(values) > 1 for values in args.listvalues())
            or (token is not None and not _URL_SAFE.match(token))):
        return None
    lang = select_locale()
    shape = tuple((key, "" if key == "t" else value) for key, value in args.items())
    csrf_enabled = bool(current_app.config.get("WTF_CSRF_ENABLED", True))
    key = (lang, index, tuple(v.name for v in page.variables), shape, csrf_enabled,
           visit.slug, request.script_root, survey.title(lang))
    csrf_token = generate_csrf() if csrf_enabled else None

    def cut() -> PageFrame | None:
        form = build_form(data)
        skeletons: dict[tuple[str, str | None], QuestionSkeleton] = {}

        def mark(variable, facet_label: str | None = None) -> Markup:
            skeleton = question_skeleton(version, variable, lang, facet_label)
            if skeleton is None or _SLOT in skeleton.html:
                raise _NotFramed
            place = (variable.name, facet_label)
            skeletons.setdefault(place, skeleton)
            return Markup(f"{_SLOT}q{list(skeletons).index(place)}{_SLOT}")

        try:
            marked = render_survey_page(survey, design, pages, index, form,
                                        action_url=action_url, visit=visit, ask=mark)
        except _NotFramed:
            return None
        frame = PageFrame.cut(marked, csrf_token, token, skeletons)
        if frame is None:
            return None
        # Filled with this respondent's answers and with none, it must give what the template
        # gives: a page that showed an answer anywhere but in its question would fail the
        # second check, so no frame ever carries one respondent's answers to another.
        for answers, answered_form in ((data, form), ({}, build_form({}))):
            if frame.fill(csrf_token, token, answers) != render_survey_page(
                    survey, design, pages, index, answered_form, action_url=action_url,
                    visit=visit):
                return None
        return frame

    frame = per_version_item("page-frame", version, key, cut)
    if frame is None:
        return None
    return frame.fill(csrf_token, token, data)


class _NotFramed(Exception):
    """A question of the page has no skeleton: the page is rendered in full."""


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
