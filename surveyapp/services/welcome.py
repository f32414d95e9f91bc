"""The survey's welcome page: purpose, privacy text and how long the questionnaire takes.

The time estimate is computed from the items, with per-answer times taken
from survey-methodology rules of thumb:

* Pew Research Center budgets its online panel surveys in "points": an
  ordinary stand-alone question is about 10 seconds, and 85 points make a
  15-minute survey (about 10.6 s a point). Pew Research Center (2022), "How
  we keep our online surveys from running too long", Decoded blog,
  https://www.pewresearch.org/decoded/2022/12/08/how-we-keep-our-online-surveys-from-running-too-long/
* Items of a battery sharing one answer scale (a grid of short statements
  rated on the same 5- or 7-point scale) go at "10 or more questions a
  minute", i.e. at most 6 s each. Amplitude Research, "Online market research
  survey length", http://www.amplituderesearch.com/online-market-research-article.shtml

So: a rating item (a battery row) counts :data:`SECONDS_PER_RATING` = 6 s;
a choice question (profile, KANO answer list) and a number of an allocation
count :data:`SECONDS_PER_QUESTION` = 10 s; the optional comment and contact
page counts :data:`SECONDS_FINAL_PAGE` = 30 s (a short open question, half a
minute for those who write one). The estimate is rounded up to whole minutes.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from analysis.instruments import Variable

SECONDS_PER_RATING = 6
SECONDS_PER_QUESTION = 10
SECONDS_FINAL_PAGE = 30
WELCOME_TEXT_MAX = 2000
WELCOME_FIELDS = ("purpose", "privacy")


def estimated_seconds(variables: Iterable[Variable]) -> int:
    """Seconds a respondent needs for ``variables`` plus the closing page (see the module docstring).

    Examples
    --------
    >>> from types import SimpleNamespace as Var
    >>> estimated_seconds([Var(scale={"type": "rating"})] * 10 + [Var(scale={"type": "choice"})])
    100
    """
    total = SECONDS_FINAL_PAGE
    for variable in variables:
        total += SECONDS_PER_RATING if variable.scale.get("type") == "rating" \
            else SECONDS_PER_QUESTION
    return total


def estimated_minutes(variables: Iterable[Variable]) -> int:
    """:func:`estimated_seconds` rounded up to whole minutes (at least 1).

    Examples
    --------
    >>> from types import SimpleNamespace as Var
    >>> estimated_minutes([Var(scale={"type": "rating"})] * 22)
    3
    """
    return max(1, math.ceil(estimated_seconds(variables) / 60))


def welcome_texts(design: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The researcher's ``{purpose: {zh, en}, privacy: {zh, en}}`` (blank ones left out)."""
    stored = design.get("welcome") or {}
    texts: dict[str, dict[str, str]] = {}
    for name in WELCOME_FIELDS:
        entry = stored.get(name) or {}
        kept = {lang: text.strip() for lang, text in entry.items()
                if isinstance(text, str) and text.strip()}
        if kept:
            texts[name] = kept
    return texts


def welcome_problems(welcome: Any) -> str | None:
    """Why a design's ``welcome`` entry is not valid, or None."""
    if welcome is None:
        return None
    if not isinstance(welcome, dict) or set(welcome) - set(WELCOME_FIELDS):
        return f"welcome has the texts {', '.join(WELCOME_FIELDS)}"
    for name, entry in welcome.items():
        if not isinstance(entry, dict) or not all(isinstance(t, str) for t in entry.values()):
            return f"welcome {name} is {{zh, en}} text"
        if any(len(text) > WELCOME_TEXT_MAX for text in entry.values()):
            return f"welcome {name} has at most {WELCOME_TEXT_MAX} characters"
    return None
