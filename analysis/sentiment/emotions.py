"""Discrete emotions named in a comment, from our own zh and en word lists.

The lists below were written for this project (surveyapp, its licence) from
the vocabulary of service complaints and praise; they are not taken from
NRC EmoLex (its licence forbids commercial use without a fee) nor from the
DUTIR emotion ontology (academic use only). Each emotion is one of the
categories the background texts on customer emotion management name
(anger, disappointment, worry, sadness on the negative side; joy, gratitude
on the positive side), after Shaver et al. (1987) "Emotion knowledge:
further exploration of a prototype approach", J. Pers. Soc. Psychol. 52(6),
whose basic-level categories anger, sadness, fear and joy contain
disappointment (under sadness), worry (under fear) and gratitude (under
love/joy).

A cue counts unless a negator stands right before it ("not happy",
"不满意" is listed as its own cue, "不开心" is caught by the negation rule).
"""
from __future__ import annotations

import re

#: Emotions reported, in a fixed order (also the order of the output string).
EMOTIONS: tuple[str, ...] = ("anger", "disappointment", "worry", "sadness", "joy", "gratitude")

#: Emotions that count as negative, for consumers that need the split.
NEGATIVE_EMOTIONS = frozenset({"anger", "disappointment", "worry", "sadness"})

EN_CUES: dict[str, tuple[str, ...]] = {
    "anger": ("angry", "anger", "furious", "outraged", "outrageous", "mad at", "pissed",
              "annoyed", "annoying", "irritated", "irritating", "infuriating", "fed up",
              "unacceptable", "ridiculous", "rude", "disgusting", "hate", "livid", "scam",
              "ripped off", "rip-off", "never again", "worst"),
    "disappointment": ("disappointed", "disappointing", "disappointment", "let down", "letdown",
                       "expected better", "expected more", "not worth", "waste of", "wasted",
                       "underwhelming", "mediocre", "shame", "pity", "unfortunately", "regret"),
    "worry": ("worried", "worry", "worrying", "concerned", "concern", "anxious", "anxiety",
              "afraid", "scared", "fear", "nervous", "unsafe", "uncertain", "unsure", "hope it",
              "not sure", "doubt"),
    "sadness": ("sad", "unhappy", "upset", "depressed", "heartbroken", "miserable", "sorry to",
                "crying", "cried", "lonely", "hurt"),
    "joy": ("happy", "glad", "delighted", "love", "loved", "enjoy", "enjoyed", "great", "excellent",
            "wonderful", "amazing", "awesome", "fantastic", "pleased", "satisfied", "perfect",
            "lovely", "brilliant", "fun", "excited", "superb"),
    "gratitude": ("thank", "thanks", "thankful", "grateful", "appreciate", "appreciated",
                  "appreciation", "kudos", "cheers"),
}

ZH_CUES: dict[str, tuple[str, ...]] = {
    "anger": ("生气", "气愤", "愤怒", "恼火", "火大", "气死", "可恶", "太过分", "过分", "无语",
              "垃圾", "骗子", "坑人", "坑爹", "欺骗", "投诉", "态度恶劣", "态度差", "恶心", "忍无可忍",
              "岂有此理", "受够", "再也不", "差评", "最差", "烂"),
    "disappointment": ("失望", "不满意", "不满", "遗憾", "可惜", "后悔", "不值", "名不副实",
                       "一般般", "不如", "没想到这么差", "白花", "浪费", "上当", "不怎么样", "凑合"),
    "worry": ("担心", "担忧", "害怕", "怕", "焦虑", "不安", "顾虑", "着急", "紧张", "忐忑",
              "不放心", "恐怕", "隐患", "不安全", "提心吊胆"),
    "sadness": ("难过", "伤心", "郁闷", "沮丧", "委屈", "心痛", "心寒", "悲伤", "痛苦", "不开心",
                "难受", "哭"),
    "joy": ("开心", "高兴", "快乐", "满意", "喜欢", "愉快", "惊喜", "很棒", "太棒", "好极了", "超赞",
            "赞", "完美", "舒服", "舒适", "享受", "好吃", "不错", "爱了", "棒"),
    "gratitude": ("谢谢", "感谢", "多谢", "谢了", "感恩", "感激", "辛苦了", "致谢"),
}

# Negators that turn a cue off when they come right before it.
_EN_NEGATION = re.compile(r"\b(?:not|no|never|n't|hardly|isn't|wasn't|don't|didn't|doesn't|"
                          r"aren't|weren't|won't|cannot|can't|without)\s+(?:\w+\s+)?$")
_ZH_NEGATORS = ("不", "没", "没有", "别", "未", "无", "非", "不太", "不是很", "不怎么")


def _compile_en(cues: dict[str, tuple[str, ...]]) -> dict[str, re.Pattern]:
    return {emotion: re.compile(r"\b(?:" + "|".join(re.escape(c) for c in sorted(words, key=len, reverse=True))
                                + r")", re.IGNORECASE)
            for emotion, words in cues.items()}


_EN_PATTERNS = _compile_en(EN_CUES)
_ZH_PATTERNS = {emotion: re.compile("|".join(re.escape(c) for c in sorted(words, key=len, reverse=True)))
                for emotion, words in ZH_CUES.items()}


def _negated_zh(text: str, start: int, cue: str) -> bool:
    # A cue that itself begins with a negator (不满意, 不值) is never "negated".
    if cue.startswith(("不", "没", "无")):
        return False
    before = text[max(0, start - 4):start]
    return before.endswith(_ZH_NEGATORS)


def detect_emotions(text: str, lang: str) -> tuple[str, ...]:
    """Emotions whose cue words occur (not negated) in ``text``.

    Parameters
    ----------
    text : the comment.
    lang : ``"zh"`` or ``"en"``.

    Returns
    -------
    tuple of str
        Emotion names from :data:`EMOTIONS`, in that order, each at most once.

    Raises
    ------
    ValueError
        If ``lang`` is neither ``"zh"`` nor ``"en"``.

    Examples
    --------
    >>> detect_emotions("Very rude staff, I am furious and disappointed.", "en")
    ('anger', 'disappointment')
    >>> detect_emotions("I was not happy with the wait.", "en")
    ()
    >>> detect_emotions("服务太差了，非常失望，再也不来了", "zh")
    ('anger', 'disappointment')
    >>> detect_emotions("谢谢你们，很开心", "zh")
    ('joy', 'gratitude')
    >>> detect_emotions("一点都不开心", "zh")
    ('sadness',)
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"emotions: language {lang!r} not supported (zh, en)")
    if not text:
        return ()
    found = []
    if lang == "en":
        for emotion in EMOTIONS:
            for match in _EN_PATTERNS[emotion].finditer(text):
                if not _EN_NEGATION.search(text[max(0, match.start() - 30):match.start()].lower()):
                    found.append(emotion)
                    break
    else:
        for emotion in EMOTIONS:
            for match in _ZH_PATTERNS[emotion].finditer(text):
                if not _negated_zh(text, match.start(), match.group()):
                    found.append(emotion)
                    break
    return tuple(found)
