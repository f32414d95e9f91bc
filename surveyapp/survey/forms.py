"""WTForms built from a frozen survey version's codebook (never hand-written per instrument)."""
from __future__ import annotations

from typing import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from analysis.instruments import Variable

NOT_APPLICABLE = "na"


def _text(mapping: dict[str, str], lang: str) -> str:
    return mapping.get(lang) or mapping.get("en") or next(iter(mapping.values()), "")


def rating_choices(variable: Variable, lang: str) -> list[SelectChoice]:
    scale = variable.scale
    anchors = {int(k): v for k, v in (scale.get("anchors") or {}).items()}
    choices = [SelectChoice(str(point), f"{point} {_text(anchors[point], lang)}"
                            if point in anchors else str(point))
               for point in range(int(scale["min"]), int(scale["max"]) + 1)]
    if scale.get("not_applicable"):
        choices.append(SelectChoice(NOT_APPLICABLE, str(_l("Don't know / not applicable"))))
    return choices


def field_for(variable: Variable, lang: str):
    """The WTForms field that asks ``variable``."""
    scale = variable.scale
    label = _text(variable.text, lang)
    presence = InputRequired(_l("Please answer this question.")) if variable.required \
        else Optional()
    if scale["type"] == "rating":
        return RadioField(label, choices=rating_choices(variable, lang), validators=[presence])
    if scale["type"] == "choice":
        return RadioField(label, choices=[SelectChoice(str(o["value"]), _text(o["label"], lang))
                                          for o in scale["options"]], validators=[presence])
    if scale["type"] == "constant_sum":
        return IntegerField(label, validators=[presence, NumberRange(0, scale["total"])])
    raise ValueError(f"no form field for scale type {scale['type']!r} ({variable.name})")


def build_form(variables: Iterable[Variable], lang: str, formdata=None) -> FlaskForm:
    """A form class with one field per variable, named by the variable's column name."""
    variables = list(variables)

    class SurveyPageForm(FlaskForm):
        def validate(self, extra_validators=None) -> bool:
            valid = super().validate(extra_validators)
            return _check_constant_sums(self, variables) and valid

    for variable in variables:
        setattr(SurveyPageForm, variable.name, field_for(variable, lang))
    return SurveyPageForm(formdata=formdata) if formdata is not None else SurveyPageForm()


def _check_constant_sums(form, variables: list[Variable]) -> bool:
    """Items sharing a constant-sum scale must add up to its total (checked server-side)."""
    groups: dict[tuple[str, int], list[Variable]] = {}
    for variable in variables:
        if variable.scale["type"] == "constant_sum":
            groups.setdefault((variable.instrument, variable.scale["total"]), []).append(variable)
    ok = True
    for (_, total), members in groups.items():
        numbers = [form[v.name].data for v in members]
        if any(n is None for n in numbers):
            continue
        if sum(numbers) != total:
            form[members[-1].name].errors.append(
                str(_l("The numbers must add up to %(total)s (now %(sum)s).", total=total,
                       sum=sum(numbers))))
            ok = False
    return ok


def answers_from_form(form, variables: Iterable[Variable]) -> dict[str, float | None]:
    """``{variable name: value}``; "not applicable" and blanks become missing."""
    answers: dict[str, float | None] = {}
    for variable in variables:
        data = form[variable.name].data
        if data in (None, "", NOT_APPLICABLE):
            answers[variable.name] = None
        else:
            answers[variable.name] = float(data)
    return answers


def duplicated_fields(formdata, names: Iterable[str]) -> list[str]:
    """Field names posted more than once: a tampered POST, refused rather than guessed at."""
    return [name for name in names if len(formdata.getlist(name)) > 1]


def unknown_fields(formdata, names: Iterable[str], allowed_extra: Iterable[str]) -> list[str]:
    known = set(names) | set(allowed_extra)
    return sorted(key for key in formdata.keys() if key not in known)

