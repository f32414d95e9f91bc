"""The codebook of a survey: its variables across versions, their labels, one row a variable.

Every export, the dashboard, the API and the analysis read a stored
survey's variables through :func:`survey_codebook`.
"""
from __future__ import annotations

from typing import Any

from analysis.instruments import NOT_APPLICABLE_CODE, NOT_ASKED_CODE, Codebook, Variable

from ..models import Survey
from .responses import META_COLUMNS, codebook_of, response_columns
from .surveys import compose

# Descriptions of the metadata columns, in both languages like the item texts.
META_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "response_id": {"zh": "答卷编号", "en": "Response id"},
    "version": {"zh": "问卷版本号", "en": "Survey version number"},
    "status": {"zh": "状态（complete 完成 / partial 未完成）",
               "en": "Status (complete / partial)"},
    "started_at": {"zh": "开始时间（UTC）", "en": "Started at (UTC)"},
    "submitted_at": {"zh": "提交时间（UTC）", "en": "Submitted at (UTC)"},
    "duration_seconds": {"zh": "答题用时（秒）", "en": "Time taken (seconds)"},
    "contact_ok": {"zh": "同意回访（1 是 / 0 否）", "en": "Agreed to be contacted (1 yes / 0 no)"},
    "language": {"zh": "答题语言", "en": "Language answered in"},
    "comment": {"zh": "意见与建议", "en": "Comment"},
}

# Labels of the two missing-value codes every raw-data export writes (docs/data-model.md §5).
NOT_APPLICABLE_LABEL = {"zh": "不知道 / 不适用", "en": "don't know / not applicable"}
NOT_ASKED_LABEL = {"zh": "未提问（显示条件或问卷版本）",
                   "en": "not asked (display condition or survey version)"}

CODEBOOK_COLUMNS = (
    "name", "item", "facet", "facet_label_zh", "facet_label_en", "instrument",
    "instrument_version", "dimension", "parent", "text_zh", "text_en", "scale_type",
    "scale_min", "scale_max", "scale_total", "not_applicable", "reverse", "required",
    "segment", "weight_of", "value_labels_zh", "value_labels_en",
)


def survey_codebook(survey: Survey) -> Codebook:
    """The variables of every version of ``survey``, in response-frame column order.

    A variable asked in several versions is described as the newest version
    asks it. A survey that never opened has no version yet: its codebook is
    what its current design would freeze.
    """
    if not survey.versions:
        return compose(survey.design)
    latest: dict[str, Variable] = {}
    for version in sorted(survey.versions, key=lambda v: v.number):
        for variable in codebook_of(version):
            latest[variable.name] = variable
    return Codebook([latest[name] for name in response_columns(survey)[len(META_COLUMNS):]])


def value_labels(variable: Variable, lang: str, missing: bool = True) -> dict[int, str]:
    """Code -> label: a choice scale's options, a rating scale's labelled points and,
    with ``missing``, the missing-value codes (:func:`missing_labels`)."""
    scale = variable.scale
    labels: dict[int, str] = {}
    if scale["type"] == "choice":
        labels = {int(option["value"]): option["label"][lang] for option in scale["options"]}
    elif scale["type"] == "rating":
        labels = {int(point): label[lang] for point, label in sorted(scale.get("anchors", {}).items())}
    return {**labels, **missing_labels(variable, lang)} if missing else labels


def missing_labels(variable: Variable, lang: str) -> dict[int, str]:
    """The missing-value codes a raw-data export may write in ``variable``'s column.

    -98 "don't know / not applicable" where the scale offers that choice;
    -99 "not asked" for every question (display logic, or a survey version
    without it). A skipped question stays empty (system-missing).
    """
    labels = {}
    if variable.scale.get("not_applicable"):
        labels[int(NOT_APPLICABLE_CODE)] = NOT_APPLICABLE_LABEL[lang]
    labels[int(NOT_ASKED_CODE)] = NOT_ASKED_LABEL[lang]
    return labels


def variable_label(variable: Variable, lang: str) -> str:
    """The question text, prefixed by the facet (``[Expectation] ...``) where there is one."""
    text = variable.text.get(lang, "")
    facet = variable.label.get(lang) if variable.label else None
    return f"[{facet}] {text}" if facet else text


def codebook_rows(codebook: Codebook) -> list[dict[str, Any]]:
    """One row a variable (``CODEBOOK_COLUMNS``), for the codebook files and the labels sheet."""
    rows = []
    for variable in codebook:
        scale = variable.scale
        rows.append({
            "name": variable.name, "item": variable.item, "facet": variable.facet,
            "facet_label_zh": variable.label.get("zh"), "facet_label_en": variable.label.get("en"),
            "instrument": variable.instrument, "instrument_version": variable.instrument_version,
            "dimension": variable.dimension, "parent": variable.parent,
            "text_zh": variable.text.get("zh"), "text_en": variable.text.get("en"),
            "scale_type": scale["type"], "scale_min": scale.get("min"), "scale_max": scale.get("max"),
            "scale_total": scale.get("total"), "not_applicable": bool(scale.get("not_applicable", False)),
            "reverse": variable.reverse, "required": variable.required, "segment": variable.segment,
            "weight_of": variable.weight_of,
            "value_labels_zh": _labels_text(value_labels(variable, "zh")),
            "value_labels_en": _labels_text(value_labels(variable, "en")),
        })
    return rows


def value_label_rows(codebook: Codebook) -> list[dict[str, Any]]:
    """One row a labelled code: variable, value, label_zh, label_en."""
    rows = []
    for variable in codebook:
        english = value_labels(variable, "en")
        for value, label in value_labels(variable, "zh").items():
            rows.append({"variable": variable.name, "value": value,
                         "label_zh": label, "label_en": english.get(value)})
    return rows


def _labels_text(labels: dict[int, str]) -> str:
    return "; ".join(f"{value} = {label}" for value, label in labels.items())
