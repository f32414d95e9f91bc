"""The Korean self-service kiosk SERVQUAL/KANO study as a response frame, for tests.

hanakim120/kiosk-servqual-research (MIT), ``analysis/kiosk.csv``, converted
from CP949 to UTF-8 (tests/data/README.md). The test suite runs the SERVQUAL
analysis on these real answers; nothing in the app reads this file.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.io import ResponseFileError

KIOSK = Path(__file__).resolve().parents[1] / "data" / "kiosk_servqual_kano_ko.utf8.csv"


# --- the Korean kiosk study -------------------------------------------------

#: Dimension of each kiosk item, from the authors' confirmatory factor model
#: (hanakim120/kiosk-servqual-research, analysis/cfa_v1.R: F1..F8 on x1..x24).
KIOSK_DIMENSIONS: dict[str, list[str]] = {
    "usefulness": ["KS01", "KS02", "KS03"],        # 유용성
    "fun": ["KS04", "KS05", "KS06"],               # 유희성
    "control": ["KS07", "KS08", "KS09"],           # 통제성
    "economy": ["KS10", "KS11", "KS12"],           # 절약성
    "personalization": ["KS13", "KS14", "KS15"],   # 개인화
    "convenience": ["KS16", "KS17", "KS18"],       # 편리성
    "security": ["KS19", "KS20", "KS21"],          # 보안성
    "tangibles": ["KS22", "KS23", "KS24"],         # 유형성
}
#: item -> (expectation column, perception column) of :func:`read_kiosk_servqual`.
KIOSK_PAIRS: dict[str, tuple[str, str]] = {f"KS{i:02d}": (f"KS{i:02d}_E", f"KS{i:02d}_P") for i in range(1, 25)}
#: item -> stated importance column (7-point, "... 중요하다고 생각하십니까?").
KIOSK_IMPORTANCE: dict[str, str] = {f"KS{i:02d}": f"KS{i:02d}_IMP" for i in range(1, 25)}
#: item -> satisfaction-with-attribute column (7-point, "... 만족하십니까?").
KIOSK_SATISFACTION: dict[str, str] = {f"KS{i:02d}": f"KS{i:02d}_SAT" for i in range(1, 25)}
#: overall items (5-point): 1 satisfied, 2 excellent overall, 3 keep using, 4 recommend.
KIOSK_OVERALL: list[str] = ["KSOV1", "KSOV2", "KSOV3", "KSOV4"]

_KIOSK_GENDER = {"남": 1.0, "여": 2.0}
_KIOSK_AGE = {"10대": 1.0, "20대": 2.0, "30대": 3.0, "40대": 4.0, "50대  이상": 5.0}
_KIOSK_FREQUENCY = {"사용한 적 없음": 1.0, "6개월에 2~3회 이상": 2.0,
                    "한달에 2~3회 이상": 3.0, "일주일에 2~3회 이상": 4.0}
_KIOSK_ITEM = re.compile(r"^\s*(\d+)-([12])\.")


def read_kiosk_servqual(path) -> pd.DataFrame:
    """Adapt the Korean kiosk SERVQUAL study to the response frame.

    The file (211 respondents) holds 24 expectation/perception pairs on a
    7-point scale whose headers end in ``(기대 설문)`` (expectation) and
    ``(인지 설문)`` (perception), 24 importance/satisfaction pairs, four
    overall items on a 5-point scale, profile questions and KANO pairs. The
    header's own item number names the column (the file asks item 9 before
    item 8; the numbers, not the positions, pair E with P).

    Returns
    -------
    pandas.DataFrame
        ``response_id`` (1..211 in file order), ``KS01_E``, ``KS01_P`` ...
        ``KS24_P``, ``KS01_IMP`` ... ``KS24_IMP``, ``KS01_SAT`` ... ``KS24_SAT``,
        ``KSOV1`` ... ``KSOV4`` and coded profile columns ``gender``
        (1 male, 2 female), ``age_group`` (1 teens ... 5 fifty and over),
        ``use_frequency`` (1 never ... 4 weekly). Use with
        :data:`KIOSK_PAIRS` and :data:`KIOSK_DIMENSIONS`.

    Raises
    ------
    ResponseFileError
        When the file does not have the expected structure (E/P headers
        not alternating, unpaired item numbers, values off the 1-7 scale).

    References
    ----------
    GitHub hanakim120/kiosk-servqual-research, ``analysis/kiosk.csv``
    (MIT licence), converted from CP949 to UTF-8.
    """
    try:
        raw = pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ResponseFileError(f"cannot read the kiosk file: {exc}") from None
    columns = list(raw.columns)
    out: dict[str, pd.Series] = {"response_id": pd.Series(np.arange(1, len(raw) + 1), dtype="int64")}

    def numeric(col: str, low: float, high: float) -> pd.Series:
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = values.notna() & ((values < low) | (values > high)) | (values.isna() & raw[col].notna())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ResponseFileError(f"{raw[col].iloc[row]!r} is not on the {low:g}-{high:g} scale",
                                    row + 2, col)
        return values.astype("float64")

    ep = [(i, c) for i, c in enumerate(columns) if c.rstrip().endswith(("(기대 설문)", "(인지 설문)"))]
    if len(ep) != 48:
        raise ResponseFileError(f"expected 48 expectation/perception columns, found {len(ep)}", 1)
    for k in range(0, 48, 2):
        (_, e_col), (_, p_col) = ep[k], ep[k + 1]
        me, mp = _KIOSK_ITEM.match(e_col), _KIOSK_ITEM.match(p_col)
        if not (e_col.rstrip().endswith("(기대 설문)") and p_col.rstrip().endswith("(인지 설문)")
                and me and mp and me.group(1) == mp.group(1)):
            raise ResponseFileError("expectation and perception columns do not alternate by item", 1, e_col)
        code = f"KS{int(me.group(1)):02d}"
        out[f"{code}_E"] = numeric(e_col, 1, 7)
        out[f"{code}_P"] = numeric(p_col, 1, 7)

    for col in columns:
        m = _KIOSK_ITEM.match(col)
        if not m:
            continue
        code = f"KS{int(m.group(1)):02d}"
        if col.rstrip().endswith("중요하다고 생각하십니까?"):
            out[f"{code}_IMP"] = numeric(col, 1, 7)
        elif col.rstrip().endswith("만족하십니까?"):
            out[f"{code}_SAT"] = numeric(col, 1, 7)
    overall = [c for c in columns if re.match(r"^[1-4]\. 키오스크", c)]
    if len(overall) != 4:
        raise ResponseFileError(f"expected 4 overall items, found {len(overall)}", 1)
    for n, col in enumerate(overall, start=1):
        out[f"KSOV{n}"] = numeric(col, 1, 5)

    for name, col_index, codes in (("gender", 0, _KIOSK_GENDER), ("age_group", 1, _KIOSK_AGE),
                                   ("use_frequency", 2, _KIOSK_FREQUENCY)):
        col = columns[col_index]
        coded = raw[col].map(codes)
        unknown = raw[col].notna() & coded.isna()
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ResponseFileError(f"unknown answer {raw[col].iloc[row]!r}", row + 2, col)
        out[name] = coded.astype("float64")

    expected = {f"KS{i:02d}_{s}" for i in range(1, 25) for s in ("E", "P", "IMP", "SAT")}
    absent = sorted(expected - set(out))
    if absent:
        raise ResponseFileError(f"kiosk columns not found: {', '.join(absent)}", 1)
    frame = pd.DataFrame(out)
    order = (["response_id"] + [c for i in range(1, 25) for c in (f"KS{i:02d}_E", f"KS{i:02d}_P")]
             + [f"KS{i:02d}_IMP" for i in range(1, 25)] + [f"KS{i:02d}_SAT" for i in range(1, 25)]
             + KIOSK_OVERALL + ["gender", "age_group", "use_frequency"])
    return frame[order]


#: The Korean answer labels of the KANO questions and their codes on the kano5 scale.
KOREAN_KANO_CODES = {"마음에 든다.": 1, "당연하다.": 2, "아무런 느낌이 없다.": 3,
                     "하는 수 없다.": 4, "마음에 안 든다.": 5}


def read_kiosk_kano(path) -> pd.DataFrame:
    """The kiosk study's 29 KANO pairs as ``K01_F``, ``K01_D`` ... ``K29_D`` (codes 1-5).

    KANO questions end "어떤 느낌이 들겠습니까?" ("how would you feel?"); "N-1." asks
    about the feature present (functional), "N-2." absent (dysfunctional).
    """
    raw = pd.read_csv(path, encoding="utf-8-sig")
    cols = {}
    for header in raw.columns:
        match = re.match(r"^(\d+)-([12])\.", header.strip())
        if match and "어떤 느낌이" in header:
            facet = "F" if match[2] == "1" else "D"
            values = raw[header].map(lambda v: KOREAN_KANO_CODES[v.strip()] if isinstance(v, str) else np.nan)
            cols[f"K{int(match[1]):02d}_{facet}"] = values.astype(float)
    return pd.DataFrame(cols)[sorted(cols)]
