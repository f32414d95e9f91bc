"""Dashboard filter and follow-up threshold forms.

Both are GET forms: their values live in the query string so a view can be
bookmarked and shared. They change nothing on the server, so they carry no
CSRF token (a token in the URL would leak into links and logs).
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from analysis.followup import UnhappinessRule
from analysis.instruments import Codebook

from ..models import Survey
from ..services.dashboard_cache import PERIODS, DashboardRequest
from ..services.filters import parse_filters
from ..widgets import (CheckboxListField, UnhappinessRuleFields, add_segment_fields, segment_choice_variables,
                       segment_fields)


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


class FilterForm(_GetForm):
    # Field names are the filter parameters every audience uses (services/filters.py).
    start = DateField(_l("From"), name="from", validators=[Optional()])
    end = DateField(_l("To (inclusive)"), name="to", validators=[Optional()])
    version = CheckboxListField(_l("Survey version"), coerce=int, validators=[Optional()])
    period = SelectField(_l("Trend period"), default="W", validators=[Optional()],
                         choices=[SelectChoice("W", _l("Week")), SelectChoice("M", _l("Month")),
                                  SelectChoice("Q", _l("Quarter"))])
    compare = SelectField(_l("Compare segments by"), validators=[Optional()])
    submit = SubmitField(_l("Apply"))

    segment_attributes: list[str] = []

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_period(self, field) -> None:
        if field.data not in PERIODS:
            raise ValidationError(_l("Choose a week, month or quarter."))

    def segment_fields(self) -> list[Any]:
        return segment_fields(self, self.segment_attributes)

    def dashboard_request(self, survey: Survey, args) -> DashboardRequest:
        """The validated filter as the cache's request (read by the one filter parser)."""
        return DashboardRequest(survey.id, parse_filters(survey, args), self.period.data or "W")


def filter_form(survey: Survey, codebook: Codebook, lang: str, args) -> FilterForm:
    """The filter form of ``survey``: one checkbox list per segment (profile) variable."""

    class SurveyFilterForm(FilterForm):
        pass

    SurveyFilterForm.segment_attributes = add_segment_fields(SurveyFilterForm, codebook, lang)
    segment_variables = segment_choice_variables(codebook)
    form = SurveyFilterForm(formdata=args)
    form.version.choices = [SelectChoice(version.number, str(version.number)) for version in survey.versions]
    form.compare.choices = [SelectChoice(v.name, v.text.get(lang) or v.name) for v in segment_variables]
    if not args.get("compare") and segment_variables:
        form.compare.data = segment_variables[0].name
    if not args.get("period"):
        form.period.data = "W"
    return form


class FollowUpForm(UnhappinessRuleFields, _GetForm):
    """The unhappiness rule for this view; it starts as the survey's saved rule (the one that
    opens cases), and a blank box is not a criterion."""

    combine = SelectField(_l("List a customer when"), choices=[("any", _l("any criterion holds")),
                                                               ("all", _l("every criterion holds"))],
                          validators=[Optional()])
    submit = SubmitField(_l("Show customers"))

    NUMBERS = ("overall_at_most", "ratio_below", "gap_below", "negative_emotion_at_least",
               "polarity_below")

    def thresholds(self) -> UnhappinessRule:
        def number(field) -> float | None:
            return None if field.data is None else float(field.data)
        words = [w.strip() for w in (self.keywords.data or "").replace("，", ",").split(",")]
        return UnhappinessRule(**{name: number(getattr(self, name)) for name in self.NUMBERS},
                               keywords=tuple(w for w in words if w),
                               combine=self.combine.data if self.combine.data in ("any", "all") else "any")


def follow_up_form(args, rule: UnhappinessRule) -> FollowUpForm:
    """The rule from the query string; the survey's saved ``rule`` when none is given."""
    if any(name in args for name in (*FollowUpForm.NUMBERS, "keywords", "combine")):
        return FollowUpForm(formdata=args)
    form = FollowUpForm(formdata=None)
    for name in FollowUpForm.NUMBERS:
        getattr(form, name).data = getattr(rule, name)
    form.keywords.data = ", ".join(rule.keywords)
    form.combine.data = rule.combine
    return form
