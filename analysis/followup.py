"""The service-recovery follow-up list: unhappy customers who agreed to be contacted."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .common import Methods


@dataclass(frozen=True)
class FollowUpThresholds:
    """When a customer needs a call back; any one criterion is enough.

    ratio_below : respondent satisfaction ratio P/E (seed 004) below this.
    gap_below : respondent's unweighted SERVQUAL gap (mean over dimensions of P - E) below this.
    negative_emotion_at_least : mean negative-emotion intensity at or above this.
    """

    ratio_below: float | None = 0.8
    gap_below: float | None = -1.5
    negative_emotion_at_least: float | None = 5.0


def follow_up_list(frame: pd.DataFrame, thresholds: FollowUpThresholds, *,
                   ratio: pd.Series | None = None, gap: pd.Series | None = None,
                   negative_emotion: pd.Series | None = None,
                   id_col: str = "response_id", consent_col: str = "contact_ok") -> pd.DataFrame:
    """Respondents who agreed to be contacted and cross a threshold, worst first.

    Service recovery works on individuals (Tax & Brown 1998, "Recovering and
    learning from service failure", Sloan Management Review 40(1)): the list
    names each customer whose own satisfaction ratio, SERVQUAL gap or
    negative emotion crosses the manager's threshold, with every reason.
    Only respondents with ``consent_col`` true are listed; contact details
    are joined by the caller, which knows who may see them.

    Parameters
    ----------
    frame : DataFrame with ``id_col`` and ``consent_col``.
    thresholds : FollowUpThresholds
    ratio, gap, negative_emotion : Series indexed by response id
        Per-respondent scores (e.g. ``SatisfactionResult.respondents``'s
        ``ratio``, ``ServqualResult.respondents``'s ``unweighted``, the
        negative-emotion construct score). A missing series or threshold
        is not a criterion.

    Returns
    -------
    DataFrame: response_id, ratio, gap, negative_emotion, reasons (text),
    n_reasons; sorted by n_reasons then ratio (lowest first).
    """
    if id_col not in frame or consent_col not in frame:
        raise ValueError(f"the frame needs {id_col!r} and {consent_col!r} columns")
    consenting = frame.loc[frame[consent_col].astype(bool), id_col]
    table = pd.DataFrame({id_col: consenting.to_numpy()})
    criteria = [("ratio", ratio, thresholds.ratio_below, "below",
                 "satisfaction ratio P/E {value:.2f} < {limit:g}"),
                ("gap", gap, thresholds.gap_below, "below", "SERVQUAL gap {value:.2f} < {limit:g}"),
                ("negative_emotion", negative_emotion, thresholds.negative_emotion_at_least,
                 "at_least", "negative emotion {value:.1f} >= {limit:g}")]
    reasons = pd.Series([[] for _ in range(len(table))], dtype=object)
    for column, series, limit, direction, template in criteria:
        values = (series.reindex(table[id_col]).to_numpy(dtype=float) if series is not None
                  else np.full(len(table), np.nan))
        table[column] = values
        if series is None or limit is None:
            continue
        hit = values < limit if direction == "below" else values >= limit
        for position in np.flatnonzero(hit & ~np.isnan(values)):
            reasons.iloc[position].append(template.format(value=values[position], limit=limit))
    table["n_reasons"] = reasons.map(len).to_numpy()
    table["reasons"] = reasons.map("; ".join).to_numpy()
    table = table[table["n_reasons"] > 0].sort_values(["n_reasons", "ratio"], ascending=[False, True])
    table = table.reset_index(drop=True)
    table.attrs["methods"] = Methods(
        analysis="follow-up list", n_used=len(consenting),
        missing="a criterion whose score is missing for a respondent does not flag them",
        formula=(f"listed if consented and (ratio < {thresholds.ratio_below} or gap < "
                 f"{thresholds.gap_below} or negative emotion >= "
                 f"{thresholds.negative_emotion_at_least})"),
        reference="Tax & Brown (1998) Sloan Management Review 40(1)")
    return table
