"""WTForms built from a frozen survey version's codebook (never hand-written per instrument)."""
from __future__ import annotations

import re
from typing import Iterable, Mapping

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from analysis.instruments import NOT_APPLICABLE_CODE, Variable

from ..i18n import text_in
from ..models import SurveyVersion
from ..services.responses import ContactDetails, allocation_problems
from .cache import per_version_item

NOT_APPLICABLE = "na"
COMMENT_MAX_LENGTH = 2000
# Deliberately loose: one @, something before it, a dot after it. A stricter
# check only turns away real addresses; the researcher sees what was typed.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()\-]{4,30}$")


def scale_anchors(variable: Variable, lang: str) -> dict[str, str]:
    """``{point as string: anchor label}`` for the labelled points of a rating scale."""
    anchors = variable.scale.get("anchors") or {}
    return {str(int(point)): text_in(label, lang) for point, label in anchors.items()}


def rating_choices(variable: Variable, lang: str) -> list[SelectChoice]:
    anchors = scale_anchors(variable, lang)
    choices = [SelectChoice(value, anchors.get(value, ""))
               for value in choice_values(variable) if value != NOT_APPLICABLE]
    if variable.scale.get("not_applicable"):
        choices.append(SelectChoice(NOT_APPLICABLE, str(_l("Don't know / not applicable"))))
    return choices


def choice_values(variable: Variable) -> list[str]:
    """The values a rating or choice question's options post, in order (its form field's choices)."""
    scale = variable.scale
    if scale["type"] == "rating":
        values = [str(point) for point in range(int(scale["min"]), int(scale["max"]) + 1)]
        return values + [NOT_APPLICABLE] if scale.get("not_applicable") else values
    if scale["type"] == "choice":
        return [str(option["value"]) for option in scale["options"]]
    raise ValueError(f"{variable.name} has no options (scale type {scale['type']!r})")


def field_for(variable: Variable, lang: str):
    """The WTForms field that asks ``variable``."""
    scale = variable.scale
    label = text_in(variable.text, lang)
    presence = InputRequired(_l("Please answer this question.")) if variable.required \
        else Optional()
    if scale["type"] == "rating":
        return RadioField(label, choices=rating_choices(variable, lang), validators=[presence])
    if scale["type"] == "choice":
        return RadioField(label, choices=[SelectChoice(value, text_in(option["label"], lang))
                                          for value, option in zip(choice_values(variable),
                                                                   scale["options"])],
                          validators=[presence])
    if scale["type"] == "constant_sum":
        total = scale["total"]
        return IntegerField(label, validators=[
            InputRequired(_l("Please enter a number (0 if it does not matter to you)."))
            if variable.required else Optional(),
            NumberRange(0, total, _l("Please enter a whole number from 0 to %(total)s.",
                                     total=total))])
    raise ValueError(f"no form field for scale type {scale['type']!r} ({variable.name})")


def build_form(variables: Iterable[Variable], lang: str, formdata=None,
               data: Mapping[str, object] | None = None,
               version: SurveyVersion | None = None) -> FlaskForm:
    """A form with one field per variable, named by the variable's column name.

    ``formdata`` is a posted MultiDict; ``data`` prefills the fields (a resumed page).
    With the frozen ``version`` the variables come from, the form class is
    built once per version, language and set of questions and reused.
    """
    variables = tuple(variables)
    form_type = per_version_item("form-class", version,
                                 (lang, tuple(v.name for v in variables)),
                                 lambda: form_class(variables, lang))
    form = form_type(formdata=formdata, data=dict(data or {}))
    form.group_errors = {}
    return form


def form_class(variables: Iterable[Variable], lang: str) -> type[FlaskForm]:
    """The form class asking ``variables`` in ``lang`` (what :func:`build_form` instantiates)."""
    variables = list(variables)

    class SurveyPageForm(FlaskForm):
        # Errors of a question group as a whole (an allocation's sum), by instrument.
        group_errors: dict[str, str]

        def validate(self, extra_validators=None) -> bool:
            valid = super().validate(extra_validators)
            return check_constant_sums(self, variables) and valid

    for variable in variables:
        setattr(SurveyPageForm, variable.name, field_for(variable, lang))
    return SurveyPageForm


def check_constant_sums(form, variables: list[Variable]) -> bool:
    """Items sharing a constant-sum scale must add up to its total (checked server-side).

    The rule is :func:`~surveyapp.services.responses.allocation_problems`
    (the import applies it too). A wrong sum is the group's error, not one
    number's: it goes to ``form.group_errors[instrument]``, shown on the
    whole allocation. A group with a field error of its own is not summed.
    """
    flawed = {v.instrument for v in variables
              if v.scale["type"] == "constant_sum" and form[v.name].errors}
    values = {v.name: form[v.name].data for v in variables if v.scale["type"] == "constant_sum"}
    ok = True
    for problem in allocation_problems(variables, values):
        if problem.instrument in flawed:
            continue
        form.group_errors[problem.instrument] = str(_l(
            "The numbers must add up to %(total)s (now %(sum)s).", total=problem.total,
            sum=problem.given))
        ok = False
    return ok


def is_unanswered(field) -> bool:
    """Nothing was posted for ``field`` (as opposed to something invalid)."""
    return not any(str(raw).strip() for raw in (field.raw_data or []))


def invalid_answers(form, variables: Iterable[Variable]) -> dict[str, list[str]]:
    """Errors of answers given but not valid (out of range, not a choice); unanswered ones excluded."""
    return {v.name: list(form[v.name].errors) for v in variables
            if form[v.name].errors and not is_unanswered(form[v.name])}


def answers_from_form(form, variables: Iterable[Variable],
                      skip_invalid: bool = False) -> tuple[dict[str, float | None], set[str]]:
    """``({variable name: value}, names answered "not applicable")``.

    Blanks become missing (None); "not applicable" becomes its code
    :data:`~analysis.instruments.NOT_APPLICABLE_CODE`, which
    ``encode_answers`` stores apart from missing. With ``skip_invalid`` (saving
    a page the respondent leaves backwards) answers with errors are left
    out, so they neither overwrite what was stored nor get stored.
    """
    answers: dict[str, float | None] = {}
    not_applicable: set[str] = set()
    for variable in variables:
        field = form[variable.name]
        if skip_invalid and field.errors and not is_unanswered(field):
            continue
        data = field.data
        if data == NOT_APPLICABLE:
            not_applicable.add(variable.name)
            answers[variable.name] = NOT_APPLICABLE_CODE
        elif data in (None, ""):
            answers[variable.name] = None
        else:
            answers[variable.name] = float(data)
    return answers, not_applicable


#: A constant-sum answer as the fast path takes it: a plain whole number (anything else,
#: such as " 7" or "+7", goes through the form, which reads or refuses it).
_PLAIN_WHOLE_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,8})$")


def posted_answers(variables: Iterable[Variable], formdata,
                   version: SurveyVersion | None = None
                   ) -> tuple[dict[str, float | None], set[str]] | None:
    """What :func:`answers_from_form` gives for a page's form, if the form would find no error.

    Only posts whose every value is exactly one the form accepts are read
    here: an option's value, a plain whole number in range whose group adds
    up (:func:`allocation_problems`), or nothing for a question that needs no
    answer. Anything else gives None, and the form (:func:`build_form`)
    validates the post and says what is wrong. Building and validating that
    form was a tenth of a page save's server time, for posts that are almost
    all valid. The CSRF token is not checked here (:func:`csrf_token_valid`).
    """
    variables = tuple(variables)
    accepted = per_version_item(
        "accepted-values", version, tuple(v.name for v in variables),
        lambda: {v.name: (frozenset(choice_values(v)) if v.scale["type"] != "constant_sum"
                          else None) for v in variables})
    answers: dict[str, float | None] = {}
    not_applicable: set[str] = set()
    sums: dict[str, object] = {}
    for variable in variables:
        posted = formdata.getlist(variable.name)
        if len(posted) > 1:
            return None
        value = posted[0] if posted else ""
        if value == "":
            if variable.required:
                return None
            answers[variable.name] = None
            if accepted[variable.name] is None:
                sums[variable.name] = None
            continue
        options = accepted[variable.name]
        if options is None:
            if not _PLAIN_WHOLE_NUMBER.match(value) or int(value) > variable.scale["total"]:
                return None
            sums[variable.name] = int(value)
            answers[variable.name] = float(value)
        elif value not in options:
            return None
        elif value == NOT_APPLICABLE:
            not_applicable.add(variable.name)
            answers[variable.name] = NOT_APPLICABLE_CODE
        else:
            answers[variable.name] = float(value)
    if sums and allocation_problems(variables, sums):
        return None
    return answers, not_applicable


def csrf_token_valid(formdata) -> bool:
    """The posted CSRF token is the one the page's form would accept (or CSRF is off)."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(formdata.get("csrf_token"))
    except ValidationError:
        return False
    return True


def form_data_from_answers(variables: Iterable[Variable], answers: Mapping[str, float | None],
                           not_applicable: Iterable[str] = ()) -> dict[str, object]:
    """Stored answers as field data, so a page shown again shows what was chosen."""
    marked = set(not_applicable)
    data: dict[str, object] = {}
    for variable in variables:
        value = answers.get(variable.name)
        if value is None:
            if variable.name in marked and variable.scale.get("not_applicable"):
                data[variable.name] = NOT_APPLICABLE
            continue
        if variable.scale["type"] == "constant_sum":
            data[variable.name] = int(value)
        else:
            data[variable.name] = str(int(value)) if float(value).is_integer() else str(value)
    return data


class FinalPageForm(FlaskForm):
    """The closing page: an optional comment and optional consent to be contacted."""

    comment = TextAreaField(_l("Anything else you would like to tell us? (optional)"),
                            validators=[Optional(), Length(max=COMMENT_MAX_LENGTH)])
    contact_ok = BooleanField(_l("You may contact me about my answers"))
    name = StringField(_l("Name"), validators=[Optional(), Length(max=255)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=64)])

    def validate_email(self, field) -> None:
        if self.contact_ok.data and field.data and not EMAIL_PATTERN.match(field.data.strip()):
            raise ValidationError(_l("This does not look like an e-mail address."))

    def validate_phone(self, field) -> None:
        if self.contact_ok.data and field.data and not PHONE_PATTERN.match(field.data.strip()):
            raise ValidationError(_l("Please enter a phone number with digits only "
                                     "(spaces, +, - and brackets are fine)."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.contact_ok.data and not ((self.email.data or "").strip()
                                         or (self.phone.data or "").strip()):
            self.email.errors.append(str(_l(
                "To be contacted, please give an e-mail address or a phone number.")))
            valid = False
        return valid

    def contact(self) -> ContactDetails | None:
        """The contact details to store, or None without consent (typed details are dropped)."""
        if not self.contact_ok.data:
            return None
        return ContactDetails(name=(self.name.data or "").strip() or None,
                              email=(self.email.data or "").strip() or None,
                              phone=(self.phone.data or "").strip() or None)


FINAL_PAGE_FIELDS = ("comment", "contact_ok", "name", "email", "phone")


def duplicated_fields(formdata, names: Iterable[str]) -> list[str]:
    """Field names posted more than once: a tampered POST, refused rather than guessed at."""
    return [name for name in names if len(formdata.getlist(name)) > 1]


def unknown_fields(formdata, names: Iterable[str], allowed_extra: Iterable[str]) -> list[str]:
    known = set(names) | set(allowed_extra)
    return sorted(key for key in formdata.keys() if key not in known)


class UnsubscribeForm(FlaskForm):
    """One button: stop all survey e-mail to the invitation's address."""
