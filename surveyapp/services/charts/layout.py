"""Where text goes on a chart: wrapped labels, their size, labels placed without overlap,
arrows that end at the edge of a box.

Pure geometry, no plotly and no statistics. Sizes are estimated from the
characters (a CJK character is about one font size wide, other characters
about 0.62 of it: a slight overestimate for Latin text in the dashboard's
sans-serif font, so boxes never come out too small).

Placement works in pixels at the smallest plot a chart is drawn at (its
``scale``: pixels per data unit at that size). A label is centred on a point
given in data coordinates while its size is in pixels, so on a larger plot
every distance between two centres grows and their sizes do not: labels that
do not overlap at the smallest size never overlap at a larger one.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

LINE_BREAK = "<br>"
#: Height of a line of text as a multiple of the font size.
LINE_HEIGHT = 1.3
#: Width of a non-CJK character as a share of the font size (an overestimate: boxes fit).
NARROW_WIDTH = 0.62
#: Punctuation that must not start a line (it stays with the character before it).
CLOSING = set("，。、；：？！）》」』】〕,.;:?!)]}%")
_TAG = re.compile(r"<[^>]+>")


def _wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in ("W", "F")


def _columns(text: str) -> int:
    """Display width in columns: 2 for a CJK character, 1 for anything else."""
    return sum(2 if _wide(c) else 1 for c in text)


def _tokens(text: str) -> list[str]:
    """Words, single CJK characters and spaces; closing punctuation stays with what precedes it."""
    tokens: list[str] = []
    for piece in re.findall(r"\s+|\S", text):
        if piece.isspace():
            tokens.append(" ")
        elif tokens and (piece in CLOSING or (not _wide(piece) and not tokens[-1].isspace()
                                              and not _wide(tokens[-1][-1]))):
            tokens[-1] += piece  # a word goes on; punctuation never starts a line
        else:
            tokens.append(piece)
    return tokens


def wrap_label(text: str, width: int = 28, separator: str = LINE_BREAK) -> str:
    """``text`` broken into lines of at most ``width`` columns (a CJK character is two columns).

    English breaks at spaces (a space where a line breaks is replaced by the
    separator); Chinese breaks between any two characters except before closing
    punctuation. A word longer than ``width`` gets a line of its own. Runs of
    spaces become one.

    Examples
    --------
    >>> wrap_label("Employees of Example Bank give you prompt service.", 20)
    'Employees of Example<br>Bank give you prompt<br>service.'
    >>> wrap_label("示例银行的员工会迅速为我提供服务。", 16)
    '示例银行的员工会<br>迅速为我提供服<br>务。'
    """
    if width < 1:
        raise ValueError(f"width must be at least 1 column, got {width}")
    lines: list[str] = []
    current, current_width, space = "", 0, False
    for token in _tokens(" ".join(str(text).split())):
        if token == " ":
            space = bool(current)
            continue
        token_width = _columns(token)
        added = token_width + (1 if space else 0)
        if current and current_width + added > width:
            lines.append(current)
            current, current_width = token, token_width
        else:
            current += (" " if space else "") + token
            current_width += added
        space = False
    if current or not lines:
        lines.append(current)
    return separator.join(lines)


def unwrap_label(label: str) -> str:
    """The text of a :func:`wrap_label` label on one line, tags removed (what a reader reads)."""
    return " ".join(_TAG.sub("", part) for part in label.split(LINE_BREAK))


def text_size(text: str, font_size: float) -> tuple[float, float]:
    """Estimated ``(width, height)`` in pixels of ``text`` (lines split at ``<br>``, tags ignored).

    Examples
    --------
    >>> text_size("12", 12)
    (14.88, 15.6)
    >>> text_size("满意<br>度", 10)
    (20.0, 26.0)
    """
    lines = [_TAG.sub("", line) for line in text.split(LINE_BREAK)]
    width = max(sum(font_size if _wide(c) else NARROW_WIDTH * font_size for c in line) for line in lines)
    return round(float(width), 6), round(len(lines) * LINE_HEIGHT * font_size, 6)


# --------------------------------------------------------------------------
# Boxes and placement
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle (pixels or data units; y grows upwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def around(cls, x: float, y: float, width: float, height: float) -> "Box":
        return cls(x - width / 2, y - height / 2, x + width / 2, y + height / 2)

    def overlaps(self, other: "Box") -> bool:
        """True when the two share interior area (touching edges do not overlap)."""
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def inside(self, other: "Box") -> bool:
        return self.x0 >= other.x0 and self.x1 <= other.x1 and self.y0 >= other.y0 and self.y1 <= other.y1

    def crosses(self, start: tuple[float, float], end: tuple[float, float]) -> bool:
        """True when the segment from ``start`` to ``end`` passes through the box's interior
        (Liang-Barsky clipping: the segment's parameter interval inside all four sides is not empty).

        Examples
        --------
        >>> Box(0, 0, 2, 2).crosses((-1, 1), (3, 1)), Box(0, 0, 2, 2).crosses((-1, 3), (3, 3))
        (True, False)
        """
        (x0, y0), (x1, y1) = start, end
        dx, dy = x1 - x0, y1 - y0
        low, high = 0.0, 1.0
        for p, q in ((-dx, x0 - self.x0), (dx, self.x1 - x0), (-dy, y0 - self.y0), (dy, self.y1 - y0)):
            if p == 0:
                if q <= 0:
                    return False  # parallel to this side and outside (or on) it
                continue
            t = q / p
            if p < 0:
                low = max(low, t)
            else:
                high = min(high, t)
        return low < high

    def overlap_area(self, other: "Box") -> float:
        width = min(self.x1, other.x1) - max(self.x0, other.x0)
        height = min(self.y1, other.y1) - max(self.y0, other.y0)
        return max(0.0, width) * max(0.0, height)


#: Directions tried around a point, in order of preference: above, right, below, left, diagonals.
DIRECTIONS = [(0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)]


def place_labels(points: Sequence[tuple[float, float]], sizes: Sequence[tuple[float, float]],
                 scale: tuple[float, float], area: Box, obstacles: Iterable[Box] = (),
                 gaps: Sequence[float] = (4, 12, 22, 34, 48, 64, 82)) -> list[tuple[float, float]]:
    """Centres (data units) for labels of ``sizes`` (pixels) near ``points`` (data units), none overlapping.

    ``scale`` is pixels per data unit (x, y) at the smallest size the chart is
    drawn at; ``area`` the plot area and ``obstacles`` what labels must not cover
    (markers, corner notes), both in pixels at that scale. Labels are placed in
    order; each takes the first position, nearest ring first, in one of
    :data:`DIRECTIONS` at ``gaps`` pixels from its point that stays inside
    ``area`` and overlaps no placed label or obstacle. When none does, the
    position overlapping least is taken (:func:`overlapping_pairs` tells).

    Examples
    --------
    Two points one pixel apart get labels on different sides:

    >>> place_labels([(0.5, 0.5), (0.51, 0.5)], [(10, 10), (10, 10)], (100, 100), Box(0, 0, 100, 100))
    [(0.5, 0.59), (0.6, 0.5)]
    """
    if len(points) != len(sizes):
        raise ValueError(f"{len(points)} points but {len(sizes)} label sizes")
    kx, ky = scale
    if kx <= 0 or ky <= 0:
        raise ValueError(f"scale must be positive pixels per unit, got {scale}")
    blocked = list(obstacles)
    placed: list[tuple[float, float]] = []
    for (x, y), (width, height) in zip(points, sizes):
        px, py = x * kx, y * ky
        best, best_overlap = None, math.inf
        for gap in gaps:
            for dx, dy in DIRECTIONS:
                cx = px + dx * (gap + width / 2)
                cy = py + dy * (gap + height / 2)
                box = Box.around(cx, cy, width, height)
                overlap = sum(box.overlap_area(other) for other in blocked)
                if not box.inside(area):
                    overlap += width * height  # outside the plot counts as covering something
                if overlap < best_overlap:
                    best, best_overlap = (cx, cy, box), overlap
                if overlap == 0:
                    break
            if best_overlap == 0:
                break
        cx, cy, box = best
        blocked.append(box)
        placed.append((round(cx / kx, 6), round(cy / ky, 6)))
    return placed


def overlapping_pairs(boxes: Sequence[Box]) -> list[tuple[int, int]]:
    """Index pairs of boxes that overlap."""
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


# --------------------------------------------------------------------------
# Arrows between boxes
# --------------------------------------------------------------------------

def edge_point(centre: tuple[float, float], half_size: tuple[float, float],
               towards: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from the centre of a box to ``towards`` crosses the box's edge.

    ``half_size`` is (half width, half height), all in the same units.

    Examples
    --------
    >>> edge_point((0, 0), (2, 1), (10, 0))
    (2.0, 0.0)
    >>> edge_point((0, 0), (2, 1), (4, 4))
    (1.0, 1.0)
    """
    (cx, cy), (hw, hh) = centre, half_size
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        raise ValueError("the segment has no direction: both ends are the box's centre")
    # The segment leaves the box through the side it reaches first.
    t = min(hw / abs(dx) if dx else math.inf, hh / abs(dy) if dy else math.inf)
    return (round(cx + t * dx, 12), round(cy + t * dy, 12))


def arrow_between(source: tuple[float, float], source_half: tuple[float, float],
                  target: tuple[float, float], target_half: tuple[float, float]
                  ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Start and end of an arrow from one box to another: the centre line clipped at both edges.

    Examples
    --------
    >>> arrow_between((0, 0), (1, 1), (10, 0), (2, 1))
    ((1.0, 0.0), (8.0, 0.0))
    """
    return edge_point(source, source_half, target), edge_point(target, target_half, source)


def label_along(start: tuple[float, float], end: tuple[float, float], share: float, offset: float,
                scale: tuple[float, float] = (1.0, 1.0)) -> tuple[float, float]:
    """A point ``share`` of the way from ``start`` to ``end``, moved ``offset`` pixels to the left
    of the direction of travel (so the labels of two opposite arrows fall on different sides).

    ``scale``: pixels per data unit (x, y); the result is in data units.

    Examples
    --------
    >>> label_along((0, 0), (10, 0), 0.5, 2)
    (5.0, 2.0)
    >>> label_along((10, 0), (0, 0), 0.5, 2)
    (5.0, -2.0)
    """
    kx, ky = scale
    (x0, y0), (x1, y1) = start, end
    dx, dy = (x1 - x0) * kx, (y1 - y0) * ky
    length = math.hypot(dx, dy) or 1.0
    px, py = x0 * kx + share * dx - offset * dy / length, y0 * ky + share * dy + offset * dx / length
    return (round(px / kx, 9), round(py / ky, 9))
