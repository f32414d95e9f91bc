"""The survey builder's rules: what a researcher may put in a design, and saving it.

A design (``Survey.design``, see services.surveys) lists instruments in
questionnaire order, each with its chosen item codes (``None`` = all) and,
for KANO, the researcher's feature list. A KANO feature's questions are
generated from the instrument's template in both languages; a researcher may
override any generated sentence (``wording: {facet: {zh, en}}``), and only
the overrides are stored, so a renamed feature re-generates the rest.

Saving an open survey freezes a new version at once (``open_survey``):
responses keep the version they answered, new respondents get the new one.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from analysis.instruments import (LANGS, Codebook, InstrumentError, condition_problem,
                                  condition_validator)

from ..extensions import db
from ..models import Response, ResponseStatus, Survey, SurveyStatus, SurveyVersion, User
from .welcome import WELCOME_TEXT_MAX, welcome_problems
from .surveys import (SECTION_PREFIX, SERVQUAL_LAYOUTS, SurveyError, _aware, compose, create_survey,
                      instrument_library, open_survey, with_worded_features)

FIRM_NAME_MAX = 100
TITLE_MAX = 255
# Facets whose generated KANO wording the builder offers to override.
KANO_REWORDABLE_FACETS = ("F", "D", "IMP")
# The KANO template puts a feature after a verb ("如果{firm}提供{feature}",
# "If {firm} offered {feature}"), so a feature must be a noun phrase. A phrase
# starting with a verb or modal, or holding a modal clause ("可在网上预约"),
# reads as "提供提供..." / "offered offer ...": flagged for rewording.
ZH_CLAUSE = re.compile(r"^(提供|可以|可|能够|能|允许|让|帮助|帮您|给予|增加|开通|设立|推出|发|在|为您|如果)"
                       r"|可以|可在|能够|能在")
EN_CLAUSE = re.compile(r"^(offer|offers|offering|offered|provide|provides|providing|provided|"
                       r"can|could|will|would|to|allow|allows|let|lets|have|has|being|you|if)\b",
                       re.IGNORECASE)


class DesignError(ValueError):
    """A design or survey setting the builder refuses; ``errors`` maps a field key to a message.

    Keys: ``title_zh``, ``title_en``, ``slug``, ``firm``, ``languages``,
    ``servqual_layout``, ``instruments``, ``items-<instrument>``,
    ``features`` (the list as a whole), ``feature-<n>`` (1-based position),
    ``condition-<n>`` (a display condition, 1-based), ``conditions``,
    ``opens_at``, ``closes_at``, ``target_responses``.
    """

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


@dataclass
class ItemChoice:
    code: str
    dimension: str
    text: dict[str, str]


@dataclass
class InstrumentChoice:
    """One instrument as the builder lists it: its items with their (first facet's) wording."""

    key: str
    title: dict[str, str]
    kind: str
    facets: list[str]
    items: list[ItemChoice]
    # Its answer columns (SQ01_E ...), which a display condition can name.
    columns: list[str] = field(default_factory=list)


@dataclass
class SurveySettings:
    title_zh: str
    title_en: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    target_responses: int | None = None
    # Listed on the public home page while open (else reached by its link only).
    is_public: bool = False


@dataclass
class FeatureInput:
    """One KANO feature row as the researcher typed it (blank wording = use the template)."""

    code: str
    feature: dict[str, str]
    wording: dict[str, dict[str, str]] = field(default_factory=dict)

    def is_blank(self) -> bool:
        return not (self.code.strip() or any(t.strip() for t in self.feature.values()))


def instrument_catalogue(design: dict[str, Any]) -> list[InstrumentChoice]:
    """Every shipped instrument, those in ``design`` first (in its order), then the rest by id."""
    library = instrument_library()
    chosen = [entry["id"] for entry in design.get("instruments", []) if entry.get("id") in library]
    order = chosen + sorted(key for key in library if key not in chosen)
    firm = design.get("firm")
    catalogue = []
    for key in order:
        instrument = library[key]
        columns = []
        if instrument.kind == "kano":
            # Its items are the feature list, edited on its own.
            items = []
        else:
            seen: set[str] = set()
            items = []
            for variable in instrument.variables(firm=firm):
                if variable.scale["type"] in ("choice", "rating"):
                    columns.append(variable.name)
                if variable.item not in seen:
                    seen.add(variable.item)
                    items.append(ItemChoice(variable.item, variable.dimension, variable.text))
        catalogue.append(InstrumentChoice(key, instrument.title, instrument.kind,
                                          [facet["code"] for facet in instrument.facets], items,
                                          columns))
    return catalogue


def design_entry(design: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((entry for entry in design.get("instruments", []) if entry.get("id") == key), None)


def kano_key() -> str | None:
    """The id of the shipped KANO instrument (None if the library has none)."""
    return next((key for key, inst in instrument_library().items() if inst.kind == "kano"), None)


def kano_features(design: dict[str, Any]) -> list[dict[str, Any]]:
    """The design's KANO feature list.

    A new survey's list is empty (``features: []``, or KANO not chosen yet):
    the researcher types their own or takes the example with
    :func:`use_example_features`. A design that names KANO without a list
    (older surveys, the demo) asks the instrument's example list, so that is
    what the builder shows.
    """
    key = kano_key()
    if key is None:
        return []
    entry = design_entry(design, key)
    if entry is None:
        return []
    if "features" in entry:
        return copy.deepcopy(entry["features"] or [])
    return copy.deepcopy(instrument_library()[key].features)


def use_example_features(survey: Survey) -> SurveyVersion | None:
    """Put the shipped example feature list into ``survey``'s KANO entry (added if missing) and save."""
    key = kano_key()
    if key is None:
        raise DesignError({"features": _("No KANO instrument is installed.")})
    design = copy.deepcopy(survey.design)
    entry = design_entry(design, key)
    if entry is None:
        entry = {"id": key}
        design.setdefault("instruments", []).append(entry)
    entry["features"] = copy.deepcopy(instrument_library()[key].features)
    entry.pop("items", None)
    settings = SurveySettings(survey.title_zh, survey.title_en, survey.opens_at, survey.closes_at,
                              survey.target_responses, survey.is_public)
    return save_survey(survey, settings, design)


def generated_wording(features: list[dict[str, Any]], firm: dict[str, str] | None
                      ) -> dict[str, dict[str, dict[str, str]]]:
    """``{feature code: {facet: {zh, en}}}``: the template's sentences, firm name filled in.

    Overrides in ``features`` are ignored: this is what a blank field falls back to.
    Raises :class:`DesignError` (``feature-<n>`` keys) if a feature is not valid.
    """
    key = kano_key()
    if key is None or not features:
        return {}
    plain = [{k: v for k, v in feature.items() if k != "wording"} for feature in features]
    try:
        instrument = instrument_library()[key].with_features(plain)
    except InstrumentError as error:
        raise DesignError({_feature_key(error): error.reason}) from error
    wording: dict[str, dict[str, dict[str, str]]] = {}
    for variable in instrument.variables(firm=firm):
        if variable.facet in KANO_REWORDABLE_FACETS:
            wording.setdefault(variable.item, {})[variable.facet] = dict(variable.text)
    return wording


def feature_phrase_problem(phrase: str, lang: str) -> str | None:
    """Why ``phrase`` does not fit the KANO template as a noun phrase in ``lang``, or None."""
    phrase = phrase.strip()
    if not phrase:
        return None
    if lang == "zh" and ZH_CLAUSE.search(phrase):
        return _("The Chinese feature %(phrase)r reads as a clause; the question already says "
                 "\"如果…提供…\", so write a noun phrase (e.g. \"网上预约服务\").", phrase=phrase)
    if lang == "en" and (EN_CLAUSE.search(phrase) or phrase.endswith((".", "?", "!"))):
        return _("The English feature %(phrase)r reads as a clause; the question already says "
                 "\"If ... offered ...\", so write a noun phrase (e.g. \"online booking\").",
                 phrase=phrase)
    return None


def features_from_rows(rows: list[FeatureInput], firm: dict[str, str] | None) -> list[dict[str, Any]]:
    """The stored feature list from the builder's rows.

    Blank rows are dropped (they are the form's spare rows). A wording equal
    to what the template generates is not stored as an override, so that
    renaming the feature later regenerates it.
    """
    features = []
    for row in rows:
        if row.is_blank():
            continue
        features.append({"code": row.code.strip().upper(),
                         "feature": {lang: (row.feature.get(lang) or "").strip() for lang in LANGS}})
    if not features:
        raise DesignError({"features": _("KANO needs at least one feature.")})
    kept_rows = [row for row in rows if not row.is_blank()]
    phrase_errors = {}
    for number, (feature, row) in enumerate(zip(features, kept_rows), start=1):
        for lang in LANGS:
            # Own wording of both sentences that hold the phrase makes it fine.
            reworded = all((row.wording.get(facet) or {}).get(lang, "").strip() for facet in ("F", "D"))
            problem = None if reworded else feature_phrase_problem(feature["feature"][lang], lang)
            if problem:
                phrase_errors[f"feature-{number}"] = problem
    if phrase_errors:
        raise DesignError(phrase_errors)
    generated = generated_wording(features, firm)
    for feature, row in zip(features, kept_rows):
        overrides: dict[str, dict[str, str]] = {}
        for facet, texts in row.wording.items():
            template_text = generated.get(feature["code"], {}).get(facet, {})
            chosen = {lang: text.strip() for lang, text in texts.items()
                      if lang in LANGS and text and text.strip()
                      and text.strip() != template_text.get(lang)}
            if chosen:
                overrides[facet] = chosen
        if overrides:
            feature["wording"] = overrides
    return features


def check_design(design: dict[str, Any], *, draft: bool = False) -> Codebook | None:
    """Validate every part of ``design`` and return the codebook it yields.

    All problems found are reported together as a :class:`DesignError`.
    A KANO entry with an empty feature list (a new survey) is an error,
    except for a ``draft`` being created: then the codebook leaves KANO out
    (None if nothing else is asked yet).
    """
    errors: dict[str, str] = {}
    library = instrument_library()

    firm = design.get("firm")
    if not isinstance(firm, dict) or not any(isinstance(v, str) and v.strip() for v in firm.values()):
        errors["firm"] = _("Give the firm's name in at least one language.")
    elif set(firm) - set(LANGS):
        errors["firm"] = _("Firm names are given per language (%(languages)s).", languages=", ".join(LANGS))
    elif any(len(v) > FIRM_NAME_MAX for v in firm.values() if isinstance(v, str)):
        errors["firm"] = _("The firm's name may have at most %(max)s characters.", max=FIRM_NAME_MAX)
    elif any("{" in v or "}" in v for v in firm.values() if isinstance(v, str)):
        errors["firm"] = _("The firm's name may not contain braces.")

    if welcome_problems(design.get("welcome")):
        errors["welcome"] = _("The welcome texts are given per language, each at most %(max)s "
                              "characters.", max=WELCOME_TEXT_MAX)

    languages = design.get("languages")
    offered = tuple(current_app.config["LANGUAGES"])
    if not isinstance(languages, list) or not languages:
        errors["languages"] = _("Choose at least one language.")
    elif any(lang not in offered for lang in languages) or len(set(languages)) != len(languages):
        errors["languages"] = _("Languages are chosen from %(languages)s, each once.", languages=", ".join(offered))

    if design.get("servqual_layout", "blocks") not in SERVQUAL_LAYOUTS:
        errors["servqual_layout"] = _("Choose one of %(layouts)s.", layouts=", ".join(SERVQUAL_LAYOUTS))

    entries = design.get("instruments")
    if not isinstance(entries, list) or not entries:
        errors["instruments"] = _("Choose at least one instrument.")
        entries = []
    seen: set[str] = set()
    for entry in entries:
        key = entry.get("id") if isinstance(entry, dict) else None
        if key not in library:
            errors["instruments"] = _("Unknown instrument %(key)r.", key=key)
            continue
        if key in seen:
            errors["instruments"] = _("Instrument %(key)r is chosen twice.", key=key)
        seen.add(key)
        items = entry.get("items")
        if items is not None:
            known = set(library[key].item_codes) if not entry.get("features") else \
                {feature.get("code") for feature in entry["features"]}
            if not isinstance(items, list) or not items:
                errors[f"items-{key}"] = _("Choose at least one question, or leave the instrument out.")
            elif unknown := [code for code in items if code not in known]:
                errors[f"items-{key}"] = _("Unknown question code(s): %(codes)s.", codes=", ".join(map(str, unknown)))
        if "features" in entry and not entry["features"] and not draft:
            errors["features"] = _("Add the KANO features to ask (or use the example list) "
                                   "before previewing or opening.")
        if entry.get("features"):
            try:
                with_worded_features(library[key], entry["features"])
            except InstrumentError as error:
                errors[_feature_key(error)] = error.reason
            except SurveyError as error:
                errors["features"] = str(error)
    if not errors:
        errors.update(condition_errors(design))
    if errors:
        raise DesignError(errors)
    if draft and not any(entry.get("features") != [] for entry in entries):
        return None
    try:
        return compose(design)
    except (SurveyError, InstrumentError, ValueError) as error:
        raise DesignError({"instruments": str(error)}) from error


def condition_errors(design: dict[str, Any]) -> dict[str, str]:
    """Problems of the design's display conditions, by ``condition-<n>`` (1-based).

    Each ``{"target": ITEM or "section:ID", "show_if": {...}}`` is checked
    like a ``show_if`` in an instrument file: its shape by the instrument
    schema, then :func:`analysis.instruments.condition_problem` against the
    questions asked before the target in this design (not only in its file).
    """
    conditions = design.get("conditions") or []
    if not isinstance(conditions, list):
        return {"conditions": _("The display conditions must be a list.")}
    if not conditions:
        return {}
    try:
        base = compose({**design, "conditions": []})
    except (SurveyError, InstrumentError, ValueError):
        return {}  # the design's own problems are reported on their own
    first: dict[str, int] = {}
    for position, variable in enumerate(base):
        first.setdefault(variable.item, position)
        first.setdefault(SECTION_PREFIX + variable.instrument, position)
    validator = condition_validator()
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for number, condition in enumerate(conditions, start=1):
        key = f"condition-{number}"
        target = condition.get("target") if isinstance(condition, dict) else None
        show_if = condition.get("show_if") if isinstance(condition, dict) else None
        if target not in first:
            errors[key] = _("Condition %(n)s: %(target)s is not a question or section of this "
                            "survey.", n=number, target=target)
            continue
        if target in seen:
            errors[key] = _("Condition %(n)s: %(target)s has a condition already; a question or "
                            "section takes one.", n=number, target=target)
            continue
        seen.add(target)
        shape = next(iter(validator.iter_errors(show_if)), None)
        if shape is not None:
            errors[key] = _("Condition %(n)s: %(reason)s", n=number, reason=shape.message)
            continue
        earlier = {v.name: v.scale for v in base.variables[:first[target]]}
        problem = condition_problem(show_if, target, earlier)
        if problem is not None:
            errors[key] = _("Condition %(n)s: %(reason)s", n=number, reason=problem[1])
    return errors


def check_settings(settings: SurveySettings) -> None:
    errors: dict[str, str] = {}
    for name in ("title_zh", "title_en"):
        value = getattr(settings, name)
        if not value or not value.strip():
            errors[name] = _("A title is required.")
        elif len(value) > TITLE_MAX:
            errors[name] = _("At most %(max)s characters.", max=TITLE_MAX)
    if settings.opens_at and settings.closes_at and \
            _aware(settings.closes_at) <= _aware(settings.opens_at):
        errors["closes_at"] = _("The closing time must be after the opening time.")
    if settings.target_responses is not None and settings.target_responses < 1:
        errors["target_responses"] = _("The target must be at least 1 (or empty for no target).")
    if errors:
        raise DesignError(errors)


def _check_settings_and_design(settings: SurveySettings, design: dict[str, Any],
                               draft: bool = False) -> None:
    """Every problem of both, in one DesignError (one round trip for the researcher)."""
    errors: dict[str, str] = {}
    for check, argument in ((check_settings, settings),
                            (lambda d: check_design(d, draft=draft), design)):
        try:
            check(argument)
        except DesignError as error:
            errors.update(error.errors)
    if errors:
        raise DesignError(errors)


def create_from_builder(owner: User, slug: str, settings: SurveySettings,
                        design: dict[str, Any]) -> Survey:
    """A new draft survey, after checking its settings and design (KANO features may follow)."""
    _check_settings_and_design(settings, design, draft=True)
    try:
        survey = create_survey(owner, slug, settings.title_zh.strip(), settings.title_en.strip(),
                               design, target_responses=settings.target_responses)
    except SurveyError as error:
        raise DesignError({"slug": str(error)}) from error
    survey.opens_at, survey.closes_at = settings.opens_at, settings.closes_at
    survey.is_public = bool(settings.is_public)
    db.session.commit()
    return survey


def save_survey(survey: Survey, settings: SurveySettings,
                design: dict[str, Any]) -> SurveyVersion | None:
    """Store edited settings and design.

    If the survey is open, the new design is frozen as a new version right
    away (only if it differs from the current one); returns that version,
    or None for a draft or closed survey (which freezes when it next opens).
    """
    _check_settings_and_design(settings, design)
    survey.title_zh, survey.title_en = settings.title_zh.strip(), settings.title_en.strip()
    survey.opens_at, survey.closes_at = settings.opens_at, settings.closes_at
    survey.target_responses = settings.target_responses
    survey.is_public = bool(settings.is_public)
    survey.design = copy.deepcopy(design)
    if survey.status == SurveyStatus.OPEN.value:
        return open_survey(survey)
    db.session.commit()
    return None


def surveys_for(user: User) -> list[Survey]:
    """The surveys a researcher edits (their own); every survey for an admin."""
    query = select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc())
    if not user.has_role("admin"):
        query = query.where(Survey.owner_id == user.id)
    return list(db.session.execute(query).scalars())


@dataclass
class VersionCount:
    number: int
    frozen_at: datetime
    variables: int
    complete: int = 0
    partial: int = 0


def version_counts(survey: Survey) -> list[VersionCount]:
    """Per frozen version: its size and how many responses are complete or partial (one query)."""
    counts = {(version_id, status): n for version_id, status, n in db.session.execute(
        select(Response.version_id, Response.status, func.count(Response.id))
        .where(Response.survey_id == survey.id).group_by(Response.version_id, Response.status))}
    return [VersionCount(version.number, version.frozen_at, len(version.codebook),
                         counts.get((version.id, ResponseStatus.COMPLETE.value), 0),
                         counts.get((version.id, ResponseStatus.PARTIAL.value), 0))
            for version in survey.versions]


def _feature_key(error: InstrumentError) -> str:
    return f"feature-{error.line}" if error.line else "features"

