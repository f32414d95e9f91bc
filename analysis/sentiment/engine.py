"""Polarity of free-text comments in Chinese and English: the engine.

The default engine, :class:`LinearSentimentEngine`, is a logistic regression
per language on hashed n-gram features (Weinberger et al. 2009, "Feature
hashing for large scale multitask learning", ICML) scaled by their naive-Bayes
log-count ratio: NB-LR, the strong baseline for sentence polarity of Wang &
Manning (2012, "Baselines and bigrams: simple, good sentiment and topic
classification", ACL). The ratio is folded into the shipped weights, so
scoring is one sparse dot product:

* zh: character 1-3-grams (no word segmenter needed), plus counts of our
  own positive and negative words with negation (:mod:`analysis.sentiment.lexicon`);
* en: word 1-2-grams and character 2-5-grams inside words, plus the VADER
  valence scores (compound, positive and negative share; Hutto & Gilbert
  2014, ICWSM) as lexicon features.

With ``p`` the model's probability that the comment is positive, the score is
``2 p - 1`` in [-1, 1]; the label is *positive* above ``+NEUTRAL_BAND``,
*negative* below ``-NEUTRAL_BAND`` and *neutral* in between. The weights are
trained by ``python -m analysis.sentiment.train`` from the licensed corpora in
``analysis/sentiment/corpora`` (sources and licences in its README) and
shipped as ``model_zh.npz`` / ``model_en.npz`` (loaded lazily, once).

Any object with the :class:`SentimentEngine` shape can replace it.
"""
from __future__ import annotations

import json
import math
import re
import threading
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from .emotions import EMOTIONS, detect_emotions
from .lexicon import zh_polarity_counts

MODEL_DIR = Path(__file__).resolve().parent
#: Half-width of the neutral band around score 0.
NEUTRAL_BAND = 0.2
#: Languages with a model.
LANGUAGES = ("zh", "en")
#: Longer comments are cut to this many characters (a comment is rarely longer;
#: the cut keeps one pathological paste from stalling a batch).
MAX_CHARS = 5000
#: Share of CJK ideographs among units (ideographs + other words) from which a text is Chinese.
CJK_SHARE_ZH = 0.5
N_HASH = 2 ** 18

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]+")


@runtime_checkable
class SentimentEngine(Protocol):
    """What the rest of surveyapp needs from a sentiment engine.

    ``analyse(texts, langs)`` returns one row per text, index ``0..n-1``,
    columns ``lang`` (the language used), ``score`` (float in [-1, 1], NaN for an
    empty text), ``label`` (``"negative"``, ``"neutral"``, ``"positive"`` or None
    for an empty text) and ``emotions`` (names joined by ``";"``, ``""`` if none
    or unsupported).
    """

    name: str

    def analyse(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> pd.DataFrame:
        ...


def detect_language(text: str) -> str:
    """``"zh"`` when CJK ideographs make up at least half of the text's units, else ``"en"``.

    A unit is one CJK ideograph or one word of another script: a Chinese
    character carries about as much as an English word, so "check in 太慢"
    (2 ideographs, 2 words) counts as Chinese. Text without letters (emoji,
    digits) counts as English.

    Examples
    --------
    >>> detect_language("房间很干净 but the breakfast was cold")
    'zh'
    >>> detect_language("check in 太慢")
    'zh'
    >>> detect_language("The room was clean, 谢谢")
    'en'
    >>> detect_language("👍👍")
    'en'
    """
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    if not cjk + words:
        return "en"
    return "zh" if cjk / (cjk + words) >= CJK_SHARE_ZH else "en"


def normalise_lang(lang: object, text: str) -> str:
    """Map a language tag (``zh-CN``, ``en_US``, ``ZH``, missing) to ``zh`` or ``en``.

    Missing tags (None, NaN, ``""``) are detected from the text.

    Raises
    ------
    ValueError
        For a tag of another language.

    Examples
    --------
    >>> normalise_lang("zh-TW", "很好"), normalise_lang(None, "很好"), normalise_lang("EN_gb", "ok")
    ('zh', 'zh', 'en')
    """
    if lang is None or (isinstance(lang, float) and math.isnan(lang)) or str(lang).strip() == "":
        return detect_language(text)
    tag = str(lang).strip().lower().replace("_", "-").split("-")[0]
    if tag in ("zh", "cmn", "yue", "chi", "zho"):
        return "zh"
    if tag in ("en", "eng"):
        return "en"
    raise ValueError(f"sentiment: language {lang!r} not supported (zh, en, or empty to detect)")


def score_label(score: float) -> str | None:
    """Label of a score: negative below -0.2, positive above 0.2, neutral in between.

    Examples
    --------
    >>> [score_label(s) for s in (-0.9, -0.2, 0.0, 0.2, 0.21)]
    ['negative', 'neutral', 'neutral', 'neutral', 'positive']
    """
    if score is None or math.isnan(score):
        return None
    if score > NEUTRAL_BAND:
        return "positive"
    if score < -NEUTRAL_BAND:
        return "negative"
    return "neutral"


# ---------------------------------------------------------------- features
_vectorizers: dict[str, list] = {}
_vader = None


def _hashers(lang: str) -> list:
    if lang not in _vectorizers:
        from sklearn.feature_extraction.text import HashingVectorizer
        common = dict(n_features=N_HASH, alternate_sign=False, binary=True, norm="l2", dtype=np.float32)
        if lang == "zh":
            _vectorizers[lang] = [HashingVectorizer(analyzer="char", ngram_range=(1, 3), **common)]
        else:
            _vectorizers[lang] = [
                HashingVectorizer(analyzer="word", ngram_range=(1, 2),
                                  token_pattern=r"(?u)\b\w[\w']*\b|[!?]", **common),
                HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common),
            ]
    return _vectorizers[lang]


def _vader_scores(texts: Sequence[str]) -> np.ndarray:
    global _vader
    if _vader is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        _vader = SentimentIntensityAnalyzer()
    rows = []
    for text in texts:
        s = _vader.polarity_scores(text)
        rows.append((s["compound"], s["pos"], s["neg"]))
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), 3)


def features(texts: Sequence[str], lang: str):
    """Sparse feature matrix of ``texts`` for the ``lang`` model (also used by training).

    Hashing needs no stored vocabulary, so the model file holds only weights.
    """
    import scipy.sparse as sp
    texts = [t[:MAX_CHARS] for t in texts]
    matrix = None
    for hasher in _hashers(lang):
        part = hasher.transform(texts)
        matrix = part if matrix is None else matrix + part
    if lang == "en":
        matrix = sp.hstack([matrix, sp.csr_matrix(_vader_scores(texts))], format="csr")
    else:
        counts = np.asarray([zh_polarity_counts(t) for t in texts], dtype=np.float32).reshape(len(texts), 2)
        matrix = sp.hstack([matrix, sp.csr_matrix(counts)], format="csr")
    return matrix


# ---------------------------------------------------------------- models
class _LinearModel:
    def __init__(self, coef: np.ndarray, intercept: float, meta: dict):
        self.coef, self.intercept, self.meta = coef, intercept, meta

    def probability(self, texts: Sequence[str], lang: str) -> np.ndarray:
        z = features(texts, lang) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def save_model(path: Path, coef: np.ndarray, intercept: float, meta: dict) -> None:
    """Write weights as float16 (zero-filled buckets compress to nothing)."""
    np.savez_compressed(path, coef=coef.astype(np.float16), intercept=np.float64(intercept),
                        meta=np.array(json.dumps(meta, sort_keys=True)))


def load_model(path: Path) -> _LinearModel:
    with np.load(path, allow_pickle=False) as data:
        return _LinearModel(data["coef"].astype(np.float64), float(data["intercept"]),
                            json.loads(str(data["meta"])))


class LinearSentimentEngine:
    """The shipped engine: hashed n-grams + NB-weighted logistic regression, zh and en.

    Parameters
    ----------
    model_dir : folder with ``model_zh.npz`` and ``model_en.npz`` (default: the
        package folder).
    emotions : also name discrete emotions (our word lists, see
        :mod:`analysis.sentiment.emotions`).

    Examples
    --------
    >>> engine = LinearSentimentEngine()
    >>> out = engine.analyse(["服务很好，谢谢！", "The room was dirty and the staff were rude.", "  "],
    ...                      ["zh", None, "en"])
    >>> out[["lang", "label", "emotions"]].values.tolist()
    [['zh', 'positive', 'gratitude'], ['en', 'negative', 'anger'], ['en', None, '']]
    >>> bool(out.score.iloc[0] > 0.2), bool(out.score.iloc[1] < -0.2), bool(np.isnan(out.score.iloc[2]))
    (True, True, True)
    """

    name = "linear-hashed-ngrams"

    def __init__(self, model_dir: Path | str | None = None, emotions: bool = True):
        self.model_dir = Path(model_dir) if model_dir is not None else MODEL_DIR
        self.emotions = emotions
        self._models: dict[str, _LinearModel] = {}
        self._lock = threading.Lock()

    def model(self, lang: str) -> _LinearModel:
        """The model of ``lang``, read from disk on first use."""
        with self._lock:
            if lang not in self._models:
                path = self.model_dir / f"model_{lang}.npz"
                if not path.exists():
                    raise FileNotFoundError(f"{path} missing: run python -m analysis.sentiment.train")
                self._models[lang] = load_model(path)
            return self._models[lang]

    @staticmethod
    def _emotions(text: str) -> str:
        # Cue words of every script present: "服务太差 unacceptable" names anger from both.
        found: set[str] = set()
        if _CJK.search(text):
            found.update(detect_emotions(text, "zh"))
        if _WORD.search(_CJK.sub(" ", text)):
            found.update(detect_emotions(text, "en"))
        return ";".join(e for e in EMOTIONS if e in found)

    def analyse(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> pd.DataFrame:
        texts = ["" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t) for t in texts]
        if langs is None:
            langs = [None] * len(texts)
        if len(langs) != len(texts):
            raise ValueError(f"sentiment: {len(texts)} texts but {len(langs)} languages")
        used = [normalise_lang(lang, text) for lang, text in zip(langs, texts)]
        scores = np.full(len(texts), np.nan)
        for lang in LANGUAGES:
            rows = [i for i, (text, lg) in enumerate(zip(texts, used)) if lg == lang and text.strip()]
            if rows:
                p = self.model(lang).probability([texts[i] for i in rows], lang)
                scores[rows] = 2.0 * p - 1.0
        emotions = [self._emotions(text) if self.emotions else "" for text in texts]
        return pd.DataFrame({"lang": used, "score": scores,
                             "label": [score_label(s) for s in scores], "emotions": emotions})


_default_engine: LinearSentimentEngine | None = None


def default_engine() -> LinearSentimentEngine:
    """One shared :class:`LinearSentimentEngine` (its models load on first use)."""
    global _default_engine
    if _default_engine is None:
        _default_engine = LinearSentimentEngine()
    return _default_engine


def analyse_comments(frame: pd.DataFrame, text_column: str, lang_column: str | None = None,
                     engine: SentimentEngine | None = None) -> pd.DataFrame:
    """``frame`` plus ``score``, ``label`` and ``emotions`` of its comments.

    Parameters
    ----------
    frame : one row per comment.
    text_column : column with the free text (missing = no comment).
    lang_column : column with a language tag per row (``zh``, ``en-US``, ...);
        None or a missing tag means detect it from the CJK character share.
    engine : any :class:`SentimentEngine`; default the shipped linear engine.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` (same index) with ``score``, ``label``, ``emotions``.

    Raises
    ------
    KeyError
        If a named column is missing.

    Examples
    --------
    >>> comments = pd.DataFrame({"text": ["非常失望，房间很脏", "Great service, thank you!", None]})
    >>> analyse_comments(comments, "text")[["label", "emotions"]].values.tolist()
    [['negative', 'disappointment'], ['positive', 'joy;gratitude'], [None, '']]
    """
    for column in (text_column, lang_column):
        if column is not None and column not in frame.columns:
            raise KeyError(f"sentiment: column {column!r} not in the data "
                           f"(columns: {', '.join(map(str, frame.columns))})")
    engine = engine or default_engine()
    langs = frame[lang_column].tolist() if lang_column else None
    result = engine.analyse(frame[text_column].tolist(), langs)
    out = frame.copy()
    for column in ("score", "label", "emotions"):
        out[column] = result[column].to_numpy()
    return out
