"""Chinese polarity word lists (ours) used as lexicon features of the zh model.

Written for this project from the vocabulary of service, hotel, food and
delivery reviews (what survey comments talk about), not copied from HowNet,
NTUSD, DUTIR or BosonNLP (their licences are academic-only or unstated).
A word counts with its polarity flipped when a negator stands right before it
("不好" negative, "不差" positive); words that already contain the negation
("不错", "不满意") are listed as they are.
"""
from __future__ import annotations

import math
import re

ZH_POSITIVE: tuple[str, ...] = (
    "好", "很好", "不错", "满意", "喜欢", "推荐", "值得", "干净", "整洁", "舒适", "舒服", "方便", "便宜",
    "实惠", "划算", "优惠", "热情", "周到", "细心", "耐心", "贴心", "礼貌", "友好", "专业", "及时", "快",
    "迅速", "准时", "新鲜", "好吃", "美味", "可口", "香", "入味", "地道", "正宗", "分量足", "量大", "足",
    "安静", "宽敞", "漂亮", "温馨", "棒", "赞", "完美", "优秀", "一流", "超值", "物美价廉", "性价比高",
    "感谢", "谢谢", "开心", "愉快", "惊喜", "放心", "靠谱", "给力", "周全", "到位", "准确", "齐全",
    "丰富", "精致", "大方", "高效", "顺利", "温暖", "体贴", "满分", "好评", "还会再来", "下次还来",
    "会再来", "回头客", "五星", "点赞", "清爽", "卫生", "稳定", "流畅", "好用", "实用", "划得来",
)

ZH_NEGATIVE: tuple[str, ...] = (
    "差", "很差", "太差", "不好", "不满意", "失望", "后悔", "脏", "乱", "吵", "噪音", "臭", "味道大",
    "异味", "霉", "潮湿", "旧", "破", "坏", "慢", "太慢", "等了", "迟到", "超时", "晚到", "凉了", "冷了",
    "凉", "难吃", "咸", "太咸", "淡", "油腻", "不新鲜", "变质", "馊", "有虫", "头发", "恶心", "少",
    "分量少", "量少", "少送", "漏送", "送错", "洒了", "漏了", "贵", "太贵", "不值", "坑", "骗",
    "欺骗", "敷衍", "冷漠", "态度差", "态度恶劣", "不耐烦", "不理", "没人理", "粗鲁", "无礼", "推诿",
    "投诉", "退款", "退货", "差评", "垃圾", "糟糕", "烂", "最差", "再也不", "不会再来", "无语", "生气",
    "郁闷", "麻烦", "问题", "故障", "不能用", "失灵", "不方便", "不行", "一般", "凑合", "不如", "简陋",
    "狭小", "拥挤", "偏僻", "难找", "隔音差", "没有热水", "不干净", "不卫生", "拉肚子", "不准",
    "虚假", "不符", "缩水", "劣质", "质量差", "卡顿", "死机", "等太久", "忘了", "没送", "取消",
)

_NEGATORS = ("不", "没", "没有", "别", "未", "无", "不太", "不是很", "不怎么", "并不", "一点也不", "一点都不")


_POLARITY = {**{w: 1 for w in ZH_POSITIVE}, **{w: -1 for w in ZH_NEGATIVE}}
# One alternation, longest word first, so overlapping words ("不好" in "不好吃") count once.
_WORDS = re.compile("|".join(re.escape(w) for w in sorted(_POLARITY, key=len, reverse=True)))


def zh_polarity_counts(text: str) -> tuple[float, float]:
    """``(log(1 + positive hits), log(1 + negative hits))``, negated hits counted on the other side.

    Examples
    --------
    >>> [round(x, 3) for x in zh_polarity_counts("房间干净，服务热情，就是早餐不好吃")]
    [1.099, 0.693]
    >>> [round(x, 3) for x in zh_polarity_counts("位置不差")]
    [0.693, 0.0]
    """
    counts = {1: 0, -1: 0}
    for match in _WORDS.finditer(text):
        word = match.group()
        polarity = _POLARITY[word]
        before = text[max(0, match.start() - 4):match.start()]
        if not word.startswith(("不", "没", "无")) and before.endswith(_NEGATORS):
            polarity = -polarity
        counts[polarity] += 1
    return math.log1p(counts[1]), math.log1p(counts[-1])
