"""Instruments as data: load, validate and expand ``instruments/*.yaml``.

An instrument file (format: ``docs/data-model.md`` section 1) is checked in
three layers, each failing with ``file:line: reason``:

1. YAML syntax and duplicate mapping keys (PyYAML silently keeps the last
   duplicate, which would hide a copy-paste mistake), from the composed node
   tree so every problem has a line;
2. ``instruments/schema/instrument.schema.json`` (JSON Schema 2020-12), with
   each error's ``absolute_path`` mapped back to the YAML node;
3. cross-reference rules a schema cannot express (an item's dimension and
   scale exist, codes are unique, anchors lie inside the scale, ...).

A valid :class:`Instrument` expands into :class:`Variable` objects, one per
stored column (``ITEM`` or ``ITEM_FACET``); :func:`compose_codebook` joins
the chosen items of several instruments into the frozen :class:`Codebook` a
survey version stores.

Command line: ``python -m analysis.instruments validate [files...]``.
"""
from __future__ import annotations

import copy
import difflib
import json
import re
import sys
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import yaml
from jsonschema import Draft202012Validator

if TYPE_CHECKING:  # annotations only: the module loads without pandas
    import pandas as pd

DEFAULT_DIR: Path = Path(__file__).resolve().parent.parent / "instruments"
SCHEMA_PATH: Path = DEFAULT_DIR / "schema" / "instrument.schema.json"

LANGS = ("zh", "en")
#: The stored and exported code of a "don't know / not applicable" answer on a
#: scale that offers one (``not_applicable: true``): never a scale point, kept
#: apart from a skipped question (NaN) and from "not asked in this version"
#: (:data:`NOT_ASKED_CODE`). Analyses read it as missing via
#: :meth:`Codebook.not_applicable_mask`.
NOT_APPLICABLE_CODE = -98.0
#: The exported code of a question that was not asked: display logic hid it,
#: or the survey version a response answered did not have it. surveyapp's
#: exports write it (CSV/XLSX as a labelled number, SPSS as a user-missing
#: value); :func:`analysis.io.read_responses_csv` reads it back as missing.
NOT_ASKED_CODE = -99.0
DEFAULT_FIRM = {"zh": "本公司", "en": "the company"}

# KANO facets take their question wording from these template keys.
KANO_TEMPLATE_KEYS = {"F": "functional", "D": "dysfunctional", "IMP": "importance"}

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# English firm names that read as a common noun phrase ("the company") must be
# capitalised at the start of a sentence; proper names ("eBank") must not be.
_LOWER_ARTICLES = ("the ", "a ", "an ", "our ", "this ")

_PATTERN_HINTS = {
    "^[A-Z][A-Z0-9_]{1,19}$": "codes are 2-20 characters: a capital letter, then capitals, digits or _",
    "^[A-Z][A-Z0-9]{0,5}$": "facet codes are 1-6 characters: a capital letter, then capitals or digits",
    "^[a-z][a-z0-9_]{0,39}$": "names are lower_snake_case: a small letter, then small letters, digits or _",
    "^[a-z][a-z0-9_]{1,39}$": "ids are lower_snake_case, 2-40 characters",
    "^-?[0-9]+$": "anchor keys are the integer scale points",
    "^(zh|en|[A-Z][A-Z0-9]{0,5})$": "text keys are zh/en, or facet codes when the item has facets",
}


class InstrumentError(ValueError):
    """A problem in an instrument file, located by ``path`` and ``line``.

    ``line`` is 1-based; ``0`` means the problem is not at a place in a file
    (for example a feature list passed in by the app).
    """

    def __init__(self, path: str | Path, line: int, reason: str):
        self.path = str(path)
        self.line = int(line)
        self.reason = reason
        super().__init__(f"{self.path}:{self.line}: {reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.line, self.reason))


# --------------------------------------------------------------------------
# Variables and the codebook
# --------------------------------------------------------------------------


def _anchors_from_json(scale: dict) -> dict:
    """JSON turns the integer anchor keys into strings; turn them back."""
    scale = copy.deepcopy(scale)
    if isinstance(scale.get("anchors"), dict):
        scale["anchors"] = {int(k): v for k, v in scale["anchors"].items()}
    return scale


def _anchors_to_json(scale: dict) -> dict:
    scale = copy.deepcopy(scale)
    if isinstance(scale.get("anchors"), dict):
        scale["anchors"] = {str(k): v for k, v in scale["anchors"].items()}
    return scale


@dataclass(frozen=True)
class Variable:
    """One stored column of a survey: an item, or an item asked under one facet.

    Field meanings are the codebook table in ``docs/data-model.md`` section 2.
    ``instruction`` is the facet's instruction (placeholders filled), ``{}``
    when the variable has no facet or the facet has none.
    """

    name: str
    item: str
    facet: str | None
    instrument: str
    instrument_version: int
    kind: str
    dimension: str
    parent: str | None
    scale: dict
    text: dict
    label: dict
    reverse: bool = False
    required: bool = True
    segment: bool = False
    weight_of: str | None = None
    instruction: dict = field(default_factory=dict)
    # Display logic: ``{variable, equals | in | range}``; None = always asked.
    show_if: dict | None = None

    # Dict fields make the generated hash fail; the identity of a variable is
    # where it came from and its column name.
    def __hash__(self) -> int:
        return hash((self.instrument, self.instrument_version, self.name))

    @property
    def is_numeric_rating(self) -> bool:
        """True for rating-scale variables (means, reverse coding apply)."""
        return self.scale.get("type") == "rating"

    def valid_values(self) -> set[int] | tuple[int, int] | None:
        """Allowed answers: option values (choice), ``(min, max)`` (rating),
        ``(0, total)`` (constant_sum), ``None`` (free text)."""
        kind = self.scale.get("type")
        if kind == "choice":
            return {o["value"] for o in self.scale["options"]}
        if kind == "rating":
            return (self.scale["min"], self.scale["max"])
        if kind == "constant_sum":
            return (0, self.scale["total"])
        return None

    def to_dict(self) -> dict:
        """JSON-ready dict (anchor keys become strings)."""
        d = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self)}
        d["scale"] = _anchors_to_json(self.scale)
        if d["show_if"] is None:
            # Codebooks frozen before display logic existed stay byte-identical.
            del d["show_if"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Variable":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"codebook variable {d.get('name')!r}: unknown field(s) {sorted(unknown)}")
        missing = {"name", "item", "facet", "instrument", "instrument_version", "kind",
                   "dimension", "scale", "text"} - set(d)
        if missing:
            raise ValueError(f"codebook variable {d.get('name')!r}: missing field(s) {sorted(missing)}")
        kw = copy.deepcopy(dict(d))
        kw["scale"] = _anchors_from_json(kw["scale"])
        kw.setdefault("parent", None)
        kw.setdefault("label", {})
        return cls(**kw)


_ANY = object()


@dataclass
class Codebook:
    """The ordered list of variables of one survey version (one per column)."""

    variables: list[Variable] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.variables = list(self.variables)
        seen: set[str] = set()
        for v in self.variables:
            if v.name in seen:
                raise ValueError(f"codebook: duplicate column name {v.name!r}")
            seen.add(v.name)
        self._index = {v.name: v for v in self.variables}

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def __getitem__(self, name: str) -> Variable:
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"codebook has no column {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)

    def to_json(self) -> list[dict]:
        return [v.to_dict() for v in self.variables]

    @classmethod
    def from_json(cls, data: list[dict] | str) -> "Codebook":
        """From :meth:`to_json` output, or that output serialised to a string."""
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        if not isinstance(data, list):
            raise ValueError("codebook JSON must be a list of variables")
        return cls([Variable.from_dict(d) for d in data])

    def select(self, *, instrument: str | None = None, kind: str | None = None,
               facet: Any = _ANY, dimension: str | None = None,
               segment: bool | None = None) -> list[Variable]:
        """Variables matching every given filter, in codebook order.

        ``facet`` defaults to "any facet"; ``facet=None`` selects variables
        without a facet (e.g. ``SQW_TAN``, ``OVS1``).
        """
        out = []
        for v in self.variables:
            if instrument is not None and v.instrument != instrument:
                continue
            if kind is not None and v.kind != kind:
                continue
            if facet is not _ANY and v.facet != facet:
                continue
            if dimension is not None and v.dimension != dimension:
                continue
            if segment is not None and v.segment != segment:
                continue
            out.append(v)
        return out

    def not_applicable_mask(self, frame: "pd.DataFrame") -> "pd.DataFrame":
        """True where a variable whose scale offers "not applicable" holds
        :data:`NOT_APPLICABLE_CODE` (columns: those variables present in ``frame``).

        Examples
        --------
        >>> import pandas as pd
        >>> library = load_instruments()
        >>> book = compose_codebook([(library["servqual"], ["SQ01"])])
        >>> book.not_applicable_mask(pd.DataFrame({"SQ01_E": [5.0, -98.0], "SQ01_P": [4.0, None]})).to_dict("list")
        {'SQ01_E': [False, True], 'SQ01_P': [False, False]}
        """
        names = [v.name for v in self.variables
                 if v.scale.get("not_applicable") and v.name in frame.columns]
        return frame[names].eq(NOT_APPLICABLE_CODE)

    def without_not_applicable(self, frame: "pd.DataFrame") -> "pd.DataFrame":
        """``frame`` with every "not applicable" code set to NaN, as the statistics need it;
        a variable whose scale has no such option keeps -98 (and a range check then fails)."""
        names = [v.name for v in self.variables
                 if v.scale.get("not_applicable") and v.name in frame.columns]
        # Column by column: a mask of every such column at once copies them all
        # (a GB at a million responses) to find that usually none holds the code.
        coded = [name for name in names if (frame[name].to_numpy() == NOT_APPLICABLE_CODE).any()]
        if not coded:
            return frame
        # A shallow copy whose coded columns are replaced: the caller's frame keeps its
        # values and the other columns are not copied.
        out = frame.copy(deep=False)
        for name in coded:
            out[name] = out[name].mask(out[name] == NOT_APPLICABLE_CODE)
        return out

    def pairs(self, instrument: str, a: str, b: str) -> list[tuple[Variable, Variable]]:
        """``(facet a, facet b)`` variables of the same item, in item order;
        items asked under only one of the two facets are left out."""
        second = {v.item: v for v in self.select(instrument=instrument, facet=b)}
        return [(v, second[v.item]) for v in self.select(instrument=instrument, facet=a)
                if v.item in second]

    def dimensions(self, instrument: str | None = None) -> dict[str, list[str]]:
        """Dimension code -> item codes (not column names), in codebook order."""
        out: dict[str, list[str]] = {}
        for v in self.variables:
            if instrument is not None and v.instrument != instrument:
                continue
            items = out.setdefault(v.dimension, [])
            if v.item not in items:
                items.append(v.item)
        return out


# --------------------------------------------------------------------------
# Instrument
# --------------------------------------------------------------------------


def _firm_names(firm: dict[str, str] | None) -> dict[str, str]:
    """Fill both languages: a name given in one language stands for the other."""
    firm = {k: v for k, v in (firm or {}).items() if v}
    unknown = set(firm) - set(LANGS)
    if unknown:
        raise ValueError(f"firm names are given per language {LANGS}, not {sorted(unknown)}")
    if not firm:
        return dict(DEFAULT_FIRM)
    return {lang: firm.get(lang) or next(iter(firm.values())) for lang in LANGS}


def _fill_text(text: str, lang: str, values: dict[str, dict[str, str]]) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in values:
            raise ValueError(f"unknown placeholder {{{name}}} in {text!r}")
        return values[name][lang]

    out = _PLACEHOLDER.sub(sub, text)
    if (lang == "en" and text.startswith("{firm}") and "firm" in values
            and values["firm"]["en"].lower().startswith(_LOWER_ARTICLES)):
        out = out[:1].upper() + out[1:]
    return out


def _fill(obj: Any, values: dict[str, dict[str, str]], lang: str | None = None) -> Any:
    """Fill placeholders in every ``{zh, en}`` string below ``obj``."""
    if isinstance(obj, dict):
        return {k: _fill(v, values, k if k in LANGS else lang) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, values, lang) for v in obj]
    if isinstance(obj, str) and lang is not None:
        return _fill_text(obj, lang, values)
    return copy.deepcopy(obj)


@dataclass
class Instrument:
    """A validated instrument file.

    ``items`` are normalised dicts: ``code, dimension, scale (None when the
    facets carry the scale, as in KANO), text, facets (list of facet codes),
    reverse, required, segment, weight_of``. For KANO they are generated from
    ``template`` x ``features``. ``document`` is the file as loaded, JSON-ready
    (anchor keys as strings), for storing alongside a survey.
    """

    id: str
    version: int
    title: dict
    description: dict
    source: dict
    kind: str
    scales: dict[str, dict]
    facets: list[dict]
    dimensions: list[dict]
    items: list[dict]
    template: dict | None
    features: list[dict]
    path: str
    placeholders: list[str] = field(default_factory=lambda: ["firm"])
    document: dict = field(default_factory=dict, repr=False)
    item_lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def item_codes(self) -> list[str]:
        return [it["code"] for it in self.items]

    def with_features(self, features: list[dict]) -> "Instrument":
        """A copy of this KANO instrument with items expanded from ``features``
        (``[{code, feature: {zh, en}, dimension?}]``, e.g. a researcher's own
        list). Errors are :class:`InstrumentError` with path ``<features>``
        and the 1-based position in the list as the line."""
        if self.kind != "kano":
            raise InstrumentError(self.path, 0, f"{self.id}: only KANO instruments take a feature list")
        normalised = _check_features(features, self)
        doc = copy.deepcopy(self.document)
        doc["features"] = copy.deepcopy(normalised)
        return replace(self, features=normalised, items=_expand_kano(self, normalised),
                       document=doc, item_lines={})

    def with_items(self, items: list[dict]) -> "Instrument":
        """A copy of this expectation/perception instrument with a researcher's own items
        (``[{code, dimension, text: {zh, en}}]``; ``text`` may instead be
        ``{E: {zh, en}, P: {zh, en}}``, one statement per facet). The dimensions are
        the items' own; the importance allocation is dropped because it was
        written for the shipped dimensions. Errors are :class:`InstrumentError`
        with path ``<items>`` and the 1-based position in the list as the line.
        """
        if self.kind != "expectation_perception":
            raise InstrumentError(self.path, 0, f"{self.id}: only E/P instruments take an item list")
        where = "<items>"
        if not isinstance(items, list) or not items:
            raise InstrumentError(where, 0, "the item list must be a non-empty list")
        facet_codes = [f["code"] for f in self.facets]
        rating = next(it["scale"] for it in self.items if it["scale"] and not it["weight_of"])
        seen: set[str] = set()
        normalised, dimensions = [], {}
        for n, item in enumerate(items, start=1):
            code, dimension = item.get("code"), item.get("dimension")
            if not isinstance(code, str) or not _FEATURE_CODE.match(code):
                raise InstrumentError(where, n, f"item code {code!r} is not allowed: "
                                                f"{_PATTERN_HINTS['^[A-Z][A-Z0-9_]{1,19}$']}")
            if code in seen:
                raise InstrumentError(where, n, f"duplicate item code {code!r}")
            seen.add(code)
            if not isinstance(dimension, str) or not dimension.strip():
                raise InstrumentError(where, n, f"item {code}: a dimension is needed")
            text = item.get("text") or {}
            per_facet = text if set(text) >= set(facet_codes) else {f: text for f in facet_codes}
            for facet in facet_codes:
                for lang in LANGS:
                    if not isinstance(per_facet[facet].get(lang), str) or not per_facet[facet][lang].strip():
                        raise InstrumentError(where, n, f"item {code}: missing {lang} text")
            dimensions.setdefault(dimension, {"code": dimension,
                                              "label": {lang: dimension for lang in LANGS}})
            normalised.append({"code": code, "dimension": dimension, "scale": rating,
                               "text": {f: {lang: per_facet[f][lang] for lang in LANGS}
                                        for f in facet_codes},
                               "facets": facet_codes, "reverse": False, "required": True,
                               "segment": False, "weight_of": None})
        known = {d["code"]: d for d in self.dimensions}
        dims = [known.get(code, d) for code, d in dimensions.items()]
        doc = copy.deepcopy(self.document)
        doc["items"], doc["dimensions"] = copy.deepcopy(normalised), copy.deepcopy(dims)
        return replace(self, items=normalised, dimensions=dims, document=doc, item_lines={})

    def variables(self, firm: dict[str, str] | None = None,
                  items: list[str] | None = None) -> list[Variable]:
        """One :class:`Variable` per item x facet, placeholders filled.

        ``items`` chooses item codes; the instrument's own order is kept so
        the questionnaire reads as designed.
        """
        values = {"firm": _firm_names(firm)}
        chosen = self.items
        if items is not None:
            known = set(self.item_codes)
            unknown = [c for c in items if c not in known]
            if unknown:
                raise ValueError(f"{self.id}: unknown item code(s) {', '.join(unknown)}")
            wanted = set(items)
            chosen = [it for it in self.items if it["code"] in wanted]
        facets = {f["code"]: f for f in self.facets}
        dims = {d["code"]: d for d in self.dimensions}
        out: list[Variable] = []
        for it in chosen:
            for fc in it["facets"] or [None]:
                facet = facets.get(fc, {})
                scale_name = facet.get("scale") or it["scale"]
                scale = {"name": scale_name, **copy.deepcopy(self.scales[scale_name])}
                out.append(Variable(
                    name=f"{it['code']}_{fc}" if fc else it["code"],
                    item=it["code"],
                    facet=fc,
                    instrument=self.id,
                    instrument_version=self.version,
                    kind=self.kind,
                    dimension=it["dimension"],
                    parent=dims[it["dimension"]].get("parent"),
                    scale=_fill(scale, values),
                    text=_fill(it["text"][fc] if fc else it["text"], values),
                    label=_fill(facet.get("label", {}), values),
                    reverse=it["reverse"],
                    required=it["required"] and facet.get("required", True),
                    segment=it["segment"],
                    weight_of=it["weight_of"],
                    instruction=_fill(facet.get("instruction", {}), values),
                    show_if=copy.deepcopy(it.get("show_if")),
                ))
        return out


def condition_met(condition: dict | None, answers: dict[str, float | None]) -> bool:
    """Whether a display condition holds for ``answers`` (``{column: value or None}``).

    ``condition`` is an item's ``show_if``: ``{variable, equals}``,
    ``{variable, in: [...]}`` or ``{variable, range: [low, high]}`` (closed).
    No condition: always asked. An unanswered (or not asked, or "not
    applicable") variable meets no condition, so a question hangs on an
    answer actually given.

    Examples
    --------
    >>> condition_met({"variable": "PR_CHANNEL", "equals": 1}, {"PR_CHANNEL": 1.0})
    True
    >>> condition_met({"variable": "PR_CHANNEL", "in": [2, 3]}, {"PR_CHANNEL": 1.0})
    False
    >>> condition_met({"variable": "AGE", "range": [18, 30]}, {"AGE": None})
    False
    """
    if condition is None:
        return True
    value = answers.get(condition["variable"])
    if value is None or value != value or value == NOT_APPLICABLE_CODE:
        return False  # unanswered, not asked, or "don't know / not applicable"
    if "equals" in condition:
        return value == condition["equals"]
    if "in" in condition:
        return value in condition["in"]
    low, high = condition["range"]
    return low <= value <= high


def condition_text(condition: dict) -> str:
    """A condition as the builder writes it: ``PR_CHANNEL = 1``, ``X in 1, 2``, ``Y 3..5``.

    Examples
    --------
    >>> condition_text({"variable": "PR_CHANNEL", "in": [1, 2]})
    'PR_CHANNEL in 1, 2'
    """
    name = condition["variable"]
    if "equals" in condition:
        return f"{name} = {_number(condition['equals'])}"
    if "in" in condition:
        return f"{name} in {', '.join(_number(v) for v in condition['in'])}"
    low, high = condition["range"]
    return f"{name} {_number(low)}..{_number(high)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def condition_problem(condition: dict, what: str, earlier: dict[str, dict],
                      before: str = "a question before it") -> tuple[str | None, str] | None:
    """What is wrong with a display condition, or None: the one check of the YAML loader
    and of the survey builder.

    Parameters
    ----------
    condition : dict
        ``{variable, equals | in | range}`` (its shape already checked by the schema).
    what : str
        What carries the condition, for the message ("item PR_BRANCH").
    earlier : dict
        ``{column name: its scale dict}`` of the questions asked before it.
    before : str
        How the message names those questions.

    Returns
    -------
    ``(key, reason)``: ``key`` is the part of the condition at fault
    (``"variable"``, ``"range"`` or None for the values), for a line number.

    Examples
    --------
    >>> channel = {"type": "choice", "options": [{"value": 1}, {"value": 2}]}
    >>> condition_problem({"variable": "PR_CHANNEL", "in": [1, 5]}, "item X", {"PR_CHANNEL": channel})
    (None, 'item X: show_if value(s) 5 are not options of PR_CHANNEL (1, 2)')
    >>> condition_problem({"variable": "PR_CHANNEL", "equals": 2}, "item X", {"PR_CHANNEL": channel}) is None
    True
    """
    name = condition["variable"]
    if name not in earlier:
        return ("variable", f"{what}: show_if names {name!r}, which is not a column of "
                            f"{before}"
                + (f" (columns: {', '.join(sorted(earlier))})" if earlier else ""))
    scale = earlier[name]
    if "range" in condition:
        low, high = condition["range"]
        if low > high:
            return ("range", f"{what}: show_if range [{_number(low)}, {_number(high)}] is empty")
        if scale.get("type") == "rating" and (high < scale["min"] or low > scale["max"]):
            return ("range", f"{what}: show_if range [{_number(low)}, {_number(high)}] holds no "
                             f"point of {name}'s scale {scale['min']}..{scale['max']}")
        return None
    wanted = [condition["equals"]] if "equals" in condition else condition.get("in", [])
    if scale.get("type") == "choice":
        allowed = {o["value"] for o in scale["options"]}
        unknown = [v for v in wanted if v not in allowed]
        if unknown:
            return (None, f"{what}: show_if value(s) {', '.join(map(_number, unknown))} are not "
                          f"options of {name} ({', '.join(map(_number, sorted(allowed)))})")
    elif scale.get("type") == "rating":
        outside = [v for v in wanted if not scale["min"] <= v <= scale["max"]]
        if outside:
            return (None, f"{what}: show_if value(s) {', '.join(map(_number, outside))} are "
                          f"outside {name}'s scale {scale['min']}..{scale['max']}")
    return None


def not_asked(codebook: "Codebook", answers: dict[str, float | None]) -> list[str]:
    """Columns whose display condition ``answers`` do not meet, in codebook order.

    Evaluated in order with hidden columns treated as unanswered, so a chain
    (C shown if B, B shown if A) hides C when A hides B.

    Examples
    --------
    >>> v = dict(item="X", facet=None, instrument="i", instrument_version=1, kind="profile",
    ...          dimension="d", parent=None, scale={"type": "choice"}, text={}, label={})
    >>> book = Codebook([Variable(name="A", **v), Variable(name="B", **v,
    ...     show_if={"variable": "A", "equals": 1}), Variable(name="C", **v,
    ...     show_if={"variable": "B", "in": [1, 2]})])
    >>> not_asked(book, {"A": 2.0, "B": 1.0, "C": 1.0})
    ['B', 'C']
    """
    seen = dict(answers)
    hidden = []
    for variable in codebook:
        if variable.show_if is not None and not condition_met(variable.show_if, seen):
            hidden.append(variable.name)
            seen[variable.name] = None
    return hidden


def compose_codebook(parts: list[tuple[Instrument, list[str] | None]],
                     firm: dict[str, str] | None = None) -> Codebook:
    """Join ``(instrument, item codes or None for all)`` parts, in order."""
    variables: list[Variable] = []
    origin: dict[str, str] = {}
    for inst, items in parts:
        for v in inst.variables(firm=firm, items=items):
            if v.name in origin:
                raise InstrumentError(
                    inst.path, inst.item_lines.get(v.item, 0),
                    f"column {v.name} of {inst.id} is already taken by {origin[v.name]}")
            if v.show_if is not None and v.show_if["variable"] not in origin:
                raise InstrumentError(
                    inst.path, inst.item_lines.get(v.item, 0),
                    f"{v.name} is shown only if {condition_text(v.show_if)}, but "
                    f"{v.show_if['variable']} is not asked before it: keep that question too")
            origin[v.name] = inst.id
            variables.append(v)
    return Codebook(variables)


# --------------------------------------------------------------------------
# Parsing with line numbers
# --------------------------------------------------------------------------


class _Located:
    """A parsed YAML file: the data plus a path -> line lookup."""

    def __init__(self, path: str, text: str):
        self.path = path
        loader = None
        try:
            # The reader checks every character as it is constructed, so a
            # control character fails here already.
            loader = yaml.SafeLoader(text)
            root = loader.get_single_node()
            if root is None:
                raise InstrumentError(path, 1, "the file is empty")
            _check_duplicate_keys(path, root)
            self.data = loader.construct_document(root)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            reason = e.problem or e.context or "cannot parse"
            if e.context and e.problem:
                # The parser notices an unclosed bracket only further down;
                # the line where the construct began is usually the mistake.
                where = e.context_mark.line + 1 if e.context_mark else None
                began = f" started on line {where}" if where and mark and where != mark.line + 1 else ""
                reason = f"{e.context}{began}: {e.problem}"
            raise InstrumentError(path, mark.line + 1 if mark else 1,
                                  f"YAML syntax error: {reason}") from None
        except yaml.reader.ReaderError as e:
            line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else 1
            raise InstrumentError(path, line, f"unreadable character: {e.reason}") from None
        except yaml.YAMLError as e:
            raise InstrumentError(path, 1, f"YAML error: {e}") from None
        finally:
            if loader is not None:
                loader.dispose()
        self.root = root

    def line(self, where: tuple, key: bool = False) -> int:
        """Line of the node at ``where``; of its mapping key if ``key``.

        A path that does not exist (a missing key) gives the line of the
        deepest node that does.
        """
        node, key_node = self.root, None
        for step in where:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                        node, key_node = v, k
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                    and 0 <= step < len(node.value):
                node, key_node = node.value[step], None
            else:
                break
        target = key_node if key and key_node is not None else node
        return target.start_mark.line + 1

    def key_line(self, where: tuple, name: Any) -> int:
        """Line of the key ``name`` inside the mapping at ``where``."""
        return self.line(tuple(where) + (name,), key=True)


def _check_duplicate_keys(path: str, root: yaml.Node) -> None:
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[tuple, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    ident = (k.tag, k.value)
                    if ident in first:
                        raise InstrumentError(
                            path, k.start_mark.line + 1,
                            f"duplicate key {k.value!r} (first defined on line {first[ident]})")
                    first[ident] = k.start_mark.line + 1
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _jsonable(obj: Any) -> Any:
    """Mapping keys as strings, as JSON Schema expects (anchor keys are ints)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj


@lru_cache(maxsize=1)
def _schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@lru_cache(maxsize=1)
def condition_validator() -> Draft202012Validator:
    """The schema's ``condition`` definition alone (the loader's own shape check of a
    ``show_if``), for conditions made outside a file, e.g. in the survey builder."""
    schema = _schema_validator().schema
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/condition"})


def _where(path: Iterable, data: Any) -> str:
    """``items[3] (SQ04).text.E`` - the item code makes the place findable."""
    out, node = "", data
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("code"), str):
                out += f" ({node['code']})"
        else:
            out += f".{step}" if out else str(step)
            node = node.get(step) if isinstance(node, dict) else None
    return out or "top level"


def _schema_errors(doc: _Located) -> list[InstrumentError]:
    data = _jsonable(doc.data)
    errors: list[InstrumentError] = []
    # A misspelt key shows up twice: as unknown ("titel") and as missing
    # ("title"). Only the first says what to fix, so the second is dropped.
    suggested: set[tuple[tuple, str]] = set()
    missing_errors: list[tuple[tuple, str, InstrumentError]] = []
    for e in _schema_validator().iter_errors(data):
        at = tuple(e.absolute_path)
        where = _where(at, data)
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            allowed = list(e.schema.get("properties", {}))
            for extra in [k for k in e.instance if k not in allowed]:
                hint = difflib.get_close_matches(extra, allowed, n=1)
                if hint:
                    suggested.add((at, hint[0]))
                reason = f"{where}: unknown key {extra!r}"
                reason += f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(allowed)}"
                errors.append(InstrumentError(doc.path, doc.key_line(at, extra), reason))
            continue
        if e.validator == "required":
            missing = e.message.split("'")[1] if "'" in e.message else e.message
            missing_errors.append((at, missing, InstrumentError(
                doc.path, doc.line(at, key=True), f"{where}: missing required key {missing!r}")))
            continue
        if e.validator == "propertyNames":
            errors.append(InstrumentError(
                doc.path, doc.key_line(at, e.instance),
                f"{where}: bad key {e.instance!r}: {_hint(e.validator_value, e.message)}"))
            continue
        if e.validator == "pattern":
            reason = f"{where}: {e.instance!r} is not allowed: {_hint(e.validator_value, e.message)}"
        elif e.validator == "enum":
            reason = f"{where}: {e.instance!r} is not one of {', '.join(map(str, e.validator_value))}"
        else:
            reason = f"{where}: {e.message}"
        errors.append(InstrumentError(doc.path, doc.line(at), reason))
    errors.extend(err for at, name, err in missing_errors if (at, name) not in suggested)
    return errors


def _hint(schema_value: Any, message: str) -> str:
    if isinstance(schema_value, dict):
        schema_value = schema_value.get("pattern")
    return _PATTERN_HINTS.get(schema_value, message)


# --------------------------------------------------------------------------
# Cross-reference checks
# --------------------------------------------------------------------------


class _Checker:
    def __init__(self, doc: _Located):
        self.doc = doc
        self.d = doc.data
        self.errors: list[InstrumentError] = []

    def err(self, where: tuple, reason: str, key: bool = False) -> None:
        self.errors.append(InstrumentError(self.doc.path, self.doc.line(where, key=key), reason))

    def run(self) -> list[InstrumentError]:
        d = self.d
        self.scales = d["scales"]
        self.facets = {f["code"]: f for f in d.get("facets", [])}
        self.dims = {x["code"]: x for x in d["dimensions"]}
        self.check_unique(("facets",), d.get("facets", []), "facet code")
        self.check_unique(("dimensions",), d["dimensions"], "dimension code")
        self.check_scales()
        self.check_facets()
        self.check_kind()
        self.check_placeholders(d, ())
        items = self.items()
        self.check_items(items)
        self.check_dimensions(items)
        self.check_constant_sum(items)
        return self.errors

    def check_unique(self, where: tuple, entries: list[dict], what: str) -> None:
        first: dict[str, int] = {}
        for i, e in enumerate(entries):
            code = e["code"]
            if code in first:
                self.err(where + (i, "code"),
                         f"duplicate {what} {code!r} (first defined on line "
                         f"{self.doc.line(where + (first[code], 'code'))})")
            else:
                first[code] = i

    def check_scales(self) -> None:
        allowed = {"rating": {"min", "max", "anchors", "not_applicable"},
                   "choice": {"options", "not_applicable"},
                   "constant_sum": {"total"},
                   "text": set()}
        for name, s in self.scales.items():
            at = ("scales", name)
            for key in sorted(set(s) - {"type", "instruction"} - allowed[s["type"]]):
                self.err(at + (key,), f"scale {name}: a {s['type']} scale does not take {key!r}", key=True)
            if s["type"] == "rating":
                if s["min"] >= s["max"]:
                    self.err(at + ("max",), f"scale {name}: min ({s['min']}) must be less than max ({s['max']})")
                    continue
                for point in s.get("anchors", {}):
                    if not s["min"] <= int(point) <= s["max"]:
                        self.err(at + ("anchors", point),
                                 f"scale {name}: anchor {point} is outside the scale "
                                 f"{s['min']}..{s['max']}", key=True)
            elif s["type"] == "choice":
                seen: dict[int, int] = {}
                for i, o in enumerate(s["options"]):
                    if o["value"] in seen:
                        self.err(at + ("options", i, "value"),
                                 f"scale {name}: option value {o['value']} is used twice "
                                 f"(first on line {self.doc.line(at + ('options', seen[o['value']], 'value'))})")
                    else:
                        seen[o["value"]] = i

    def check_facets(self) -> None:
        for i, f in enumerate(self.d.get("facets", [])):
            if "scale" in f and f["scale"] not in self.scales:
                self.err(("facets", i, "scale"), self.unknown("scale", f["scale"], self.scales,
                                                             f"facet {f['code']}"))

    def check_kind(self) -> None:
        d, kind = self.d, self.d["kind"]
        if kind == "kano":
            for key in ("template", "features"):
                if key not in d:
                    self.err((), f"a kano instrument needs {key!r}")
            if "items" in d:
                self.err(("items",), "a kano instrument lists 'features', not 'items' "
                                     "(items are generated from template x features)", key=True)
            for code in ("F", "D"):
                if code not in self.facets:
                    self.err(("facets",), f"a kano instrument needs facet {code}", key=True)
            for i, f in enumerate(d.get("facets", [])):
                if f["code"] not in KANO_TEMPLATE_KEYS:
                    self.err(("facets", i, "code"), f"kano facets are F, D and IMP, not {f['code']!r}")
                    continue
                if "scale" not in f:
                    self.err(("facets", i), f"kano facet {f['code']} needs a 'scale'", key=True)
                tkey = KANO_TEMPLATE_KEYS[f["code"]]
                if "template" in d and tkey not in d["template"]:
                    self.err(("template",), f"template needs {tkey!r} wording for facet {f['code']}", key=True)
            for key, text in d.get("template", {}).items():
                for lang in LANGS:
                    if "{feature}" not in text[lang]:
                        self.err(("template", key, lang), f"template.{key}.{lang} must contain {{feature}}")
        else:
            for key in ("template", "features"):
                if key in d:
                    self.err((key,), f"only kano instruments take {key!r}", key=True)
            if not d.get("items"):
                self.err(("items",) if "items" in d else (), "the instrument has no items", key=True)
        if kind == "expectation_perception":
            for code in ("E", "P"):
                if code not in self.facets:
                    self.err(("facets",) if "facets" in d else (),
                             f"an expectation_perception instrument needs facet {code}", key=True)

    def check_placeholders(self, obj: Any, where: tuple) -> None:
        if where == ("source",):
            return
        if isinstance(obj, dict):
            for k, v in obj.items():
                self.check_placeholders(v, where + (k,))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self.check_placeholders(v, where + (i,))
        elif isinstance(obj, str):
            allowed = set(self.d.get("placeholders", []))
            if where[:1] == ("template",):
                allowed.add("feature")
            for name in _PLACEHOLDER.findall(obj):
                if name not in allowed:
                    if name == "firm":
                        reason = "{firm} is used but 'placeholders: [firm]' is not declared"
                    else:
                        reason = f"unknown placeholder {{{name}}}; allowed: " + \
                                 (", ".join("{%s}" % a for a in sorted(allowed)) or "none declared")
                    self.err(where, f"{_where(where, self.d)}: {reason}")
            stray = _PLACEHOLDER.sub("", obj)
            if "{" in stray or "}" in stray:
                self.err(where, f"{_where(where, self.d)}: unbalanced brace in {obj!r}")

    def items(self) -> list[tuple[tuple, dict]]:
        """(node path of the item's code, normalised item), file order."""
        d = self.d
        if d["kind"] == "kano":
            if "template" not in d or "features" not in d:
                return []
            out = []
            for i, f in enumerate(d["features"]):
                if f.get("dimension", d["dimensions"][0]["code"]) not in self.dims:
                    self.err(("features", i, "dimension"),
                             self.unknown("dimension", f["dimension"], self.dims, f"feature {f['code']}"))
                    continue
                out.append((("features", i),
                            _expand_one(f, d.get("facets", []), d["template"], d["dimensions"])))
            return out
        return [(("items", i), _normalise_item(it, d.get("facets", [])))
                for i, it in enumerate(d.get("items", []))]

    def check_condition(self, at: tuple, it: dict, earlier: list[dict]) -> None:
        """``show_if`` names a column of an item defined before this one, with values it can take."""
        columns = {}
        for item in earlier:
            for fc in item["facets"] or [None]:
                columns[f"{item['code']}_{fc}" if fc else item["code"]] = \
                    self.scales.get(item["scale"], {})
        problem = condition_problem(it["show_if"], f"item {it['code']}", columns,
                                    "an item before it in this file")
        if problem is not None:
            key, reason = problem
            self.err(at + ("show_if",) + ((key,) if key else ()), reason)

    def check_items(self, items: list[tuple[tuple, dict]]) -> None:
        first: dict[str, tuple] = {}
        earlier: list[dict] = []
        for at, it in items:
            earlier.append(it)
            code = it["code"]
            label = f"item {code}"
            if code in first:
                self.err(at + ("code",), f"duplicate item code {code!r} (first defined on line "
                                         f"{self.doc.line(first[code] + ('code',))})")
            else:
                first[code] = at
            if self.d["kind"] == "kano":
                continue  # generated from template and facets, checked there
            if it["dimension"] not in self.dims:
                self.err(at + ("dimension",), self.unknown("dimension", it["dimension"], self.dims, label))
            if it["scale"] not in self.scales:
                self.err(at + ("scale",), self.unknown("scale", it["scale"], self.scales, label))
                continue
            stype = self.scales[it["scale"]]["type"]
            for fc in it["facets"]:
                if fc not in self.facets:
                    self.err(at + ("facets",), self.unknown("facet", fc, self.facets, label))
            self.check_item_text(at, it)
            if it["weight_of"] is not None and it["weight_of"] not in self.dims:
                self.err(at + ("weight_of",), self.unknown("dimension", it["weight_of"], self.dims,
                                                           f"{label}: weight_of"))
            if it["reverse"] and stype != "rating":
                self.err(at + ("reverse",), f"{label}: only rating items can be reverse-scored, "
                                            f"scale {it['scale']} is {stype}")
            if it.get("show_if") is not None:
                self.check_condition(at, it, earlier[:-1])
            if it["segment"] and stype != "choice":
                self.err(at + ("segment",), f"{label}: segment items need a choice scale, "
                                            f"scale {it['scale']} is {stype}")
            if self.d["kind"] == "profile" and not it["segment"]:
                self.err(at + ("code",), f"{label}: profile items must have 'segment: true'")
            for fc in it["facets"]:
                fscale = self.facets.get(fc, {}).get("scale")
                if fscale is not None and fscale != it["scale"]:
                    self.err(at + ("scale",), f"{label}: scale {it['scale']} conflicts with "
                                              f"scale {fscale} of facet {fc}")

    def check_item_text(self, at: tuple, it: dict) -> None:
        text, label = it["text"], f"item {it['code']}"
        expected = it["facets"]
        if expected:
            missing = [fc for fc in expected if fc not in text]
            extra = [k for k in text if k not in expected]
            if missing:
                self.err(at + ("text",), f"{label}: missing text for facet(s) {', '.join(missing)} "
                                         f"(the item is asked as {', '.join(expected)})", key=True)
            for k in extra:
                self.err(at + ("text", k), f"{label}: text {k!r} is not one of its facets "
                                           f"({', '.join(expected)}); use 'facets: []' for an "
                                           f"item asked once", key=True)
            for fc in expected:
                if fc in text:
                    self.check_lang_text(at + ("text", fc), text[fc], f"{label} facet {fc}")
        else:
            facet_keys = [k for k in text if k not in LANGS]
            if facet_keys:
                self.err(at + ("text", facet_keys[0]),
                         f"{label}: has no facets, so its text is {{zh, en}}, not {facet_keys[0]!r}",
                         key=True)
                return
            self.check_lang_text(at + ("text",), text, label)

    def check_lang_text(self, at: tuple, text: Any, label: str) -> None:
        if not isinstance(text, dict):
            self.err(at, f"{label}: text must be {{zh: ..., en: ...}}")
            return
        for lang in LANGS:
            if lang not in text:
                self.err(at, f"{label}: missing {lang} text", key=True)
            elif not isinstance(text[lang], str) or not text[lang].strip():
                self.err(at + (lang,), f"{label}: {lang} text must be a non-empty string")
        for k in text:
            if k not in LANGS:
                self.err(at + (k,), f"{label}: unknown language {k!r} (zh and en only)", key=True)

    def check_dimensions(self, items: list[tuple[tuple, dict]]) -> None:
        used = {it["dimension"] for _, it in items}
        parents = {x.get("parent") for x in self.d["dimensions"]} - {None}
        for i, x in enumerate(self.d["dimensions"]):
            p = x.get("parent")
            if p == x["code"]:
                self.err(("dimensions", i, "parent"), f"dimension {p}: cannot be its own parent")
            elif p is not None and p not in self.dims:
                self.err(("dimensions", i, "parent"),
                         self.unknown("dimension", p, {k: 1 for k in self.dims if k != x["code"]},
                                      f"dimension {x['code']}: parent"))
            if x["code"] not in used and x["code"] not in parents and items:
                self.err(("dimensions", i, "code"),
                         f"dimension {x['code']!r} has no items and is no other dimension's parent")

    def check_constant_sum(self, items: list[tuple[tuple, dict]]) -> None:
        by_scale: dict[str, list[tuple]] = {}
        for at, it in items:
            s = self.scales.get(it["scale"]) if it["scale"] else None
            if s and s["type"] == "constant_sum":
                by_scale.setdefault(it["scale"], []).append(at)
        for name, s in self.scales.items():
            if s["type"] == "constant_sum" and len(by_scale.get(name, [])) == 1:
                self.err(by_scale[name][0] + ("scale",),
                         f"constant_sum scale {name}: only one item shares the {s['total']} points; "
                         f"an allocation needs at least two")

    @staticmethod
    def unknown(what: str, name: str, known: dict, label: str) -> str:
        hint = difflib.get_close_matches(str(name), list(known), n=1)
        msg = f"{label}: unknown {what} {name!r}"
        return msg + (f" (did you mean {hint[0]!r}?)" if hint
                      else f"; defined: {', '.join(known) or 'none'}")


def _normalise_item(it: dict, facets: list[dict]) -> dict:
    return {
        "code": it["code"],
        "dimension": it["dimension"],
        "scale": it["scale"],
        "text": copy.deepcopy(it["text"]),
        "facets": list(it["facets"]) if "facets" in it else [f["code"] for f in facets],
        "reverse": bool(it.get("reverse", False)),
        "required": bool(it.get("required", True)),
        "segment": bool(it.get("segment", False)),
        "weight_of": it.get("weight_of"),
        "show_if": copy.deepcopy(it.get("show_if")),
    }


def _expand_one(feature: dict, facets: list[dict], template: dict, dimensions: list[dict]) -> dict:
    text = {}
    for f in facets:
        wording = template.get(KANO_TEMPLATE_KEYS.get(f["code"], ""))
        if wording is None:
            continue
        text[f["code"]] = {lang: wording[lang].replace("{feature}", feature["feature"][lang])
                           for lang in LANGS}
    return {
        "code": feature["code"],
        "dimension": feature.get("dimension", dimensions[0]["code"]),
        "scale": None,
        "text": text,
        "facets": [f["code"] for f in facets if f["code"] in text],
        "reverse": False,
        "required": True,
        "segment": False,
        "weight_of": None,
    }


def _expand_kano(inst: Instrument, features: list[dict]) -> list[dict]:
    return [_expand_one(f, inst.facets, inst.template or {}, inst.dimensions) for f in features]


_FEATURE_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")


def _check_features(features: list[dict], inst: Instrument) -> list[dict]:
    """Validate a feature list that did not come from a file."""
    where = "<features>"
    if not isinstance(features, list) or not features:
        raise InstrumentError(where, 0, "the feature list must be a non-empty list")
    dims = {d["code"] for d in inst.dimensions}
    seen: set[str] = set()
    out = []
    for n, f in enumerate(features, start=1):
        if not isinstance(f, dict):
            raise InstrumentError(where, n, "each feature is {code, feature: {zh, en}}")
        unknown = set(f) - {"code", "feature", "dimension"}
        if unknown:
            raise InstrumentError(where, n, f"unknown key(s) {', '.join(sorted(unknown))}")
        code = f.get("code")
        if not isinstance(code, str) or not _FEATURE_CODE.match(code):
            raise InstrumentError(where, n, f"feature code {code!r} is not allowed: "
                                            f"{_PATTERN_HINTS['^[A-Z][A-Z0-9_]{1,19}$']}")
        if code in seen:
            raise InstrumentError(where, n, f"duplicate feature code {code!r}")
        seen.add(code)
        text = f.get("feature")
        if not isinstance(text, dict):
            raise InstrumentError(where, n, f"feature {code}: 'feature' must be {{zh, en}}")
        for lang in LANGS:
            if not isinstance(text.get(lang), str) or not text[lang].strip():
                raise InstrumentError(where, n, f"feature {code}: missing {lang} text")
        extra_lang = set(text) - set(LANGS)
        if extra_lang:
            raise InstrumentError(where, n, f"feature {code}: unknown language(s) {sorted(extra_lang)}")
        for lang in LANGS:
            for name in _PLACEHOLDER.findall(text[lang]):
                if name not in inst.placeholders:
                    raise InstrumentError(where, n, f"feature {code}: unknown placeholder {{{name}}}")
        dim = f.get("dimension", inst.dimensions[0]["code"])
        if dim not in dims:
            raise InstrumentError(where, n, f"feature {code}: unknown dimension {dim!r}")
        item = {"code": code, "feature": {lang: text[lang] for lang in LANGS}}
        if "dimension" in f:
            item["dimension"] = dim
        out.append(item)
    return out


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _check_file(path: str | Path) -> tuple[Instrument | None, list[InstrumentError]]:
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        return None, [InstrumentError(shown, 0, f"cannot read the file: {e.strerror or e}")]
    except UnicodeDecodeError as e:
        return None, [InstrumentError(shown, 1, f"the file is not UTF-8: {e.reason}")]
    try:
        doc = _Located(shown, text)
    except InstrumentError as e:
        return None, [e]
    errors = _schema_errors(doc)
    if not errors:
        errors = _Checker(doc).run()
    if errors:
        return None, sorted(errors, key=lambda e: e.line)
    return _build(doc), []


def _build(doc: _Located) -> Instrument:
    d = doc.data
    facets = copy.deepcopy(d.get("facets", []))
    template = copy.deepcopy(d.get("template")) if "template" in d else None
    features = copy.deepcopy(d.get("features", []))
    if d["kind"] == "kano":
        items = [_expand_one(f, facets, template, d["dimensions"]) for f in features]
        lines = {f["code"]: doc.line(("features", i, "code")) for i, f in enumerate(features)}
    else:
        items = [_normalise_item(it, facets) for it in d["items"]]
        lines = {it["code"]: doc.line(("items", i, "code")) for i, it in enumerate(d["items"])}
    return Instrument(
        id=d["id"], version=d["version"], title=copy.deepcopy(d["title"]),
        description=copy.deepcopy(d.get("description", {})), source=copy.deepcopy(d["source"]),
        kind=d["kind"], scales=copy.deepcopy(d["scales"]), facets=facets,
        dimensions=[{"parent": None, **x} for x in copy.deepcopy(d["dimensions"])],
        items=items, template=template, features=features, path=doc.path,
        placeholders=list(d.get("placeholders", [])), document=_jsonable(d),
        item_lines=lines,
    )


def load_instrument(path: str | Path) -> Instrument:
    """Load and validate one file; the first problem (by line) is raised."""
    inst, errors = _check_file(path)
    if errors:
        raise errors[0]
    return inst


def _check_set(paths: Iterable[str | Path]) -> tuple[dict[str, Instrument], list[InstrumentError]]:
    """Check files one by one, then ids and item codes across them."""
    instruments: dict[str, Instrument] = {}
    errors: list[InstrumentError] = []
    owner: dict[str, Instrument] = {}
    for p in paths:
        inst, errs = _check_file(p)
        errors.extend(errs)
        if inst is None:
            continue
        if inst.id in instruments:
            other = instruments[inst.id]
            errors.append(InstrumentError(inst.path, _id_line(inst),
                                          f"instrument id {inst.id!r} is already used by {other.path}"))
            continue
        clash = False
        for code in inst.item_codes:
            if code in owner:
                errors.append(InstrumentError(
                    inst.path, inst.item_lines.get(code, 0),
                    f"item code {code!r} is already used by {owner[code].id} "
                    f"({owner[code].path}:{owner[code].item_lines.get(code, 0)}); "
                    f"item codes must be unique across instruments"))
                clash = True
        if clash:
            continue
        for code in inst.item_codes:
            owner[code] = inst
        instruments[inst.id] = inst
    return instruments, errors


def _id_line(inst: Instrument) -> int:
    try:
        return _Located(inst.path, Path(inst.path).read_text(encoding="utf-8")).line(("id",))
    except (OSError, InstrumentError):
        return 0


def _instrument_files(directory: str | Path) -> list[Path]:
    directory = Path(directory)
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_instruments(directory: str | Path = DEFAULT_DIR) -> dict[str, Instrument]:
    """All instruments of a directory by id; ids and item codes must be
    unique across files. The first problem found is raised."""
    instruments, errors = _check_set(_instrument_files(directory))
    if errors:
        raise errors[0]
    return instruments


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

_USAGE = "usage: python -m analysis.instruments validate [FILE.yaml ...]"


def _shown(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def main(argv: list[str] | None = None) -> int:
    """``validate [files]``: check files (default: every file in
    ``instruments/``), print ``file:line: reason`` per problem; exit 1 on
    problems, 2 on bad usage."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if argv else 2
    if argv[0] != "validate":
        print(_USAGE, file=sys.stderr)
        return 2
    files = [Path(a) for a in argv[1:]] or _instrument_files(DEFAULT_DIR)
    instruments, errors = _check_set(_shown(p) for p in files)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"{len(errors)} problem(s) found", file=sys.stderr)
        return 1
    n_items = sum(len(i.items) for i in instruments.values())
    print(f"OK: {len(instruments)} instrument(s), {n_items} item(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
