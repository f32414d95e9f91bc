"""KANO feature classification: evaluation table, category counts, Fong's
test, Berger's better/worse coefficients and the continuous (scored)
analysis.

Answers are the option values of the ``kano5`` scale (``instruments/kano.yaml``):
1 like, 2 must-be (expect it), 3 neutral, 4 live with, 5 dislike. A feature
``K01`` is stored in the columns ``K01_F`` (functional question: the feature
is present), ``K01_D`` (dysfunctional: it is absent) and optionally
``K01_IMP`` (self-stated importance).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .common import Methods, require_n

__all__ = [
    "ANSWERS",
    "CATEGORIES",
    "CATEGORY_NAMES",
    "CATEGORY_PRIORITY",
    "EVALUATION_TABLE",
    "FUNCTIONAL_SCORES",
    "DYSFUNCTIONAL_SCORES",
    "kano_features",
    "kano_category",
    "kano_counts",
    "kano_classify_counts",
    "kano_summary",
    "kano_continuous",
    "kano_questionable_counts",
    "kano_questionable_shares",
]

#: Answer codes of the kano5 scale, in option order.
ANSWERS: tuple[str, ...] = ("like", "must-be", "neutral", "live-with", "dislike")

#: A attractive, O one-dimensional, M must-be, I indifferent, R reverse,
#: Q questionable (contradictory answer pair).
CATEGORIES: tuple[str, ...] = ("A", "O", "M", "I", "R", "Q")

CATEGORY_NAMES: dict[str, str] = {
    "A": "attractive", "O": "one-dimensional", "M": "must-be",
    "I": "indifferent", "R": "reverse", "Q": "questionable",
}

#: Order used when categories are (nearly) equally frequent: the category
#: with the larger consequence for the product wins, M > O > A > I
#: (Matzler, Hinterhuber, Bailom & Sauerwein 1996, Journal of Product & Brand
#: Management 5(2), 6-18; Berger et al. 1993). R follows, Q never wins.
CATEGORY_PRIORITY: tuple[str, ...] = ("M", "O", "A", "I", "R")

# Kano evaluation table: row = functional answer, column = dysfunctional
# answer, both in ANSWERS order. Berger et al. (1993), Center for Quality
# Management Journal 2(4), 3-36, fig. 4; Matzler & Hinterhuber (1998),
# Technovation 18(1), 25-38, table 2.
_TABLE_ROWS = (
    "QAAAO",  # functional: like
    "RIIIM",  # must-be
    "RIIIM",  # neutral
    "RIIIM",  # live-with
    "RRRRQ",  # dislike
)

#: The 5 x 5 evaluation table as a DataFrame (functional x dysfunctional).
EVALUATION_TABLE = pd.DataFrame(
    [list(row) for row in _TABLE_ROWS],
    index=pd.Index(ANSWERS, name="functional"),
    columns=pd.Index(ANSWERS, name="dysfunctional"),
)

_LOOKUP = np.array([list(row) for row in _TABLE_ROWS], dtype=object)

#: Continuous-analysis scores of the answers (DuMouchel's asymmetric scale,
#: Berger et al. 1993, section IVb; Bartikowski & Llosa 2004, The Service
#: Industries Journal 24(4), 67-82). The scale rewards the answer that
#: expresses the stronger need: "like" when the feature is present,
#: "dislike" when it is absent.
FUNCTIONAL_SCORES: dict[int, float] = {1: 4.0, 2: 2.0, 3: 0.0, 4: -1.0, 5: -2.0}
DYSFUNCTIONAL_SCORES: dict[int, float] = {1: -2.0, 2: -1.0, 3: 0.0, 4: 2.0, 5: 4.0}

_FEATURE_RE = re.compile(r"^(?P<code>.+)_F$")


def kano_features(frame: pd.DataFrame) -> list[str]:
    """Feature codes that have both a ``<code>_F`` and a ``<code>_D`` column.

    Parameters
    ----------
    frame : pandas.DataFrame
        Response frame.

    Returns
    -------
    list of str
        Feature codes in column order.

    Examples
    --------
    >>> import pandas as pd
    >>> kano_features(pd.DataFrame(columns=["K01_F", "K01_D", "K01_IMP", "K02_F"]))
    ['K01']
    """
    found = []
    for col in frame.columns:
        match = _FEATURE_RE.match(str(col))
        if match and f"{match['code']}_D" in frame.columns:
            found.append(match["code"])
    return found


def _resolve_features(frame: pd.DataFrame, features: Sequence[str] | None) -> list[str]:
    if features is None:
        features = kano_features(frame)
        if not features:
            raise ValueError("no KANO features found: expected column pairs like K01_F / K01_D")
        return features
    features = list(features)
    if not features:
        raise ValueError("features is empty")
    missing = [c for f in features for c in (f"{f}_F", f"{f}_D") if c not in frame.columns]
    if missing:
        raise ValueError(f"KANO columns not in the frame: {', '.join(missing)}")
    return features


def _codes(values, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Answer codes as 0-based ints plus a missing mask; rejects codes outside 1-5."""
    arr = np.asarray(values, dtype=float)
    missing = np.isnan(arr)
    valid = arr[~missing]
    bad = valid[(valid != np.round(valid)) | (valid < 1) | (valid > 5)]
    if bad.size:
        raise ValueError(f"{what} answers must be codes 1-5 (like ... dislike); got {bad[:5].tolist()}")
    idx = np.where(missing, 0, arr).astype(int) - 1
    return idx, missing


def kano_category(functional, dysfunctional):
    """KANO category of functional/dysfunctional answer pairs.

    Looks each pair up in :data:`EVALUATION_TABLE` (Berger et al. 1993;
    Matzler & Hinterhuber 1998)::

        functional \\ dysfunctional  like must-be neutral live-with dislike
        like                          Q     A       A        A        O
        must-be                       R     I       I        I        M
        neutral                       R     I       I        I        M
        live-with                     R     I       I        I        M
        dislike                       R     R       R        R        Q

    Parameters
    ----------
    functional, dysfunctional : int, array-like or pandas.Series
        Answer codes 1 (like) to 5 (dislike); NaN for a missing answer.

    Returns
    -------
    str, numpy.ndarray or pandas.Series
        Category letters (A, O, M, I, R, Q); ``None`` where either answer is
        missing. Scalars in give a scalar out; a Series in gives a Series
        with the functional answers' index.

    Raises
    ------
    ValueError
        For codes outside 1-5 or inputs of different lengths.

    References
    ----------
    Berger, C. et al. (1993). Kano's methods for understanding
    customer-defined quality. Center for Quality Management Journal 2(4), 3-36.
    Matzler, K. & Hinterhuber, H. H. (1998). How to make product development
    projects more successful by integrating Kano's model of customer
    satisfaction into quality function deployment. Technovation 18(1), 25-38.

    Examples
    --------
    >>> kano_category(1, 5)
    'O'
    >>> kano_category([1, 2, 5], [4, 5, 1]).tolist()
    ['A', 'M', 'R']
    """
    scalar = np.ndim(functional) == 0 and np.ndim(dysfunctional) == 0
    f_idx, f_missing = _codes(np.atleast_1d(functional), "functional")
    d_idx, d_missing = _codes(np.atleast_1d(dysfunctional), "dysfunctional")
    if f_idx.shape != d_idx.shape:
        raise ValueError(f"functional and dysfunctional have different lengths ({f_idx.size} vs {d_idx.size})")
    out = _LOOKUP[f_idx, d_idx]
    out[f_missing | d_missing] = None
    if scalar:
        return out[0]
    if isinstance(functional, pd.Series):
        return pd.Series(out, index=functional.index, name="kano_category")
    return out


def kano_counts(frame: pd.DataFrame, features: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts of the six KANO categories per feature.

    Parameters
    ----------
    frame : pandas.DataFrame
        Response frame with ``<feature>_F`` and ``<feature>_D`` columns.
    features : sequence of str, optional
        Feature codes; default every pair found by :func:`kano_features`.

    Returns
    -------
    pandas.DataFrame
        Index ``feature``; integer columns A, O, M, I, R, Q and ``n`` (pairs
        with both answers; a pair with a missing answer is left out of that
        feature only).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"K01_F": [1, 1, 2], "K01_D": [5, 4, 5]})
    >>> kano_counts(df).loc["K01", ["A", "O", "M", "n"]].tolist()
    [1, 1, 1, 3]
    """
    features = _resolve_features(frame, features)
    rows = {}
    # Counted per cell of the evaluation table (answer pairs coded 0-24, numpy.bincount),
    # then per category: the same counts as tallying kano_category's letters, without a
    # letter object per respondent and a hash of each.
    cell_category = _LOOKUP.ravel()
    for feat in features:
        f_idx, f_missing = _codes(frame[f"{feat}_F"].to_numpy(), "functional")
        d_idx, d_missing = _codes(frame[f"{feat}_D"].to_numpy(), "dysfunctional")
        answered = ~(f_missing | d_missing)
        cells = np.bincount(f_idx[answered] * len(ANSWERS) + d_idx[answered], minlength=cell_category.size)
        counts = {category: int(cells[cell_category == category].sum()) for category in CATEGORIES}
        rows[feat] = {**counts, "n": int(cells.sum())}
    out = pd.DataFrame.from_dict(rows, orient="index")[list(CATEGORIES) + ["n"]]
    out.index.name = "feature"
    return out


def kano_classify_counts(counts: pd.DataFrame, tie_margin: float = 0.0,
                         z: float = 1.65) -> pd.DataFrame:
    """Classify features from their category counts.

    For each feature (one row of ``counts`` with columns A, O, M, I, R, Q):

    * shares: count / n, where n = A + O + M + I + R + Q (so they sum to 1);
    * the two most frequent categories among A, O, M, I, R (Q is an answer
      error, not a property of the feature), counts a >= b;
    * ``category``: the most frequent category. Categories whose share is
      within ``tie_margin`` of the top share count as tied, and a tie goes to
      the first in :data:`CATEGORY_PRIORITY` (M > O > A > I > R; Matzler et
      al. 1996). With the default ``tie_margin=0`` only exact ties use it;
    * Fong (1996) test: the difference is not significant when
      ``|a - b| < z * sqrt((a + b)(2n - a - b) / (2n))`` with z = 1.65
      (alpha = 0.10 as in Fong);
    * category strength = (a - b) / n, total strength = (A + O + M) / n
      (Lee & Newcomb 1997);
    * better = (A + O) / (A + O + M + I), worse = -(O + M) / (A + O + M + I)
      (Berger et al. 1993).

    Parameters
    ----------
    counts : pandas.DataFrame
        Columns A, O, M, I, R, Q (non-negative integer counts); other columns
        are ignored. One row per feature.
    tie_margin : float, default 0
        Share difference within which categories are treated as tied.
    z : float, default 1.65
        Critical value of Fong's test.

    Returns
    -------
    pandas.DataFrame
        Same index as ``counts``; columns n, A..Q, share_A..share_Q,
        category, category_name, first, second, fong_difference,
        fong_threshold, fong_significant, category_strength, total_strength,
        better, worse. ``methods`` in ``.attrs``.

    References
    ----------
    Fong, D. (1996). Using the self-stated importance questionnaire to
    interpret Kano questionnaire results. Center for Quality Management
    Journal 5(3), 21-24.
    Lee, M. C. & Newcomb, J. F. (1997). Applying the Kano methodology to
    meet customer requirements: NASA's microgravity science program. Quality
    Management Journal 4(3), 95-110.
    Berger, C. et al. (1993). Center for Quality Management Journal 2(4).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"A": [45], "O": [123], "M": [95], "I": [33], "R": [0], "Q": [0]},
    ...                  index=["service app"])
    >>> r = kano_classify_counts(c).loc["service app"]
    >>> r["category"], round(float(r["better"]), 3), round(float(r["worse"]), 3), bool(r["fong_significant"])
    ('O', 0.568, -0.736, True)
    """
    missing = [c for c in CATEGORIES if c not in counts.columns]
    if missing:
        raise ValueError(f"counts lacks column(s) {', '.join(missing)}")
    if not 0 <= tie_margin < 1:
        raise ValueError(f"tie_margin must be in [0, 1); got {tie_margin}")
    c = counts[list(CATEGORIES)].astype(float)
    if (c.to_numpy() < 0).any() or c.isna().to_numpy().any():
        raise ValueError("counts must be non-negative numbers without missing values")
    n = c.sum(axis=1)
    out = pd.DataFrame(index=counts.index)
    out["n"] = n.astype(int)
    for cat in CATEGORIES:
        out[cat] = c[cat].astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        for cat in CATEGORIES:
            out[f"share_{cat}"] = c[cat] / n
        aomi = c[["A", "O", "M", "I"]].sum(axis=1)
        out["better"] = (c["A"] + c["O"]) / aomi
        out["worse"] = -(c["O"] + c["M"]) / aomi
        out["total_strength"] = (c["A"] + c["O"] + c["M"]) / n

    rank = {cat: i for i, cat in enumerate(CATEGORY_PRIORITY)}
    first, second, category = [], [], []
    a_counts, b_counts = [], []
    for key, row in c.iterrows():
        ordered = sorted(CATEGORY_PRIORITY, key=lambda k: (-row[k], rank[k]))
        top, runner = ordered[0], ordered[1]
        total = row.sum()
        if total == 0 or row[top] == 0:
            first.append(None), second.append(None), category.append(None)
            a_counts.append(np.nan), b_counts.append(np.nan)
            continue
        # Every category close enough to the top is a candidate; the
        # priority order then decides, so a must-be requirement is not
        # hidden behind an attractive one by a sampling wobble.
        tied = [k for k in CATEGORY_PRIORITY if row[k] >= row[top] - tie_margin * total - 1e-12]
        category.append(min(tied, key=rank.__getitem__))
        first.append(top)
        second.append(runner if row[runner] > 0 else None)
        a_counts.append(row[top])
        b_counts.append(row[runner])
    out["category"] = category
    out["category_name"] = [CATEGORY_NAMES.get(k) if k else None for k in category]
    out["first"] = first
    out["second"] = second
    a = np.asarray(a_counts, dtype=float)
    b = np.asarray(b_counts, dtype=float)
    nn = n.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["fong_difference"] = np.abs(a - b)
        out["fong_threshold"] = z * np.sqrt((a + b) * (2 * nn - a - b) / (2 * nn))
        out["category_strength"] = (a - b) / nn
    out["fong_significant"] = out["fong_difference"] >= out["fong_threshold"]
    out.loc[np.isnan(a), "fong_significant"] = False
    out.attrs["methods"] = Methods(
        analysis="KANO classification",
        n_used=int(n.max()) if len(n) else 0,
        missing="pairs with a missing functional or dysfunctional answer are left out of that feature",
        formula=("better = (A+O)/(A+O+M+I); worse = -(O+M)/(A+O+M+I); category strength = "
                 "(a-b)/n; total strength = (A+O+M)/n"),
        test=f"Fong (1996): not significant if |a-b| < {z}*sqrt((a+b)(2n-a-b)/(2n)), "
             "a, b the counts of the two most frequent categories (Q excluded), n all answer pairs",
        reference="Berger et al. (1993) CQM Journal 2(4); Fong (1996) CQM Journal 5(3); "
                  "Lee & Newcomb (1997) Quality Management Journal 4(3); Matzler et al. (1996)",
        notes=[f"category = most frequent; shares within {tie_margin:.3f} of the top are ties, "
               "resolved M > O > A > I > R"],
    )
    return out


def kano_summary(frame: pd.DataFrame, features: Sequence[str] | None = None,
                 tie_margin: float = 0.0, min_n: int = 1) -> pd.DataFrame:
    """Per-feature KANO table: counts, shares, category, Fong test, strengths,
    better/worse.

    :func:`kano_counts` followed by :func:`kano_classify_counts`; see there
    for formulas and references.

    Parameters
    ----------
    frame : pandas.DataFrame
        Response frame with ``<feature>_F`` / ``<feature>_D`` columns.
    features : sequence of str, optional
        Feature codes; default all pairs found.
    tie_margin : float, default 0
        See :func:`kano_classify_counts`.
    min_n : int, default 1
        Fewest answer pairs a feature needs; fewer raises
        :class:`~analysis.common.InsufficientData`.

    Returns
    -------
    pandas.DataFrame
        One row per feature, ``methods`` in ``.attrs``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"K01_F": [1, 1, 2, 2, 2], "K01_D": [5, 4, 5, 5, 5]})
    >>> kano_summary(df).loc["K01", "category"]
    'M'
    """
    counts = kano_counts(frame, features)
    for feat, n in counts["n"].items():
        require_n(f"KANO feature {feat}", n, min_n)
    out = kano_classify_counts(counts, tie_margin=tie_margin)
    methods = out.attrs["methods"]
    methods.n_excluded = int(len(frame) - counts["n"].min())
    return out


def kano_continuous(frame: pd.DataFrame, features: Sequence[str] | None = None) -> pd.DataFrame:
    """Continuous KANO analysis: mean and SD of functional and dysfunctional
    scores per feature, with self-stated importance.

    Answers are scored on DuMouchel's asymmetric scale (Berger et al. 1993,
    "Thoughts on graphical and continuous analysis")::

        answer          like  must-be  neutral  live-with  dislike
        functional        4      2        0        -1        -2
        dysfunctional    -2     -1        0         2         4

    A feature is then a point (dysfunctional mean, functional mean) in the
    Kano plane; the SDs show how far respondents agree (Bartikowski & Llosa
    2004). Each mean uses every respondent who answered that question.

    Parameters
    ----------
    frame : pandas.DataFrame
        Response frame; ``<feature>_IMP`` columns, where present, give the
        importance statistics (NaN otherwise).
    features : sequence of str, optional
        Feature codes; default all pairs found.

    Returns
    -------
    pandas.DataFrame
        Index ``feature``; columns n_functional, functional_mean,
        functional_sd, n_dysfunctional, dysfunctional_mean,
        dysfunctional_sd, n_importance, importance_mean, importance_sd
        (SDs with ddof=1). ``methods`` in ``.attrs``.

    References
    ----------
    Berger, C. et al. (1993). Center for Quality Management Journal 2(4),
    3-36 (section IVb, W. DuMouchel).
    Bartikowski, B. & Llosa, S. (2004). Customer satisfaction measurement:
    comparing four methods of attribute categorisations. The Service
    Industries Journal 24(4), 67-82.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"K01_F": [1, 2], "K01_D": [5, 4], "K01_IMP": [9, 7]})
    >>> kano_continuous(df).loc["K01", ["functional_mean", "dysfunctional_mean", "importance_mean"]].tolist()
    [3.0, 3.0, 8.0]
    """
    features = _resolve_features(frame, features)
    rows = {}
    for feat in features:
        row = {}
        for facet, label, scores in (("F", "functional", FUNCTIONAL_SCORES),
                                     ("D", "dysfunctional", DYSFUNCTIONAL_SCORES)):
            idx, missing = _codes(frame[f"{feat}_{facet}"].to_numpy(), label)
            table = np.array([scores[k] for k in range(1, 6)])
            values = table[idx[~missing]]
            row[f"n_{label}"] = int(values.size)
            row[f"{label}_mean"] = float(values.mean()) if values.size else np.nan
            row[f"{label}_sd"] = float(values.std(ddof=1)) if values.size > 1 else np.nan
        imp_col = f"{feat}_IMP"
        if imp_col in frame.columns:
            imp = pd.to_numeric(frame[imp_col], errors="raise").dropna()
            row["n_importance"] = int(imp.size)
            row["importance_mean"] = float(imp.mean()) if imp.size else np.nan
            row["importance_sd"] = float(imp.std(ddof=1)) if imp.size > 1 else np.nan
        else:
            row.update(n_importance=0, importance_mean=np.nan, importance_sd=np.nan)
        rows[feat] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "feature"
    out.attrs["methods"] = Methods(
        analysis="KANO continuous analysis",
        n_used=int(out[["n_functional", "n_dysfunctional"]].min(axis=1).max()) if len(out) else 0,
        missing="available answers per question",
        formula="functional like/must-be/neutral/live-with/dislike = 4/2/0/-1/-2; "
                "dysfunctional = -2/-1/0/2/4; mean and SD (ddof=1) per feature",
        reference="Berger et al. (1993) CQM Journal 2(4), section IVb (DuMouchel); "
                  "Bartikowski & Llosa (2004) Service Industries Journal 24(4)",
    )
    return out


def kano_questionable_counts(frame: pd.DataFrame, features: Iterable[str] | None = None) -> pd.Series:
    """Number of questionable (Q) answer pairs per respondent.

    A Q pair (like/like or dislike/dislike) contradicts itself; respondents
    with several are candidates for data-quality screening (Berger et al.
    1993 recommend checking questionnaires with many Q answers).

    Parameters
    ----------
    frame : pandas.DataFrame
        Response frame.
    features : iterable of str, optional
        Feature codes; default all pairs found.

    Returns
    -------
    pandas.Series
        Integer count per row of ``frame`` (same index), named
        ``kano_questionable``; pairs with a missing answer do not count.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"K01_F": [1, 1], "K01_D": [1, 5], "K02_F": [5, 3], "K02_D": [5, 3]})
    >>> kano_questionable_counts(df).tolist()
    [2, 0]
    """
    features = _resolve_features(frame, None if features is None else list(features))
    total = np.zeros(len(frame), dtype=int)
    # Which cells of the evaluation table are Q, looked up by answer codes: comparing
    # a letter object per respondent and feature costs seconds on a million.
    questionable = _LOOKUP == "Q"
    for feat in features:
        f_idx, f_missing = _codes(frame[f"{feat}_F"].to_numpy(), "functional")
        d_idx, d_missing = _codes(frame[f"{feat}_D"].to_numpy(), "dysfunctional")
        total += questionable[f_idx, d_idx] & ~(f_missing | d_missing)
    return pd.Series(total, index=frame.index, name="kano_questionable")


def kano_questionable_shares(frame: pd.DataFrame, features: Iterable[str] | None = None) -> pd.Series:
    """Share of each respondent's answered KANO pairs that are questionable (Q).

    The screening of whole respondents uses this share, not a count, so a
    respondent who answered few features is judged on those; a respondent
    with no answered pair gets NaN (and is never flagged: NaN > x is False).

    Parameters are those of :func:`kano_questionable_counts`.

    Returns
    -------
    pandas.Series
        Float share per row of ``frame`` (same index), named
        ``kano_questionable_share``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"K01_F": [1, 1, None], "K01_D": [1, 5, None],
    ...                    "K02_F": [5, 3, None], "K02_D": [5, None, None]})
    >>> kano_questionable_shares(df).tolist()
    [1.0, 0.0, nan]
    """
    features = _resolve_features(frame, None if features is None else list(features))
    questionable = kano_questionable_counts(frame, features).to_numpy(dtype=float)
    answered = np.zeros(len(frame))
    for feat in features:
        answered += (frame[f"{feat}_F"].notna() & frame[f"{feat}_D"].notna()).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(answered > 0, questionable / answered, np.nan)
    return pd.Series(share, index=frame.index, name="kano_questionable_share")
