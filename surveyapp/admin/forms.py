"""Admin forms. The builder form is made per survey: one item list per shipped instrument."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, DateTimeLocalField, EmailField, FieldList, Form, FormField,
                     IntegerField, PasswordField, RadioField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from analysis.instruments import LANGS, condition_text

from ..models import Role, ShareRole, Survey
from ..services.builder import (KANO_REWORDABLE_FACETS, DesignError, FeatureInput,
                                InstrumentChoice, SurveySettings, check_design, features_from_rows)
from ..services.exports import EXPORT_FORMATS
from ..services.invitations import MAX_INVITATIONS_PER_BATCH
from ..services.surveys import SECTION_PREFIX, SERVQUAL_LAYOUTS
from ..services.welcome import WELCOME_FIELDS, WELCOME_TEXT_MAX, welcome_texts
from ..widgets import CheckboxListField

SPARE_FEATURE_ROWS = 3
SPARE_CONDITION_ROWS = 2
CONDITION_OPERATORS = ("equals", "in", "range")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


class ActionForm(FlaskForm):
    """A bare POST button (open, close, remove): only the CSRF token."""


class SurveyBasicsMixin:
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=255)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=255)])
    firm_zh = StringField(_l("Firm name in the questions (Chinese)"), validators=[Length(max=100)])
    firm_en = StringField(_l("Firm name in the questions (English)"), validators=[Length(max=100)])


class NewSurveyForm(SurveyBasicsMixin, FlaskForm):
    slug = StringField(_l("Link name"), validators=[DataRequired(), Length(min=2, max=63)],
                       description=_l("Lower-case letters, digits and '-': the survey's address /s/<link name>."))
    instruments = CheckboxListField(_l("Instruments"), validators=[DataRequired()])
    submit = SubmitField(_l("Create survey"))


class FeatureRowForm(Form):
    """One KANO feature; the wording fields left blank use the template's sentence."""

    code = StringField(_l("Code"), validators=[Optional(), Length(max=20)])
    feature_zh = StringField(_l("Feature (Chinese)"), validators=[Length(max=200)])
    feature_en = StringField(_l("Feature (English)"), validators=[Length(max=200)])
    F_zh = StringField(_l("Functional question (Chinese)"), validators=[Length(max=500)])
    F_en = StringField(_l("Functional question (English)"), validators=[Length(max=500)])
    D_zh = StringField(_l("Dysfunctional question (Chinese)"), validators=[Length(max=500)])
    D_en = StringField(_l("Dysfunctional question (English)"), validators=[Length(max=500)])
    IMP_zh = StringField(_l("Importance question (Chinese)"), validators=[Length(max=500)])
    IMP_en = StringField(_l("Importance question (English)"), validators=[Length(max=500)])

    def to_input(self) -> FeatureInput:
        wording = {facet: {lang: self[f"{facet}_{lang}"].data or "" for lang in LANGS}
                   for facet in KANO_REWORDABLE_FACETS}
        return FeatureInput(self.code.data or "",
                            {lang: self[f"feature_{lang}"].data or "" for lang in LANGS}, wording)


class ConditionRowForm(Form):
    """One display condition: show [question or section] when [column] [equals / in / range] [values]."""

    target = SelectField(_l("Show"), validators=[Optional()], validate_choice=False)
    variable = SelectField(_l("when the answer to"), validators=[Optional()], validate_choice=False)
    operator = SelectField(_l("is"), choices=[
        SelectChoice("equals", _l("equal to")),
        SelectChoice("in", _l("one of (comma-separated)")),
        SelectChoice("range", _l("between (low, high)"))], default="equals")
    values = StringField(_l("Value(s)"), validators=[Length(max=200)])

    def is_blank(self) -> bool:
        return not (self.target.data or self.variable.data or (self.values.data or "").strip())

    def to_condition(self) -> dict[str, Any]:
        """``{"target", "show_if"}``; raises ValueError with the reason for unreadable values."""
        text = (self.values.data or "").replace("..", ",").replace("，", ",")
        try:
            numbers = [_condition_number(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise ValueError(str(_l("Give the value(s) as numbers, e.g. 1 or 1, 2 (the codes "
                                    "in the codebook)."))) from None
        operator = self.operator.data
        if not self.target.data or not self.variable.data or not numbers:
            raise ValueError(str(_l("Choose the question or section, the earlier question and "
                                    "the value(s).")))
        if operator == "equals" and len(numbers) != 1:
            raise ValueError(str(_l("'Equal to' takes one value; use 'one of' for several.")))
        if operator == "range" and len(numbers) != 2:
            raise ValueError(str(_l("'Between' takes two values: the lowest and the highest.")))
        value: Any = numbers[0] if operator == "equals" else numbers
        return {"target": self.target.data,
                "show_if": {"variable": self.variable.data, operator: value}}


def _condition_number(text: str) -> int | float:
    number = float(text.strip())
    return int(number) if number.is_integer() else number


class BuilderForm(SurveyBasicsMixin, FlaskForm):
    """Fields common to every survey; ``builder_form`` adds one group per instrument."""

    languages = CheckboxListField(_l("Languages"),
                                  choices=[SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in LANGS],
                                  validators=[DataRequired(_l("Choose at least one language."))])
    servqual_layout = RadioField(_l("How SERVQUAL is asked"), choices=[
        SelectChoice(SERVQUAL_LAYOUTS[0], _l("In blocks: all expectations, then all perceptions")),
        SelectChoice(SERVQUAL_LAYOUTS[1],
                     _l("Side by side: expectation and perception of each item together")),
    ], default=SERVQUAL_LAYOUTS[0])
    opens_at = DateTimeLocalField(_l("Opens at (UTC)"), format=DATETIME_FORMAT,
                                  validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes at (UTC)"), format=DATETIME_FORMAT,
                                   validators=[Optional()])
    target_responses = IntegerField(_l("Target number of completed responses"),
                                    validators=[Optional(), NumberRange(min=1, max=10_000_000)])
    is_public = BooleanField(_l("List this survey on the public start page while it is open"),
                             description=_l("Otherwise only people with its link (or a personal "
                                            "link) find it."))
    # The welcome page: blank uses the generic wording shown as placeholder.
    purpose_zh = TextAreaField(_l("Purpose of the survey (Chinese)"),
                               validators=[Length(max=WELCOME_TEXT_MAX)])
    purpose_en = TextAreaField(_l("Purpose of the survey (English)"),
                               validators=[Length(max=WELCOME_TEXT_MAX)])
    privacy_zh = TextAreaField(_l("Privacy and consent (Chinese)"),
                               validators=[Length(max=WELCOME_TEXT_MAX)])
    privacy_en = TextAreaField(_l("Privacy and consent (English)"),
                               validators=[Length(max=WELCOME_TEXT_MAX)])
    submit = SubmitField(_l("Save"))

    catalogue: list[InstrumentChoice] = []

    def settings(self) -> SurveySettings:
        return SurveySettings(self.title_zh.data or "", self.title_en.data or "",
                              _utc(self.opens_at.data), _utc(self.closes_at.data),
                              self.target_responses.data, bool(self.is_public.data))

    def firm(self) -> dict[str, str]:
        return {lang: (self[f"firm_{lang}"].data or "").strip() for lang in LANGS}


def builder_form(catalogue: list[InstrumentChoice], feature_rows: int,
                 data: dict[str, Any] | None = None, condition_rows: int = 0) -> BuilderForm:
    """A builder form for ``catalogue``: per instrument "use", "position" and its questions,
    and the display conditions (``condition_rows`` of them plus spare rows)."""

    class SurveyBuilderForm(BuilderForm):
        conditions = FieldList(FormField(ConditionRowForm),
                               min_entries=condition_rows + SPARE_CONDITION_ROWS)

    SurveyBuilderForm.catalogue = catalogue
    for position, choice in enumerate(catalogue, start=1):
        setattr(SurveyBuilderForm, f"use_{choice.key}", BooleanField(_l("Include")))
        setattr(SurveyBuilderForm, f"order_{choice.key}", IntegerField(
            _l("Position"), default=position, validators=[Optional(), NumberRange(min=1, max=99)]))
        if choice.kind == "kano":
            SurveyBuilderForm.features = FieldList(FormField(FeatureRowForm),
                                                   min_entries=feature_rows + SPARE_FEATURE_ROWS)
        else:
            setattr(SurveyBuilderForm, f"items_{choice.key}", CheckboxListField(
                _l("Questions"), choices=[SelectChoice(item.code, item.code) for item in choice.items]))
    form = SurveyBuilderForm(data=data) if data is not None else SurveyBuilderForm()
    targets, columns = condition_choices(catalogue)
    for row in form.conditions:
        row.form.target.choices = targets
        row.form.variable.choices = columns
    return form


def condition_choices(catalogue: list[InstrumentChoice]) -> tuple[list[SelectChoice], list[SelectChoice]]:
    """What a condition can hide (every section and question) and hang on (every answer column)."""
    targets = [SelectChoice("", "-")]
    columns = [SelectChoice("", "-")]
    for choice in catalogue:
        targets.append(SelectChoice(SECTION_PREFIX + choice.key,
                                    str(_l("Section %(key)s (all its questions)", key=choice.key))))
        targets += [SelectChoice(item.code, str(_l("Question %(code)s", code=item.code)))
                    for item in choice.items]
        columns += [SelectChoice(name, name) for name in choice.columns]
    return targets, columns


def describe_condition(condition: dict[str, Any]) -> str:
    """A saved condition in words, for the builder's summary: ``SQ01: PR_CHANNEL in 1, 2``."""
    return f"{condition['target']}: {condition_text(condition['show_if'])}"


def _condition_row(condition: dict[str, Any]) -> dict[str, str]:
    show_if = condition["show_if"]
    operator = next(key for key in CONDITION_OPERATORS if key in show_if)
    value = show_if[operator]
    values = value if isinstance(value, list) else [value]
    return {"target": condition["target"], "variable": show_if["variable"], "operator": operator,
            "values": ", ".join(str(int(v)) if float(v).is_integer() else str(v) for v in values)}


def builder_data(survey: Survey, catalogue: list[InstrumentChoice],
                 features: list[dict[str, Any]]) -> dict[str, Any]:
    """The builder form's initial values from the stored survey."""
    design = survey.design
    firm = design.get("firm") or {}
    data: dict[str, Any] = {
        "title_zh": survey.title_zh, "title_en": survey.title_en,
        "firm_zh": firm.get("zh", ""), "firm_en": firm.get("en", ""),
        "languages": list(design.get("languages") or LANGS),
        "servqual_layout": design.get("servqual_layout", SERVQUAL_LAYOUTS[0]),
        "opens_at": survey.opens_at, "closes_at": survey.closes_at,
        "target_responses": survey.target_responses, "is_public": survey.is_public,
        "conditions": [_condition_row(c) for c in design.get("conditions") or []],
    }
    welcome = welcome_texts(design)
    for name in WELCOME_FIELDS:
        for lang in LANGS:
            data[f"{name}_{lang}"] = welcome.get(name, {}).get(lang, "")
    entries = {entry["id"]: entry for entry in design.get("instruments", [])}
    for position, choice in enumerate(catalogue, start=1):
        entry = entries.get(choice.key)
        data[f"use_{choice.key}"] = entry is not None
        data[f"order_{choice.key}"] = position
        if choice.kind == "kano":
            data["features"] = [_feature_row(feature) for feature in features]
        else:
            chosen = (entry or {}).get("items")
            data[f"items_{choice.key}"] = chosen if chosen is not None else \
                [item.code for item in choice.items]
    return data


def _feature_row(feature: dict[str, Any]) -> dict[str, str]:
    row = {"code": feature["code"]}
    for lang in LANGS:
        row[f"feature_{lang}"] = feature["feature"].get(lang, "")
        for facet in KANO_REWORDABLE_FACETS:
            row[f"{facet}_{lang}"] = (feature.get("wording") or {}).get(facet, {}).get(lang, "")
    return row


def _utc(moment: datetime | None) -> datetime | None:
    # The builder asks for UTC times (the label says so); store them timezone-aware.
    return moment.replace(tzinfo=timezone.utc) if moment else None


class GenerateInvitationsForm(FlaskForm):
    count = IntegerField(_l("Number of links"), validators=[
        InputRequired(), NumberRange(min=1, max=MAX_INVITATIONS_PER_BATCH)], default=10)
    submit = SubmitField(_l("Generate links"))


class SendInvitationsForm(FlaskForm):
    send = SubmitField(_l("Send the invitations by e-mail"))


class SendRemindersForm(FlaskForm):
    after_days = IntegerField(_l("Remind after (days without completing)"), default=7,
                              validators=[InputRequired(), NumberRange(min=0, max=365)])
    max_reminders = IntegerField(_l("At most this many reminders per person"), default=2,
                                 validators=[InputRequired(), NumberRange(min=0, max=10)])
    remind = SubmitField(_l("Send reminders now"))


class UploadContactsForm(FlaskForm):
    contacts = FileField(_l("Contacts CSV (UTF-8; columns id and/or email, other columns are segment fields)"),
                         validators=[FileRequired(_l("Choose a CSV file."))])
    submit = SubmitField(_l("Upload and create links"))


SHARE_ROLE_CHOICES = [
    SelectChoice(ShareRole.VIEWER.value, _l("Viewer: dashboard, follow-up and cases")),
    SelectChoice(ShareRole.ANALYST.value, _l("Analyst: also exports and the API's response data")),
    SelectChoice(ShareRole.EDITOR.value, _l("Editor: also questions, settings and invitations")),
]


SHARE_ROLE_NAMES = {"owner": _l("owner"), "admin": _l("admin"), ShareRole.VIEWER.value: _l("viewer"),
                    ShareRole.ANALYST.value: _l("analyst"), ShareRole.EDITOR.value: _l("editor")}


def share_role_label(role: str) -> str:
    """The translated name of a share role (or "owner" / "admin") for pages and messages."""
    return str(SHARE_ROLE_NAMES.get(role, role))


class ShareForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Share role"), choices=SHARE_ROLE_CHOICES, default=ShareRole.VIEWER.value)
    submit = SubmitField(_l("Share"))


class ShareRoleForm(FlaskForm):
    """Change the role of one existing share."""

    role = SelectField(_l("Share role"), choices=SHARE_ROLE_CHOICES)
    submit = SubmitField(_l("Change role"))


ROLE_CHOICES = [SelectChoice(Role.RESEARCHER.value, _l("Researcher")),
                SelectChoice(Role.MANAGER.value, _l("Manager")),
                SelectChoice(Role.ADMIN.value, _l("Administrator"))]


class CreateUserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    email = EmailField(_l("E-mail (optional)"), validators=[Optional(), Length(max=255)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8)])
    submit = SubmitField(_l("Create user"))


class ChangeRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(_l("Change role"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8)])
    submit = SubmitField(_l("Set password"))


def design_from_form(form: BuilderForm) -> dict[str, Any]:
    """The design the builder form describes (may raise DesignError for the KANO rows).

    Instruments are ordered by their position field (ties keep the listed
    order); an instrument with every question ticked stores ``items: None``
    so it follows the instrument if it gains items in a later version.
    """
    firm = form.firm()
    chosen = [(form[f"order_{choice.key}"].data or index, index, choice)
              for index, choice in enumerate(form.catalogue, start=1)
              if form[f"use_{choice.key}"].data]
    entries: list[dict[str, Any]] = []
    feature_errors: dict[str, str] = {}
    for _position, _index, choice in sorted(chosen, key=lambda triple: triple[:2]):
        if choice.kind == "kano":
            rows = [row.form.to_input() for row in form.features]
            try:
                features = features_from_rows(rows, firm)
            except DesignError as error:
                feature_errors, features = error.errors, []
            entries.append({"id": choice.key, "features": features})
        else:
            ticked = list(form[f"items_{choice.key}"].data or [])
            every = [item.code for item in choice.items]
            entries.append({"id": choice.key,
                            "items": None if set(ticked) == set(every) else
                            [code for code in every if code in ticked]})
    # Conditions are numbered by filled row, as the summary and check_design number them.
    conditions, unreadable = [], False
    filled = [row.form for row in form.conditions if not row.form.is_blank()]
    for number, row in enumerate(filled, start=1):
        try:
            conditions.append(row.to_condition())
        except ValueError as error:
            feature_errors[f"condition-{number}"] = str(
                _l("Condition %(n)s: %(reason)s", n=number, reason=str(error)))
            unreadable = True
    welcome = {name: {lang: (form[f"{name}_{lang}"].data or "").strip() for lang in LANGS}
               for name in WELCOME_FIELDS}
    design = {"firm": {lang: name for lang, name in firm.items() if name},
            "welcome": {name: {lang: text for lang, text in texts.items() if text}
                        for name, texts in welcome.items() if any(texts.values())},
            "languages": list(form.languages.data or []),
            "servqual_layout": form.servqual_layout.data,
            "instruments": entries}
    if conditions:
        design["conditions"] = conditions
    if feature_errors:
        # Report the rest of the design's problems in the same round trip.
        try:
            check_design(design)
        except DesignError as error:
            # With a row left out, the design's condition numbers would not match the rows.
            others = {key: message for key, message in error.errors.items()
                      if not (unreadable and key.startswith("condition-"))}
            feature_errors = {**others, **feature_errors}
        raise DesignError(feature_errors)
    return design


# The survey overview's data panel (admin/data_views.py).

FORMAT_LABELS = {
    "csv": _l("Responses - CSV (UTF-8, opens in Excel)"),
    "xlsx": _l("Responses - Excel workbook with a labels sheet"),
    "sav": _l("Responses - SPSS .sav with labels"),
    "dta": _l("Responses - Stata .dta with labels"),
    "codebook-csv": _l("Codebook - CSV"),
    "codebook-xlsx": _l("Codebook - Excel"),
    "stats-xlsx": _l("Statistics tables - Excel, a sheet per analysis"),
}


class ExportForm(FlaskForm):
    """The download choices. Sent by GET: a download changes nothing, so it carries no CSRF token.

    Field names are the query parameters of services.exports.parse_filters
    (the API's names), which validates them.
    """

    class Meta:
        csrf = False

    format = SelectField(_l("What to download"),
                         choices=[SelectChoice(key, FORMAT_LABELS[key]) for key in EXPORT_FORMATS])
    start = DateField(_l("Submitted from (UTC)"), name="from", validators=[Optional()])
    end = DateField(_l("Submitted up to and including (UTC)"), name="to", validators=[Optional()])
    version = SelectField(_l("Survey version"), validators=[Optional()])
    partial = BooleanField(_l("Include unfinished responses"), render_kw={"value": "1"})
    download = SubmitField(_l("Download"))


class ImportForm(FlaskForm):
    responses = FileField(_l("Responses file (.csv in UTF-8, or .xlsx)"),
                          validators=[FileRequired(_l("Choose a file."))])
    submit = SubmitField(_l("Import responses"))


class WebhookForm(FlaskForm):
    """A new webhook endpoint of a survey (its secret is generated and shown on the page)."""

    url = StringField(_l("Endpoint URL (https://...)"), validators=[DataRequired(), Length(max=500)])
    events = CheckboxListField(_l("Events"), validators=[DataRequired()],
                               choices=[SelectChoice("case.opened", _l("A case is opened")),
                                        SelectChoice("case.changed", _l("A case changes")),
                                        SelectChoice("case.overdue", _l("A case is overdue")),
                                        SelectChoice("case.resolved", _l("A case is resolved"))])
    allow_private = BooleanField(_l("Allow a private or loopback address (admins only)"))
    submit = SubmitField(_l("Add endpoint"))
