"""The emotion of a free-text comment: the ONE function the case workflow calls.

:func:`comment_emotion` is the seam between recovery cases and a text
emotion engine. Until the trained engine (``analysis/sentiment/``) is merged
it is a **keyword rule**, and every place that shows its result says so
(:data:`ENGINE`): a short zh/en lexicon of complaint and praise words, with
a negation window, counts hits and turns them into a polarity

.. math:: s = (n_{pos} - n_{neg}) / (n_{pos} + n_{neg}),

0 when nothing matched. The label is ``negative`` below -0.2, ``positive``
above 0.2, else ``neutral``; the discrete emotions are those whose keywords
occur. Lexicon rules of this kind reach only about 0.73-0.78 accuracy on
service reviews (issue 12), which is why the engine is to be swapped in:
point :func:`comment_emotion` at it and keep the signature.
"""
from __future__ import annotations

import re

#: What produced the numbers (shown next to them in the UI).
ENGINE = "keyword rule"

#: emotion -> (zh words, en words); "joy" is the positive one.
_EMOTION_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anger": (("气愤", "愤怒", "生气", "恼火", "态度差", "态度恶劣", "投诉", "骗", "垃圾", "恶心"),
              ("angry", "furious", "outraged", "rude", "complain", "scam", "ridiculous", "unacceptable")),
    "disappointment": (("失望", "不满", "太慢", "太久", "很差", "糟糕", "没解决", "不专业", "麻烦", "排队"),
                       ("disappointed", "disappointing", "slow", "poor", "bad", "terrible", "awful",
                        "worst", "unhelpful", "unprofessional", "waited", "queue", "not resolved")),
    "worry": (("担心", "担忧", "不安", "害怕", "不放心", "风险"),
              ("worried", "worry", "concerned", "afraid", "anxious", "unsafe")),
    "joy": (("满意", "很好", "不错", "热情", "专业", "快捷", "方便", "感谢", "谢谢", "耐心", "高兴", "贴心", "放心"),
            ("great", "good", "excellent", "friendly", "helpful", "quick", "fast", "thank",
             "satisfied", "pleased", "professional", "happy", "easy", "pleasant", "convenient")),
}
_NEGATORS_ZH = ("不", "没", "没有", "并不", "不太")
_NEGATORS_EN = ("not", "no", "never", "n't", "hardly")


def _hits(text: str, lang: str) -> dict[str, int]:
    """Keyword hits per emotion; a praise word right after a negator counts as disappointment."""
    lowered = text.casefold()
    counts = {emotion: 0 for emotion in _EMOTION_WORDS}
    for emotion, (zh_words, en_words) in _EMOTION_WORDS.items():
        words = zh_words + en_words  # mixed-language comments are common
        for word in words:
            # English words match whole words only ("professional" is not in "unprofessional").
            pattern = re.escape(word.casefold()) if word in zh_words else rf"\b{re.escape(word)}"
            for match in re.finditer(pattern, lowered):
                before = lowered[max(0, match.start() - 6):match.start()]
                negated = (any(before.endswith(n) for n in _NEGATORS_ZH) if word in zh_words else
                           any(re.search(rf"\b{re.escape(n)}\s*$", before.rstrip()) or
                               before.rstrip().endswith(n) for n in _NEGATORS_EN))
                if emotion == "joy" and negated:
                    counts["disappointment"] += 1
                elif not negated or word in ("不满", "没解决"):
                    # A negated complaint ("not slow") is no evidence either way;
                    # 不满 and 没解决 carry their own negation.
                    counts[emotion] += 1
    return counts


def comment_emotion(text: str | None, lang: str = "zh") -> tuple[float, str, list[str]]:
    """Polarity in [-1, 1], label and discrete emotions of a comment.

    Parameters
    ----------
    text : the comment (``None`` or blank: neutral, no emotions).
    lang : ``"zh"`` or ``"en"``: the respondent's language; both lexicons are
        tried, since comments mix languages.

    Returns
    -------
    (score, label, emotions): ``label`` is negative / neutral / positive,
    ``emotions`` a list among anger, disappointment, worry, joy.

    Examples
    --------
    >>> comment_emotion("排队太久，柜员态度差，很失望", "zh")
    (-1.0, 'negative', ['anger', 'disappointment'])
    >>> comment_emotion("Friendly staff, thank you!", "en")
    (1.0, 'positive', ['joy'])
    >>> comment_emotion("The service was not good", "en")[1]
    'negative'
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    if not text or not text.strip():
        return 0.0, "neutral", []
    counts = _hits(text, lang)
    negative = counts["anger"] + counts["disappointment"] + counts["worry"]
    positive = counts["joy"]
    total = negative + positive
    score = 0.0 if total == 0 else (positive - negative) / total
    label = "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"
    return float(score), label, [emotion for emotion, count in counts.items() if count]
