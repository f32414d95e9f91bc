"""Synthetic survey answers from a documented generative model (the demo survey, benchmarks).

The model is a small set of structural equations on standardized latent
scores, chosen so that the dashboard and analysis show the structure the
seeds and the SERVQUAL literature describe:

* SERVQUAL. Expectations are high and similar across dimensions (centre 6.0
  on 1..7). Perceptions differ by dimension (tangibles 5.6, assurance 5.4,
  reliability 5.0, empathy 4.9, responsiveness 4.6), so gaps P - E are
  negative and largest for responsiveness. A respondent's perceptions share
  one quality factor Q (loading 0.8). Branch 1 serves better (+0.3 points),
  branch 4 worse (-0.4), and perceived quality improves by about 0.3 points
  over the twelve weeks of fieldwork (a trend to see).
* Relationship quality (seed 003), latent z-scores, e ~ N(0, 1) noise:
  friendship F = e;
  visit satisfaction Sv = 0.6 Q + 0.3 F + 0.6 e;
  trust in staff Ts = 0.6 F + 0.2 Sv + 0.7 e;
  trust in the firm T = 0.45 Sv + 0.35 Ts + 0.6 e (benevolence, integrity,
  competence load on T);
  cumulative satisfaction Sc = 0.5 T + 0.3 Sv + 0.6 e;
  affective commitment Ca = 0.35 Sc + 0.35 T + 0.2 F + 0.6 e;
  continuance Cc = 0.45 Ca + 0.1 Sc + 0.8 e (mostly mediated by Ca);
  normative Cn = 0.3 T + 0.2 Ca + 0.8 e; word of mouth W = 0.6 Ca + 0.2 Sc + 0.6 e;
  forgiveness G = 0.5 Ca + 0.8 e; repurchase R = 0.4 Sc + 0.35 Ca + 0.6 e.
* Consumption emotions: positive = 0.6 Sv + 0.8 e, negative = -0.5 Sv + 0.85 e.
* Overall pair: expected = SERVQUAL expectation level, perceived = Q; overall
  satisfaction (1..10) = 0.7 Sv + 0.7 e.
* KANO: each feature has a true category (must-be, one-dimensional,
  attractive or indifferent); 75% of answers are that category's typical
  functional/dysfunctional pair, the rest uniform (which yields some R and Q).
  Must-be and one-dimensional features are rated more important.
* Importance allocation: Dirichlet(6, 15, 9, 9, 6) over tangibles, reliability,
  responsiveness, assurance, empathy, rounded to whole points summing to 100.
* Data quality: 3% speeders who straight-line (duration about a minute, every
  rating the same); 8% stop half-way (partial responses); 15% agree to be
  contacted.

Every latent is standardized and mapped to a rating as
round(centre + spread * z + N(0, 0.7)), clipped to the scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .instruments import Codebook, Variable

FIELDWORK_WEEKS = 12

SERVQUAL_PERCEPTION_CENTRE = {"tangibles": 5.6, "reliability": 5.0, "responsiveness": 4.6,
                              "assurance": 5.4, "empathy": 4.9}
SERVQUAL_EXPECTATION_CENTRE = 6.0
IMPORTANCE_DIRICHLET = {"tangibles": 6, "reliability": 15, "responsiveness": 9,
                        "assurance": 9, "empathy": 6}
BRANCH_EFFECT = {1: 0.3, 4: -0.4}
# Typical (functional, dysfunctional) answers per KANO category; 1 like .. 5 dislike.
KANO_TYPICAL = {"M": [(3, 5), (2, 5), (4, 5)], "O": [(1, 5)], "A": [(1, 3), (1, 4)],
                "I": [(3, 3), (3, 4), (4, 3)]}
KANO_TRUE_CATEGORIES = ("M", "O", "A", "I", "M", "A", "O", "A", "I", "M")
KANO_IMPORTANCE_CENTRE = {"M": 7.8, "O": 7.2, "A": 5.5, "I": 3.5}



@dataclass
class SyntheticDraws:
    values: dict[str, np.ndarray]
    speeders: np.ndarray
    partial: np.ndarray


def _standardize(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def synthetic_answers(codebook: Codebook, n: int, rng: np.random.Generator) -> SyntheticDraws:
    """Answers to every variable of ``codebook`` for ``n`` respondents (see module docstring)."""
    e = lambda: rng.normal(size=n)  # noqa: E731 - fresh noise per equation
    time_share = np.linspace(0, 1, n)  # responses are later sorted by time, so index ~ time

    profile = {v.name: rng.choice([o["value"] for o in v.scale["options"]], size=n)
               for v in codebook.select(kind="profile")}
    branch = next((values for name, values in profile.items() if "BRANCH" in name),
                  np.zeros(n))
    shift = np.vectorize(lambda b: BRANCH_EFFECT.get(int(b), 0.0))(branch) + 0.3 * time_share

    quality = e()
    friendship = e()
    sat_visit = _standardize(0.6 * quality + 0.3 * friendship + 0.6 * e())
    trust_staff = _standardize(0.6 * friendship + 0.2 * sat_visit + 0.7 * e())
    trust_firm = _standardize(0.45 * sat_visit + 0.35 * trust_staff + 0.6 * e())
    sat_cum = _standardize(0.5 * trust_firm + 0.3 * sat_visit + 0.6 * e())
    affective = _standardize(0.35 * sat_cum + 0.35 * trust_firm + 0.2 * friendship + 0.6 * e())
    latent = {
        "satisfaction_visit": sat_visit, "satisfaction_cumulative": sat_cum,
        "trust_benevolence": trust_firm, "trust_integrity": trust_firm,
        "trust_competence": trust_firm, "trust_firm": trust_firm, "trust_staff": trust_staff,
        "commitment_affective": affective,
        "commitment_continuance": _standardize(0.45 * affective + 0.1 * sat_cum + 0.8 * e()),
        "commitment_normative": _standardize(0.3 * trust_firm + 0.2 * affective + 0.8 * e()),
        "friendship": friendship,
        "word_of_mouth": _standardize(0.6 * affective + 0.2 * sat_cum + 0.6 * e()),
        "forgiveness": _standardize(0.5 * affective + 0.8 * e()),
        "repurchase": _standardize(0.4 * sat_cum + 0.35 * affective + 0.6 * e()),
        "positive": _standardize(0.6 * sat_visit + 0.8 * e()),
        "negative": _standardize(-0.5 * sat_visit + 0.85 * e()),
    }
    expectation_level = e()
    dimension_quality = {d: _standardize(0.8 * quality + 0.6 * e()) for d in SERVQUAL_PERCEPTION_CENTRE}

    speeders = rng.random(n) < 0.03
    partial = (rng.random(n) < 0.08) & ~speeders
    values: dict[str, np.ndarray] = {}
    kano_category: dict[str, str] = {}
    kano_pairs: dict[str, np.ndarray] = {}
    weights = _importance_allocation(rng, n)

    for variable in codebook:
        scale = variable.scale
        if variable.segment:
            values[variable.name] = profile[variable.name].astype(float)
        elif variable.weight_of:
            values[variable.name] = weights[variable.weight_of]
        elif variable.kind == "kano":
            category = kano_category.setdefault(
                variable.item, KANO_TRUE_CATEGORIES[len(kano_category) % len(KANO_TRUE_CATEGORIES)])
            values[variable.name] = _kano_answers(variable, category, n, rng, kano_pairs)
        elif scale["type"] == "rating":
            centre, spread, z = _rating_centre(variable, latent, dimension_quality,
                                               expectation_level, quality, shift)
            raw = centre + spread * z + rng.normal(0, 0.7, n)
            if variable.reverse:
                raw = scale["min"] + scale["max"] - raw
            values[variable.name] = np.clip(np.rint(raw), scale["min"], scale["max"])
        else:
            raise ValueError(f"the demo model has no rule for {variable.name} ({scale['type']})")

    # Speeders straight-line every rating item at one value.
    line = rng.integers(4, 8, n)
    for variable in codebook:
        if variable.scale["type"] == "rating" and variable.kind == "expectation_perception":
            col = values[variable.name]
            col[speeders] = np.minimum(line[speeders], variable.scale["max"])
    return SyntheticDraws(values=values, speeders=speeders, partial=partial)


def _rating_centre(variable: Variable, latent, dimension_quality, expectation_level, quality, shift):
    """(centre, spread, z) of a rating variable in the model."""
    scale = variable.scale
    low, high = scale["min"], scale["max"]
    mid = (low + high) / 2
    if variable.kind == "expectation_perception" and variable.dimension in SERVQUAL_PERCEPTION_CENTRE:
        if variable.facet == "E":
            return SERVQUAL_EXPECTATION_CENTRE, 0.6, expectation_level
        return SERVQUAL_PERCEPTION_CENTRE[variable.dimension] + shift, 0.9, \
            dimension_quality[variable.dimension]
    if variable.kind == "expectation_perception":
        # The overall pair: expectation follows the SERVQUAL expectation level, perception Q.
        rel = (high - low) / 6
        if variable.facet == "E":
            return low + (SERVQUAL_EXPECTATION_CENTRE - 1) * rel, 0.6 * rel, expectation_level
        if variable.facet == "P":
            return low + (5.1 - 1) * rel + shift * rel, 0.9 * rel, quality
        return mid + 0.25 * (high - low), 0.18 * (high - low), latent["satisfaction_visit"]
    if variable.kind == "emotions":
        centre = low + 0.62 * (high - low) if variable.dimension == "positive" else low + 0.25 * (high - low)
        return centre, 0.2 * (high - low), latent.get(variable.dimension, quality)
    z = latent.get(variable.dimension) if variable.dimension in latent else \
        latent.get(variable.parent or "", latent["satisfaction_visit"])
    return mid + 0.17 * (high - low), 0.2 * (high - low), z


def _kano_answers(variable: Variable, category: str, n: int, rng,
                  kano_pairs: dict[str, np.ndarray]) -> np.ndarray:
    """One facet of a feature's answers; F and D come from one draw of pairs per feature."""
    if variable.facet == "IMP":
        scale = variable.scale
        raw = KANO_IMPORTANCE_CENTRE[category] + rng.normal(0, 1.2, n)
        return np.clip(np.rint(raw), scale["min"], scale["max"])
    if variable.item not in kano_pairs:
        typical = KANO_TYPICAL[category]
        chosen = np.array([typical[k] for k in rng.integers(0, len(typical), n)])
        noise = rng.random(n) >= 0.75
        chosen[noise] = rng.integers(1, 6, (noise.sum(), 2))
        kano_pairs[variable.item] = chosen
    pairs = kano_pairs[variable.item]
    return pairs[:, 0 if variable.facet == "F" else 1].astype(float)


def _importance_allocation(rng, n: int) -> dict[str, np.ndarray]:
    """Whole points summing to 100 per respondent (largest-remainder rounding)."""
    dims = list(IMPORTANCE_DIRICHLET)
    shares = rng.dirichlet([IMPORTANCE_DIRICHLET[d] for d in dims], size=n) * 100
    points = np.floor(shares)
    remainder = (100 - points.sum(axis=1)).astype(int)
    order = np.argsort(-(shares - points), axis=1)
    for i in range(n):
        points[i, order[i, :remainder[i]]] += 1
    return {d: points[:, j] for j, d in enumerate(dims)}


def synthetic_frame(codebook: Codebook, n: int, seed: int,
                    end: pd.Timestamp | None = None) -> pd.DataFrame:
    """A response frame (docs/data-model.md §3) of ``n`` synthetic respondents.

    Submission times are spread uniformly over the last
    :data:`FIELDWORK_WEEKS` weeks before ``end`` (sorted, so the model's
    quality trend shows in time); durations are log-normal around nine
    minutes, speeders take 45-90 s; partial responses have the second half
    of the codebook missing and no submission time.
    """
    rng = np.random.default_rng(seed)
    draws = synthetic_answers(codebook, n, rng)
    end = pd.Timestamp.now(tz="UTC") if end is None else pd.Timestamp(end)
    start = end - pd.Timedelta(weeks=FIELDWORK_WEEKS)
    offsets = np.sort(rng.uniform(0, FIELDWORK_WEEKS * 7 * 86400, n))
    submitted = (start + pd.to_timedelta(offsets, unit="s")).floor("us")
    durations = np.exp(rng.normal(np.log(540), 0.35, n))
    durations[draws.speeders] = rng.uniform(45, 90, draws.speeders.sum())
    frame = pd.DataFrame({name: draws.values[name] for name in codebook.names})
    frame.loc[draws.partial, codebook.names[len(codebook.names) // 2:]] = np.nan
    meta = pd.DataFrame({
        "response_id": np.arange(1, n + 1, dtype=np.int64),
        "version": 1,
        "status": np.where(draws.partial, "partial", "complete"),
        "started_at": (submitted - pd.to_timedelta(durations, unit="s")).floor("us"),
        "submitted_at": pd.Series(submitted).where(~draws.partial),
        "duration_seconds": np.where(draws.partial, np.nan, durations),
        "contact_ok": rng.random(n) < 0.15,
    })
    return pd.concat([meta, frame], axis=1)
