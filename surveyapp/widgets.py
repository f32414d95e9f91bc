"""Form fields shared by several audiences' forms."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from analysis.instruments import Codebook

from .services.filters import SEGMENT_PREFIX


class CheckboxListField(SelectMultipleField):
    """A multiple choice drawn as a list of checkboxes (usable on a phone, no JS)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def add_segment_fields(form_class: type, codebook: Codebook, lang: str) -> list[str]:
    """Add one checkbox list per segment (profile) choice question to ``form_class``.

    The fields are named like the filter parameters (``segment.PR_BRANCH``), so
    a form's query string is what :func:`surveyapp.services.filters.parse_filters`
    reads. Returns the attribute names of the added fields, in codebook order.
    """
    names = []
    for variable in segment_choice_variables(codebook):
        attribute = segment_attribute(variable.name)
        setattr(form_class, attribute, CheckboxListField(
            variable.text.get(lang) or variable.name, name=SEGMENT_PREFIX + variable.name,
            coerce=int, validators=[Optional()],
            choices=[SelectChoice(int(option["value"]), option["label"].get(lang) or str(option["value"]))
                     for option in variable.scale["options"]]))
        names.append(attribute)
    return names


def segment_choice_variables(codebook: Codebook) -> list:
    """The segment (profile) questions a filter can select on: those with choices."""
    return [v for v in codebook.select(segment=True) if v.scale.get("type") == "choice"]


def segment_attribute(variable: str) -> str:
    """The form attribute of a segment variable's field (a dot cannot be an attribute)."""
    return f"segment_{variable}"


def segment_fields(form: Any, attributes: list[str]) -> list[Any]:
    """The bound segment fields of ``form``, for templates."""
    return [form[attribute] for attribute in attributes]


class UnhappinessRuleFields:
    """The criteria of an unhappiness rule (analysis.followup.UnhappinessRule), shared by the
    manager's follow-up filter and the survey's saved rule; a blank box is not a criterion."""

    overall_at_most = DecimalField(_l("Overall satisfaction (1–10) at most"), places=1,
                                   validators=[Optional(), NumberRange(min=1, max=10)])
    ratio_below = DecimalField(_l("Satisfaction ratio P/E below"), places=2,
                               validators=[Optional(), NumberRange(min=0, max=5)])
    gap_below = DecimalField(_l("SERVQUAL gap P − E below"), places=2,
                             validators=[Optional(), NumberRange(min=-10, max=10)])
    negative_emotion_at_least = DecimalField(_l("Negative emotion at least"), places=1,
                                             validators=[Optional(), NumberRange(min=0, max=10)])
    polarity_below = DecimalField(_l("Comment polarity (−1 to 1) below"), places=2,
                                  validators=[Optional(), NumberRange(min=-1, max=1)])
    keywords = StringField(_l("Keywords (comma-separated, Chinese or English)"),
                           validators=[Optional(), Length(max=1000)])
