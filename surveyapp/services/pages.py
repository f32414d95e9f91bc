"""Splitting a frozen survey version into the pages a respondent goes through.

A long questionnaire on a phone is where respondents give up, so questions
come in pages of a few screens each, grouped the way the instruments think:

* profile (segment) questions: one page;
* SERVQUAL-style expectation/perception instruments, as the researcher chose
  in ``servqual_layout``: ``blocks`` asks every expectation (E) item by
  dimension, then every perception (P) item; ``side_by_side`` asks E and P of
  one item together. Either way dimensions are packed into pages of at most
  :data:`ANSWERS_PER_PAGE` answers. A small instrument (the overall E/P pair)
  fits on one page as it is;
* the importance allocation (constant-sum items): a page of its own, since
  its numbers have to add up together;
* KANO: one page, each feature's functional, dysfunctional (and importance)
  questions together;
* other rating instruments (relationship quality, emotions): dimensions
  packed into pages of at most :data:`ANSWERS_PER_PAGE` answers;
* a closing page for the optional comment and consent to be contacted.

The split depends only on the version's frozen codebook and design, so a
page number saved with a partial response means the same page on resume.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import groupby
from typing import Sequence

from analysis.instruments import Codebook, Variable

from ..models import SurveyVersion
from .responses import codebook_of
from .surveys import SERVQUAL_LAYOUTS, instrument_documents
from .version_cache import FrozenList, deep_freeze, per_version, version_design

# About two phone screens of 7-point ratings: long enough to keep the number
# of pages down, short enough that nobody scrolls through a wall of scales.
ANSWERS_PER_PAGE = 9
# E and P of one item side by side count as two answers; five pairs keep a
# five-item SERVQUAL dimension on one page.
PAIRED_ANSWERS_PER_PAGE = 10
FINAL_PAGE_KEY = "final"
# A KANO feature is three questions (functional, dysfunctional, importance):
# three features are about two phone screens at 390 px, like the rating pages.
KANO_FEATURES_PER_PAGE = 3


@dataclass(frozen=True)
class QuestionGroup:
    """Questions shown together: one variable, or all facets of one item (E/P, KANO F/D/IMP)."""

    item: str
    variables: tuple[Variable, ...]

    @property
    def is_paired(self) -> bool:
        return len(self.variables) > 1


@dataclass(frozen=True)
class Section:
    """A heading (usually a dimension) with its instruction and its question groups."""

    heading: dict
    instruction: dict
    groups: tuple[QuestionGroup, ...]
    # (facet label, facet instruction) pairs when several facets share the section (E/P side by side).
    facet_notes: tuple[tuple[dict, dict], ...] = ()

    @property
    def variables(self) -> list[Variable]:
        return [v for group in self.groups for v in group.variables]


@dataclass(frozen=True)
class Page:
    """One screen of the questionnaire.

    ``topic`` says what the page asks, for its title in the respondent's
    language: profile, expectation, perception, pairs (E and P side by side),
    overall (a small E/P instrument on one page), allocation, kano, rating,
    emotions or final. ``layout`` picks the template part: questions,
    allocation, kano or final.
    """

    key: str
    topic: str
    sections: tuple[Section, ...] = ()
    layout: str = "questions"

    @property
    def variables(self) -> list[Variable]:
        return [v for section in self.sections for v in section.variables]

    @property
    def is_final(self) -> bool:
        return self.key == FINAL_PAGE_KEY


def survey_pages(version: SurveyVersion) -> list[Page]:
    """The pages of ``version``, the closing page last (built once per version, read-only)."""
    layout = version_design(version).get("servqual_layout", "blocks")
    if layout not in SERVQUAL_LAYOUTS:
        raise ValueError(f"servqual_layout {layout!r} is not one of {', '.join(SERVQUAL_LAYOUTS)}")
    codebook = codebook_of(version)
    return per_version("pages", version, lambda: _frozen_pages(
        split_codebook(codebook, layout, instrument_labels(codebook))))


def _frozen_pages(pages: list[Page]) -> list[Page]:
    """``pages`` with the dicts of every section read-only (shared between requests)."""
    return FrozenList(
        replace(page, sections=tuple(
            replace(section, heading=deep_freeze(section.heading),
                    instruction=deep_freeze(section.instruction),
                    facet_notes=deep_freeze(section.facet_notes))
            for section in page.sections))
        for page in pages)


def split_codebook(codebook: Codebook, layout: str = "blocks",
                   labels: dict[tuple[str, int], "InstrumentLabels"] | None = None) -> list[Page]:
    """Pages for ``codebook`` (see the module docstring); ``labels`` give titles and headings."""
    labels = labels or {}
    pages: list[Page] = []
    # The codebook keeps the instruments in the design's order, each contiguous.
    for (instrument, version), grouped in groupby(
            codebook, key=lambda v: (v.instrument, v.instrument_version)):
        variables = list(grouped)
        names = labels.get((instrument, version)) or InstrumentLabels.fallback(instrument)
        pages.extend(_instrument_pages(variables, layout, names))
    pages = _split_on_conditions(pages)
    pages.append(Page(key=FINAL_PAGE_KEY, topic="final", layout="final"))
    return pages


def _split_on_conditions(pages: list[Page]) -> list[Page]:
    """A question shown only on an answer of its own page starts a new page.

    Display logic is evaluated on the server when a page is left, so the
    answer a question hangs on must be stored before that question's page
    is built ("which branch" comes after "which channel").
    """
    result: list[Page] = []
    for page in pages:
        parts: list[list[Section]] = [[]]
        names: set[str] = set()
        for section in page.sections:
            groups: list[QuestionGroup] = []
            for group in section.groups:
                depends = any(v.show_if and v.show_if["variable"] in names for v in group.variables)
                if depends:
                    if groups:
                        parts[-1].append(Section(section.heading, section.instruction,
                                                 tuple(groups), section.facet_notes))
                    parts.append([])
                    groups, names = [], set()
                groups.append(group)
                names.update(v.name for v in group.variables)
            if groups:
                parts[-1].append(Section(section.heading, section.instruction, tuple(groups),
                                         section.facet_notes))
        if len(parts) == 1:
            result.append(page)
            continue
        for number, sections in enumerate(parts, start=1):
            key = page.key if number == 1 else f"{page.key}-if{number}"
            result.append(Page(key=key, topic=page.topic, sections=tuple(sections),
                               layout=page.layout))
    return result


def shown_page(page: Page, hidden: set[str]) -> Page:
    """``page`` without the questions in ``hidden`` (not asked: display logic)."""
    if not hidden or page.is_final:
        return page
    sections = []
    for section in page.sections:
        groups = []
        for group in section.groups:
            kept = tuple(v for v in group.variables if v.name not in hidden)
            if kept:
                groups.append(QuestionGroup(group.item, kept))
        if groups:
            sections.append(Section(section.heading, section.instruction, tuple(groups),
                                    section.facet_notes))
    return Page(key=page.key, topic=page.topic, sections=tuple(sections), layout=page.layout)


def next_shown(pages: list[Page], index: int, hidden: set[str], step: int = 1) -> int:
    """The nearest page from ``index`` (inclusive) in direction ``step`` that asks something.

    A page whose every question is hidden is passed over; the closing page
    always counts. Going back past the first page stays on the first shown one.
    """
    position = index
    while 0 <= position < len(pages):
        page = pages[position]
        if page.is_final or any(v.name not in hidden for v in page.variables):
            return position
        position += step
    return next_shown(pages, 0, hidden, 1) if step < 0 else len(pages) - 1


@dataclass(frozen=True)
class InstrumentLabels:
    """An instrument's dimension labels in both languages."""

    dimensions: dict[str, dict]

    @classmethod
    def fallback(cls, instrument: str) -> "InstrumentLabels":
        return cls(dimensions={})

    @classmethod
    def from_document(cls, document: dict) -> "InstrumentLabels":
        return cls(dimensions={d["code"]: d.get("label") or {}
                               for d in document.get("dimensions") or []})

    def dimension(self, code: str) -> dict:
        return self.dimensions.get(code) or {}


def instrument_labels(codebook: Codebook) -> dict[tuple[str, int], InstrumentLabels]:
    """Labels from the instrument versions the codebook was frozen with
    (:func:`~surveyapp.services.surveys.instrument_documents`)."""
    return {key: InstrumentLabels.from_document(document)
            for key, document in instrument_documents(codebook).items()}


def _instrument_pages(variables: list[Variable], layout: str,
                      labels: InstrumentLabels) -> list[Page]:
    instrument = variables[0].instrument
    kind = variables[0].kind
    allocation = [v for v in variables if v.scale.get("type") == "constant_sum"]
    asked = [v for v in variables if v.scale.get("type") != "constant_sum"]
    # Dimension headings help only where an instrument has several dimensions.
    if len({v.dimension for v in asked}) < 2:
        labels = InstrumentLabels.fallback(instrument)
    pages: list[Page] = []
    if kind == "kano":
        pages.extend(_kano_pages(instrument, _sections(asked, labels, by_item=True)))
    elif asked:
        faceted = [v for v in asked if v.facet is not None]
        if kind == "expectation_perception" and faceted:
            if len(asked) > ANSWERS_PER_PAGE:
                pages.extend(_expectation_perception_pages(asked, layout, labels))
            else:
                pages.extend(_packed_pages(instrument, "overall",
                                           _sections(asked, labels, by_item=False)))
        else:
            topic = kind if kind in ("profile", "emotions") else "rating"
            pages.extend(_packed_pages(instrument, topic, _sections(asked, labels, by_item=False)))
    if allocation:
        section = Section(heading={}, instruction=_scale_instruction(allocation),
                          groups=tuple(QuestionGroup(v.item, (v,)) for v in allocation))
        pages.append(Page(key=f"{instrument}-allocation", topic="allocation",
                          sections=(section,), layout="allocation"))
    return pages


def _kano_pages(instrument: str, sections: list[Section]) -> list[Page]:
    """KANO features in pages of at most :data:`KANO_FEATURES_PER_PAGE`, each feature whole.

    Each dimension's features are split as evenly as possible (10 features:
    3, 3, 2, 2), so no page is left with a single feature.
    """
    pages: list[Page] = []
    for section in sections:
        start = 0
        for length in balanced_partition([1] * len(section.groups), KANO_FEATURES_PER_PAGE):
            piece = Section(section.heading, section.instruction,
                            section.groups[start:start + length], section.facet_notes)
            start += length
            pages.append(Page(key=f"{instrument}-{len(pages) + 1}", topic="kano",
                              sections=(piece,), layout="kano"))
    return pages


def _expectation_perception_pages(variables: list[Variable], layout: str,
                                  labels: InstrumentLabels) -> list[Page]:
    instrument = variables[0].instrument
    unpaired = [v for v in variables if v.facet is None]
    paired = [v for v in variables if v.facet is not None]
    pages: list[Page] = []
    if layout == "side_by_side":
        sections = _sections(paired, labels, by_item=True, facet_notes=True)
        pages.extend(_packed_pages(f"{instrument}-pairs", "pairs", sections,
                                   PAIRED_ANSWERS_PER_PAGE))
    else:
        for facet in dict.fromkeys(v.facet for v in paired):
            block = [v for v in paired if v.facet == facet]
            topic = {"E": "expectation", "P": "perception"}.get(facet, "rating")
            pages.extend(_packed_pages(f"{instrument}-{facet}", topic,
                                       _sections(block, labels, by_item=False)))
    if unpaired:
        pages.extend(_packed_pages(f"{instrument}-more", "rating",
                                   _sections(unpaired, labels, by_item=False)))
    return pages


def _sections(variables: list[Variable], labels: InstrumentLabels, *,
              by_item: bool, facet_notes: bool = False) -> list[Section]:
    """One section per dimension (in codebook order); groups per item or per variable."""
    sections = []
    for dimension, members in groupby(variables, key=lambda v: v.dimension):
        members = list(members)
        notes: tuple[tuple[dict, dict], ...] = ()
        if by_item:
            groups = [QuestionGroup(item, tuple(facets)) for item, facets in _by_item(members)]
            instruction = _scale_instruction(members)
            if facet_notes:
                first_of_facet = {}
                for variable in members:
                    first_of_facet.setdefault(variable.facet, variable)
                notes = tuple((v.label, v.instruction) for v in first_of_facet.values()
                              if v.instruction)
        else:
            groups = [QuestionGroup(v.item, (v,)) for v in members]
            instruction = members[0].instruction or _scale_instruction(members)
        sections.append(Section(heading=labels.dimension(dimension), instruction=instruction,
                                groups=tuple(groups), facet_notes=notes))
    return sections


def _by_item(variables: list[Variable]) -> list[tuple[str, list[Variable]]]:
    order: dict[str, list[Variable]] = {}
    for variable in variables:
        order.setdefault(variable.item, []).append(variable)
    return list(order.items())


def _scale_instruction(variables: Sequence[Variable]) -> dict:
    return variables[0].scale.get("instruction") or {}


def _once_per_page(sections: list[Section]) -> list[Section]:
    """Show an instruction once where consecutive sections of a page share it.

    Every page starts with the instruction in force, so a resumed page reads
    well on its own.
    """
    shown: list[Section] = []
    previous: tuple = ()
    for section in sections:
        current = (section.instruction, section.facet_notes)
        if current == previous:
            shown.append(Section(section.heading, {}, section.groups))
        else:
            shown.append(section)
        previous = current
    return shown


def _answers(section: Section) -> int:
    return len(section.variables)


def _packed_pages(key: str, topic: str, sections: list[Section],
                  capacity: int = ANSWERS_PER_PAGE) -> list[Page]:
    """Consecutive sections packed into as few pages as fit, as evenly as possible.

    A section larger than a page is split into page-sized runs of groups.
    """
    pieces: list[Section] = []
    for section in sections:
        pieces.extend(_split_section(section, capacity))
    runs = balanced_partition([_answers(s) for s in pieces], capacity)
    pages = []
    start = 0
    for number, length in enumerate(runs, start=1):
        chunk = pieces[start:start + length]
        start += length
        pages.append(Page(key=f"{key}-{number}", topic=topic,
                          sections=tuple(_once_per_page(chunk))))
    return pages


def _split_section(section: Section, capacity: int) -> list[Section]:
    if _answers(section) <= capacity:
        return [section]
    pieces, groups, size = [], [], 0
    for group in section.groups:
        if groups and size + len(group.variables) > capacity:
            pieces.append(Section(section.heading, section.instruction, tuple(groups),
                                  section.facet_notes))
            groups, size = [], 0
        groups.append(group)
        size += len(group.variables)
    if groups:
        pieces.append(Section(section.heading, section.instruction, tuple(groups),
                              section.facet_notes))
    return pieces


def balanced_partition(sizes: Sequence[int], capacity: int) -> list[int]:
    """Run lengths splitting ``sizes`` into consecutive pages of at most ``capacity``.

    Fewest pages first, then the most even page loads (least sum of squared
    loads); a single size above ``capacity`` gets a page of its own. Dynamic
    programming over prefixes, fine for the few dozen sections of a survey.
    """
    count = len(sizes)
    if count == 0:
        return []
    infinity = (float("inf"), float("inf"))
    best: list[tuple[float, float]] = [infinity] * (count + 1)
    cut: list[int] = [0] * (count + 1)
    best[0] = (0, 0)
    for end in range(1, count + 1):
        load = 0
        for start in range(end - 1, -1, -1):
            load += sizes[start]
            if load > capacity and start != end - 1:
                break
            candidate = (best[start][0] + 1, best[start][1] + load * load)
            if candidate < best[end]:
                best[end], cut[end] = candidate, start
    runs = []
    end = count
    while end > 0:
        runs.append(end - cut[end])
        end = cut[end]
    return runs[::-1]


