"""Trend charts: a respondent score's mean per period, on a date axis with readable ticks."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _

from analysis.report import SurveyAnalysis

from .common import BAD, GOOD, Chart, Labels, guide, hover, interval, score_names, score_reference

DAY_MS = 24 * 3600 * 1000
#: At most this many ticks on a trend axis: short horizontal labels fit a phone's width.
MAX_TICKS = 6
#: Tick steps tried, shortest first: plotly ``dtick``, its length in days, tick format (en, zh).
TICK_STEPS: list[tuple[Any, float, str, str]] = [
    (DAY_MS, 1, "%b %-d", "%-m月%-d日"),
    (7 * DAY_MS, 7, "%b %-d", "%-m月%-d日"),
    (14 * DAY_MS, 14, "%b %-d", "%-m月%-d日"),
    ("M1", 30.44, "%b %Y", "%Y年%-m月"),
    ("M2", 60.88, "%b %Y", "%Y年%-m月"),
    ("M3", 91.31, "%b %Y", "%Y年%-m月"),
    ("M6", 182.62, "%b %Y", "%Y年%-m月"),
    ("M12", 365.25, "%Y", "%Y年"),
    ("M24", 730.5, "%Y", "%Y年"),
    ("M60", 1826.25, "%Y", "%Y年"),
]


def date_axis(first: date, last: date, lang: str = "en", anchor: date | None = None) -> dict[str, Any]:
    """A plotly date axis from ``first`` to ``last``: the shortest step of :data:`TICK_STEPS` that
    gives at most :data:`MAX_TICKS` ticks, labels upright, days / weeks / months / years.
    Ticks fall on ``anchor`` (default ``first``) and every step from it; month steps on
    the first of ``anchor``'s month.

    Examples
    --------
    >>> axis = date_axis(date(2026, 1, 5), date(2026, 2, 20))
    >>> axis["dtick"] == 14 * DAY_MS, axis["tickformat"], axis["tick0"]
    (True, '%b %-d', '2026-01-05')
    >>> axis = date_axis(date(2025, 3, 1), date(2026, 2, 28), "zh")
    >>> axis["dtick"], axis["tickformat"], axis["tick0"]
    ('M3', '%Y年%-m月', '2025-03-01')
    """
    if last < first:
        raise ValueError(f"the axis ends ({last}) before it starts ({first})")
    span = (last - first).days
    dtick, _days, en, zh = next((step for step in TICK_STEPS if span / step[1] <= MAX_TICKS - 1),
                                TICK_STEPS[-1])
    # Month steps count from the first of a month; day and week steps from the first day shown.
    anchor = anchor or first
    tick0 = anchor.replace(day=1) if isinstance(dtick, str) else anchor
    return {"type": "date", "range": [first.isoformat(), last.isoformat()], "dtick": dtick,
            "tick0": tick0.isoformat(), "tickformat": zh if lang == "zh" else en, "tickangle": 0,
            "ticks": "outside"}


def _period_label(period: pd.Period) -> str:
    """"2026-09-07 – 2026-09-13" for a week, "2026-09" for a month, "2026Q3" for a quarter."""
    if period.freqstr.startswith("W"):
        return f"{period.start_time:%Y-%m-%d} – {period.end_time:%Y-%m-%d}"
    return str(period)


def trend(analysis: SurveyAnalysis, labels: Labels, score: str) -> Chart:
    names = score_names()
    chart = Chart(f"trend_{score}", _("Trend: %(score)s per period", score=names.get(score, score)),
                  _("Mean per period with 95 percent confidence interval; dashed line: expectations met."))
    if analysis.trends is None:
        return chart.skip(analysis, "trends")
    table = analysis.trends[analysis.trends["score"] == score]
    if table.empty:
        return chart.skip(analysis)
    periods = list(table["period"])
    # Each period is drawn at its first day; the axis runs half a period beyond the first and last.
    starts = [p.start_time.date() for p in periods]
    half = (periods[0].end_time - periods[0].start_time + pd.Timedelta(days=1)) / 2
    pad = timedelta(days=max(1, round(half / pd.Timedelta(days=1))))
    period_labels = [_period_label(p) for p in periods]
    figure = go.Figure(go.Scatter(
        x=[s.isoformat() for s in starts], y=table["mean"], mode="lines+markers", line={"color": GOOD},
        error_y=interval(table["mean"], table["ci_low"], table["ci_high"], colour="#999"),
        customdata=list(zip(period_labels, table["n"])),
        hovertemplate=hover("%{customdata[0]}: %{y:.3f}, n=%{customdata[1]}")))
    guide(figure, y=score_reference(score), colour=BAD)
    return chart.rests_on(analysis.trends).draw(
        figure, table.assign(period=[str(p) for p in periods]), height=300,
        yaxis_title=names.get(score, score),
        xaxis=date_axis(starts[0] - pad, starts[-1] + pad, labels.lang, anchor=starts[0]))
