"""Forms of the case workflow and of the survey's unhappiness rule (POST forms: CSRF-protected)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, IntegerField, SelectField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from analysis.followup import UnhappinessRule

from ..services.cases import ROOT_CAUSES, SegmentRouting
from ..services.codebooks import value_labels
from ..widgets import UnhappinessRuleFields

ROOT_CAUSE_LABELS = {
    "staff_attitude": _l("Staff attitude"), "waiting_time": _l("Waiting time"),
    "product": _l("Product"), "price": _l("Price and fees"), "process": _l("Process"),
    "system_error": _l("System error"), "communication": _l("Communication"), "other": _l("Other"),
}
STATUS_LABELS = {
    "open": _l("Open"), "in_progress": _l("In progress"), "contacted": _l("Contacted"),
    "resolved": _l("Resolved"), "closed_unreachable": _l("Closed: unreachable"),
}
PRIORITY_LABELS = {1: _l("High"), 2: _l("Normal"), 3: _l("Low")}
#: Bands of Case.churn_band (services.cases: the churn model's risk cut into three).
CHURN_BAND_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}


class RuleForm(UnhappinessRuleFields, FlaskForm):
    """The survey's unhappiness rule, SLA and re-survey suppression window."""

    combine = SelectField(_l("Open a case when"), choices=[("any", _l("any criterion holds")),
                                                           ("all", _l("every criterion holds"))])
    sla_hours = IntegerField(_l("Time to resolve (SLA, hours)"), default=48,
                             validators=[InputRequired(), NumberRange(min=1, max=24 * 90)])
    suppression_days = IntegerField(_l("Re-survey a customer at most once in (days)"), default=90,
                                    validators=[InputRequired(), NumberRange(min=0, max=3650)])
    enabled = BooleanField(_l("Open cases for new responses"), default=True)
    route_by = SelectField(_l("Assign cases by segment"), choices=[], default="")
    route_owners = TextAreaField(
        _l("Owners per segment value"), validators=[Optional(), Length(max=5000)],
        description=_l("One line per value: the value's code or label, a colon, then user names "
                       "separated by commas (e.g. 1: wang, li). Other values go round the survey's managers."))
    submit = SubmitField(_l("Save the rule"))

    def set_segments(self, variables, lang: str) -> None:
        """Offer ``variables`` (the survey's segment variables) to route by."""
        self.route_by.choices = [("", _l("no: round robin over all managers"))] + [
            (v.name, f"{v.name} · {v.text.get(lang) or v.name}") for v in variables]

    def fill_routing(self, routing: SegmentRouting, users_by_id: dict[int, str]) -> None:
        self.route_by.data = routing.variable or ""
        self.route_owners.data = "\n".join(
            f"{code}: {', '.join(users_by_id[u] for u in users if u in users_by_id)}"
            for code, users in sorted(routing.owners.items()))

    def routing(self, variables, users_by_name: dict[str, int]) -> SegmentRouting | None:
        """The routing the form describes, or None with the errors on ``route_owners``.

        A value is its code or its zh/en label (case-insensitive); ``：`` and ``，`` count as
        ``:`` and ``,``.
        """
        name = self.route_by.data or None
        if name is None:
            return SegmentRouting()
        variable = next(v for v in variables if v.name == name)
        codes = {**{label.casefold(): code for code, label in value_labels(variable, "zh").items()},
                 **{label.casefold(): code for code, label in value_labels(variable, "en").items()}}
        owners: dict[int, list[int]] = {}
        errors = []
        for number, line in enumerate((self.route_owners.data or "").splitlines(), 1):
            line = line.replace("：", ":").replace("，", ",").strip()
            if not line:
                continue
            value, colon, users = line.partition(":")
            value = value.strip()
            code = int(value) if value.lstrip("-").isdigit() else codes.get(value.casefold())
            if not colon or code is None:
                errors.append(_l("Line %(n)d: start with a value of %(variable)s and a colon.",
                                 n=number, variable=name))
                continue
            for user in (u.strip() for u in users.split(",")):
                if user and user not in users_by_name:
                    errors.append(_l("Line %(n)d: %(user)s is not on this survey's team.", n=number, user=user))
                elif user:
                    owners.setdefault(code, []).append(users_by_name[user])
        if not owners and not errors:
            errors.append(_l("Name the owners of at least one value, or choose no segment."))
        if errors:
            self.route_owners.errors = list(self.route_owners.errors) + errors
            return None
        return SegmentRouting(name, owners)

    def fill(self, rule: UnhappinessRule, sla_hours: int, suppression_days: int, enabled: bool) -> None:
        for name in ("overall_at_most", "ratio_below", "gap_below", "negative_emotion_at_least",
                     "polarity_below"):
            getattr(self, name).data = getattr(rule, name)
        self.keywords.data = ", ".join(rule.keywords)
        self.combine.data = rule.combine
        self.sla_hours.data = sla_hours
        self.suppression_days.data = suppression_days
        self.enabled.data = enabled

    def rule(self) -> UnhappinessRule:
        def number(field) -> float | None:
            return None if field.data is None else float(field.data)
        words = [w.strip() for w in (self.keywords.data or "").replace("，", ",").split(",")]
        return UnhappinessRule(
            overall_at_most=number(self.overall_at_most), ratio_below=number(self.ratio_below),
            gap_below=number(self.gap_below),
            negative_emotion_at_least=number(self.negative_emotion_at_least),
            polarity_below=number(self.polarity_below), keywords=tuple(w for w in words if w),
            combine=self.combine.data)


class AssignForm(FlaskForm):
    owner = SelectField(_l("Owner"), coerce=int)
    submit = SubmitField(_l("Assign"))


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"))
    submit = SubmitField(_l("Change status"))


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), coerce=int,
                           choices=[(key, label) for key, label in PRIORITY_LABELS.items()])
    submit = SubmitField(_l("Set priority"))


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("Add note"))


class ResolveForm(FlaskForm):
    root_cause = SelectField(_l("Root cause"), validators=[DataRequired()],
                             choices=[("", "—")] + [(key, ROOT_CAUSE_LABELS[key]) for key in ROOT_CAUSES])
    action_taken = TextAreaField(_l("Action taken"), validators=[DataRequired(), Length(max=5000)])
    outcome = SelectField(_l("Outcome"), choices=[("resolved", _l("Resolved")),
                                                  ("closed_unreachable", _l("Closed: unreachable"))])
    submit = SubmitField(_l("Close the case"))


class ResurveyForm(FlaskForm):
    satisfaction = SelectField(_l("How satisfied are you with how we handled your problem?"),
                               coerce=int, validators=[InputRequired()],
                               choices=[(n, str(n)) for n in range(1, 11)])
    comment = TextAreaField(_l("Anything else you would like to tell us?"),
                            validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Send"))

