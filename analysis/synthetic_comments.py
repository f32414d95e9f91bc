"""Free-text comments for synthetic respondents, in Chinese and English, tied to their scores.

The demo survey's respondents (:mod:`analysis.synthetic`) get comments so a
newcomer sees detected emotions and recovery cases. The model:

* **Whether a comment is written** depends on how strongly the customer
  feels: probability 0.8 at overall satisfaction 1-3, 0.35 at 4-7, 0.5 at
  8-10 (dissatisfied customers complain more often than satisfied ones
  praise; the middle says least).
* **Tone** follows overall satisfaction s on 1-10: negative for s <= 4,
  mixed (one praise, one complaint) for 5-7, positive for s >= 8.
* **Topic**: one of waiting time, staff, fees, the mobile app and the
  branch, uniformly; the sentence comes from a small bank of hand-written
  templates per topic, tone and language (written for this demo; no
  external text). Missing satisfaction gives no comment.

It is a demo generator, not a model of real text: the phrases are few and
repeat.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TOPICS = ("waiting", "staff", "fees", "app", "branch")

_NEGATIVE = {
    "zh": {"waiting": ["排队太久了，等了一个多小时，很失望。", "窗口太少，排队时间太长，非常不满。"],
           "staff": ["柜员态度差，问什么都不耐烦，很生气。", "客户经理不专业，问题一直没解决。"],
           "fees": ["收费不透明，莫名其妙扣了手续费，很气愤。", "年费太贵了，也没人提前告知，很失望。"],
           "app": ["手机银行经常闪退，转账失败好几次，很担心资金安全。", "APP 太难用，登录总出错，很麻烦。"],
           "branch": ["网点环境很差，空调坏了也没人管，糟糕。", "网点太远，营业时间短，很不方便，失望。"]},
    "en": {"waiting": ["Waited over an hour in the queue, very disappointed.", "Far too slow, I waited forever."],
           "staff": ["The clerk was rude and unhelpful. I am angry.", "Staff were unprofessional and my problem is not resolved."],
           "fees": ["Hidden fees were charged without notice, unacceptable.", "The annual fee is ridiculous, nobody told me."],
           "app": ["The app keeps crashing and a transfer failed, I am worried about my money.", "Terrible app, login fails all the time."],
           "branch": ["The branch was dirty and the air conditioning broken, awful.", "Poor opening hours, a bad experience."]},
}
_POSITIVE = {
    "zh": {"waiting": ["办理很快捷，几乎不用排队，很满意。", "效率很高，十分钟就办完了，不错。"],
           "staff": ["柜员非常热情耐心，谢谢！", "客户经理很专业，解释得很清楚，很满意。"],
           "fees": ["费用说明很清楚，没有乱收费，放心。", "手续费合理，很满意。"],
           "app": ["手机银行很方便，转账很快，不错。", "APP 设计很好用，很满意。"],
           "branch": ["网点干净整洁，环境很好，感谢。", "网点位置方便，服务贴心。"]},
    "en": {"waiting": ["Quick service, hardly any queue. Thank you!", "Fast and efficient, done in ten minutes."],
           "staff": ["Friendly and helpful staff, thank you.", "The adviser was professional and explained everything, excellent."],
           "fees": ["Fees were explained clearly, good.", "Fair fees, I am satisfied."],
           "app": ["The app is easy and quick, great.", "Great mobile app, very pleased."],
           "branch": ["Clean branch and friendly people, good.", "Convenient branch, a pleasant visit."]},
}


def synthetic_comments(overall: pd.Series, languages: pd.Series, seed: int) -> pd.Series:
    """One comment (or None) per respondent, from overall satisfaction and language.

    Parameters
    ----------
    overall : overall satisfaction on 1-10 (NaN: no comment).
    languages : ``"zh"`` or ``"en"`` per respondent, same index.
    seed : random seed (the same seed gives the same comments).

    Returns
    -------
    Series of str or None, indexed like ``overall``.

    Examples
    --------
    >>> s = synthetic_comments(pd.Series([1.0, 10.0, np.nan]), pd.Series(["zh", "en", "zh"]), seed=3)
    >>> s.isna().tolist()[2]
    True
    """
    if not overall.index.equals(languages.index):
        raise ValueError("overall and languages need the same index")
    bad = set(languages.dropna().unique()) - {"zh", "en"}
    if bad:
        raise ValueError(f"languages must be 'zh' or 'en', not {sorted(bad)}")
    rng = np.random.default_rng(seed)
    values = overall.to_numpy(dtype=float)
    chance = np.where(values <= 3, 0.8, np.where(values >= 8, 0.5, 0.35))
    writes = rng.random(len(values)) < chance
    topics = rng.integers(0, len(TOPICS), size=(len(values), 2))
    picks = rng.integers(0, 2, size=(len(values), 2))
    out: list[str | None] = []
    for i, (s, lang) in enumerate(zip(values, languages.to_numpy())):
        if not writes[i] or not np.isfinite(s):
            out.append(None)
            continue
        first, second = TOPICS[topics[i, 0]], TOPICS[topics[i, 1]]
        if s <= 4:
            text = _NEGATIVE[lang][first][picks[i, 0]]
        elif s >= 8:
            text = _POSITIVE[lang][first][picks[i, 0]]
        else:
            joiner = "" if lang == "zh" else " "
            text = _POSITIVE[lang][first][picks[i, 0]] + joiner + _NEGATIVE[lang][second][picks[i, 1]]
        out.append(text)
    return pd.Series(out, index=overall.index, dtype=object)
