"""Surveys: composing a codebook from instruments, opening (freezing) and closing."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from analysis.instruments import Codebook, Instrument, compose_codebook, load_instruments

from ..extensions import db
from ..models import (Instrument as InstrumentRow, Item, Response, ResponseStatus, Survey,
                      SurveyStatus, SurveyVersion, User)

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
SERVQUAL_LAYOUTS = ("blocks", "side_by_side")


class SurveyError(ValueError):
    """A survey design or state change that cannot be carried out."""


def instrument_library() -> dict[str, Instrument]:
    """The instruments shipped in ``INSTRUMENTS_DIR``, loaded and validated once per app."""
    cache = current_app.extensions.setdefault("surveyapp.instruments", {})
    directory = current_app.config["INSTRUMENTS_DIR"]
    if directory not in cache:
        cache[directory] = load_instruments(directory)
    return cache[directory]


def instrument_documents(codebook: Codebook) -> dict[tuple[str, int], dict]:
    """The documents of the instrument versions ``codebook`` was frozen with, by (id, version):
    their dimension labels and headings for pages and charts.

    The stored instrument rows keep every loaded version; the shipped files
    only the newest one, used when the rows were never synced (a fresh test
    database). A version found in neither is left out: its wording is unknown,
    and callers fall back to codes.
    """
    wanted = {(v.instrument, v.instrument_version) for v in codebook}
    rows = db.session.execute(select(InstrumentRow.key, InstrumentRow.version, InstrumentRow.document)
                              .where(InstrumentRow.key.in_({key for key, _version in wanted}))).all()
    documents = {(row.key, row.version): row.document for row in rows if (row.key, row.version) in wanted}
    library = instrument_library()
    for key, version in wanted - set(documents):
        shipped = library.get(key)
        if shipped is not None and shipped.version == version:
            documents[(key, version)] = shipped.document
    return documents


def default_design(firm: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "firm": firm or {"zh": "本公司", "en": "the company"},
        "languages": list(current_app.config["LANGUAGES"]),
        "servqual_layout": "blocks",
        "instruments": [],
    }


def compose(design: dict[str, Any]) -> Codebook:
    """The codebook a design yields: instruments in the design's order, chosen items only."""
    library = instrument_library()
    parts: list[tuple[Instrument, list[str] | None]] = []
    for entry in design.get("instruments", []):
        key = entry.get("id")
        if key not in library:
            raise SurveyError(f"unknown instrument {key!r}; available: {', '.join(sorted(library))}")
        instrument = library[key]
        if "features" in entry and not entry["features"]:
            continue  # a new survey's KANO before its features are chosen: asks nothing yet
        if entry.get("features"):
            instrument = with_worded_features(instrument, entry["features"])
        parts.append((instrument, entry.get("items")))
    parts = [(with_conditions(instrument, design.get("conditions") or []), items)
             for instrument, items in parts]
    if not parts:
        raise SurveyError("a survey needs at least one instrument")
    layout = design.get("servqual_layout", "blocks")
    if layout not in SERVQUAL_LAYOUTS:
        raise SurveyError(f"servqual_layout must be one of {', '.join(SERVQUAL_LAYOUTS)}")
    return compose_codebook(parts, firm=design.get("firm"))


SECTION_PREFIX = "section:"


def with_conditions(instrument: Instrument, conditions: list[dict[str, Any]]) -> Instrument:
    """``instrument`` with the builder's display conditions on its items.

    ``conditions`` is the design's list of ``{"target": ITEM or "section:ID",
    "show_if": {...}}``. An item's own condition replaces the one its file
    gives; a section's condition goes on every item of the instrument that
    has none of its own (a question hanging on another of the same section
    is hidden with it, as conditions chain).
    """
    own = {c["target"]: c["show_if"] for c in conditions}
    section = own.get(SECTION_PREFIX + instrument.id)
    if section is None and not any(code in own for code in instrument.item_codes):
        return instrument
    items = []
    for item in instrument.items:
        condition = own.get(item["code"]) or item.get("show_if") or section
        items.append({**item, "show_if": copy.deepcopy(condition)})
    return dataclasses.replace(instrument, items=items)


def with_worded_features(instrument: Instrument, features: list[dict[str, Any]]) -> Instrument:
    """A KANO instrument expanded from ``features``, with the researcher's own wording.

    Each feature may carry ``wording: {facet: {zh?, en?}}``: text that replaces
    what the template generates for that facet and language (a blank or
    missing language keeps the generated text), so a researcher can fix a
    sentence the template makes awkward without leaving the instrument.
    """
    plain = [{key: value for key, value in feature.items() if key != "wording"}
             for feature in features]
    expanded = instrument.with_features(plain)
    overrides = {feature.get("code"): feature.get("wording") or {} for feature in features}
    items = []
    for item in expanded.items:
        text = copy.deepcopy(item["text"])
        for facet, wording in overrides[item["code"]].items():
            if not isinstance(wording, dict):
                raise SurveyError(f"feature {item['code']}: the wording of {facet!r} must be {{zh, en}}")
            if facet not in text:
                raise SurveyError(f"feature {item['code']}: {instrument.id} has no question "
                                  f"{facet!r} to reword; it has {', '.join(text)}")
            text[facet] = {lang: (wording.get(lang) or "").strip() or generated
                           for lang, generated in text[facet].items()}
        items.append({**item, "text": text})
    return dataclasses.replace(expanded, items=items)


def create_survey(owner: User, slug: str, title_zh: str, title_en: str,
                  design: dict[str, Any], target_responses: int | None = None) -> Survey:
    if not SLUG_PATTERN.match(slug):
        raise SurveyError("the link name may use lower-case letters, digits and '-' (2-63 characters)")
    if db.session.execute(select(Survey.id).where(Survey.slug == slug)).first():
        raise SurveyError(f"a survey with the link name {slug!r} exists already")
    if any(entry.get("features") != [] for entry in design.get("instruments", [])):
        compose(design)  # fail now, not when the survey opens
    survey = Survey(slug=slug, title_zh=title_zh, title_en=title_en, owner=owner,
                    design=copy.deepcopy(design), target_responses=target_responses)
    db.session.add(survey)
    db.session.commit()
    return survey


def _fingerprint(codebook: Codebook, design: dict[str, Any]) -> str:
    payload = json.dumps({"codebook": codebook.to_json(),
                          "layout": design.get("servqual_layout")},
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def open_survey(survey: Survey) -> SurveyVersion:
    """Open ``survey`` for answers, freezing its current design as a version.

    A new version is made only when the design changed since the last one,
    so closing and reopening keeps answering the same version.
    """
    codebook = compose(survey.design)
    latest = survey.current_version
    if latest is None or _fingerprint(Codebook.from_json(latest.codebook), latest.design) \
            != _fingerprint(codebook, survey.design):
        latest = SurveyVersion(survey=survey, number=(latest.number + 1) if latest else 1,
                               codebook=codebook.to_json(), design=copy.deepcopy(survey.design))
        db.session.add(latest)
    survey.status = SurveyStatus.OPEN.value
    db.session.commit()
    return latest


def close_survey(survey: Survey) -> None:
    survey.status = SurveyStatus.CLOSED.value
    db.session.commit()


def completed_count(survey: Survey) -> int:
    return db.session.execute(
        select(func.count(Response.id)).where(Response.survey_id == survey.id,
                                              Response.status == ResponseStatus.COMPLETE.value)
    ).scalar_one()


def availability(survey: Survey, now: datetime | None = None) -> str | None:
    """Why ``survey`` takes no answers now ("closed", "not_open", "full"), or None if it does."""
    now = now or datetime.now(timezone.utc)
    if survey.status != SurveyStatus.OPEN.value or survey.current_version is None:
        return "closed"
    if survey.opens_at and _aware(survey.opens_at) > now:
        return "not_open"
    if survey.closes_at and _aware(survey.closes_at) <= now:
        return "closed"
    if survey.target_responses and completed_count(survey) >= survey.target_responses:
        return "full"
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def sync_instruments() -> list[tuple[str, int, str]]:
    """Store every shipped instrument file in the database.

    Returns ``(id, version, action)`` per file, action being "added" or
    "unchanged". A file whose content changed without a version bump is an
    error: frozen surveys cite (id, version), so a version's wording must
    never change under them.
    """
    report = []
    for key, instrument in sorted(instrument_library().items()):
        document = instrument.document
        checksum = hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False)
                                  .encode()).hexdigest()
        row = db.session.execute(select(InstrumentRow).where(
            InstrumentRow.key == key, InstrumentRow.version == instrument.version)).scalar_one_or_none()
        if row is not None:
            if row.checksum != checksum:
                raise SurveyError(
                    f"{instrument.path}: instrument {key!r} version {instrument.version} is already "
                    "loaded with different content; raise its version number")
            report.append((key, instrument.version, "unchanged"))
            continue
        row = InstrumentRow(key=key, version=instrument.version, title_zh=instrument.title["zh"],
                            title_en=instrument.title["en"], kind=instrument.kind,
                            document=document, checksum=checksum)
        for position, variable in enumerate(_first_facet_variables(instrument)):
            row.items.append(Item(code=variable.item, position=position,
                                  dimension=variable.dimension or "",
                                  text_zh=variable.text["zh"], text_en=variable.text["en"],
                                  reverse=variable.reverse))
        db.session.add(row)
        report.append((key, instrument.version, "added"))
    db.session.commit()
    return report


def _first_facet_variables(instrument: Instrument):
    """One variable per item (its first facet's wording) for the item catalogue."""
    seen: set[str] = set()
    for variable in instrument.variables():
        if variable.item not in seen:
            seen.add(variable.item)
            yield variable
