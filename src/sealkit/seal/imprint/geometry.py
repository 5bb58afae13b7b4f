"""Plane geometry for seal layouts: rotated glyph boxes, their distances, and the seal's inner region.

Coordinates are millimetres from the seal's centre, x to the right and y *down* (as in images). Angles are
degrees clockwise. A :class:`Box` is a glyph's rectangle; :func:`box_distance` is 0 for boxes that overlap
and the shortest distance between them otherwise; :class:`Region` is the inside of a seal's border (circle,
ellipse or square) and says how far a point lies from the border.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Point = tuple[float, float]
ELLIPSE_SLACK = 0.03  #: an ellipse shrunk by a margin + this lies that margin inside (seal ovals 35-50 mm)


@dataclass(frozen=True)
class Box:
    """A ``w`` × ``h`` rectangle centred at (``cx``, ``cy``), turned ``angle`` degrees clockwise."""

    cx: float
    cy: float
    w: float
    h: float
    angle: float = 0.0

    def corners(self) -> list[Point]:
        """The four corners, clockwise from the top left (as the box is read)."""
        a = math.radians(self.angle)
        cos, sin = math.cos(a), math.sin(a)
        out = []
        for x, y in (
            (-self.w / 2, -self.h / 2),
            (self.w / 2, -self.h / 2),
            (self.w / 2, self.h / 2),
            (-self.w / 2, self.h / 2),
        ):
            out.append((self.cx + x * cos - y * sin, self.cy + x * sin + y * cos))
        return out


def _axes(poly: list[Point]) -> list[Point]:
    axes = []
    for i, (x1, y1) in enumerate(poly):
        x2, y2 = poly[(i + 1) % len(poly)]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        axes.append((-(y2 - y1) / length, (x2 - x1) / length))
    return axes


def _overlap(a: list[Point], b: list[Point]) -> bool:
    """Separating-axis test for two convex polygons (touching counts as overlapping)."""
    for ax, ay in _axes(a) + _axes(b):
        pa = [x * ax + y * ay for x, y in a]
        pb = [x * ax + y * ay for x, y in b]
        if max(pa) < min(pb) or max(pb) < min(pa):
            return False
    return True


def _point_segment(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def polygon_distance(a: list[Point], b: list[Point]) -> float:
    """0 if the convex polygons overlap, else the shortest distance between them."""
    if _overlap(a, b):
        return 0.0
    best = math.inf
    for poly, other in ((a, b), (b, a)):
        for p in poly:
            for i, q in enumerate(other):
                best = min(best, _point_segment(p, q, other[(i + 1) % len(other)]))
    return best


def box_distance(a: Box, b: Box) -> float:
    """0 if the boxes overlap, else the shortest distance between them."""
    reach = math.hypot(a.w, a.h) / 2 + math.hypot(b.w, b.h) / 2
    gap = math.hypot(a.cx - b.cx, a.cy - b.cy) - reach
    if gap > 1.0:  # far apart: the distance is at least this (a lower bound); only close ones need exact
        return gap
    return polygon_distance(a.corners(), b.corners())


def point_box_distance(p: Point, box: Box) -> float:
    """0 if ``p`` is inside ``box``, else its distance to the box."""
    return polygon_distance([p], box.corners()) if not _inside_convex(p, box.corners()) else 0.0


def _inside_convex(p: Point, poly: list[Point]) -> bool:
    sign = 0
    for i, (x1, y1) in enumerate(poly):
        x2, y2 = poly[(i + 1) % len(poly)]
        cross = (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1)
        if cross != 0:
            if sign == 0:
                sign = 1 if cross > 0 else -1
            elif (cross > 0) != (sign > 0):
                return False
    return True


@dataclass(frozen=True)
class Region:
    """The inside of a seal's border: ``shape`` circle, ellipse or square, semi-axes ``a`` × ``b`` in mm."""

    shape: str
    a: float
    b: float

    def clearance(self, p: Point) -> float:
        """How far ``p`` lies inside the border (negative outside)."""
        x, y = p
        if self.shape == "square":
            return min(self.a - abs(x), self.b - abs(y))
        if self.shape == "circle" or self.a == self.b:
            return self.a - math.hypot(x, y)
        inside = (x / self.a) ** 2 + (y / self.b) ** 2 <= 1
        distance = _ellipse_distance(self.a, self.b, abs(x), abs(y))
        return distance if inside else -distance

    def box_clearance(self, box: Box) -> float:
        """The smallest clearance of the box's corners (the region is convex, so corners decide)."""
        return min(self.clearance(c) for c in box.corners())

    def fits(self, box: Box, margin: float) -> bool:
        """Whether ``box`` lies inside with at least ``margin`` to spare (a fast, slightly strict test)."""
        if self.shape == "square":
            return self.box_clearance(box) >= margin
        slack = 0.0 if self.shape == "circle" or self.a == self.b else ELLIPSE_SLACK
        a, b = self.a - margin - slack, self.b - margin - slack
        return all((x / a) ** 2 + (y / b) ** 2 <= 1 for x, y in box.corners())


def _ellipse_distance(a: float, b: float, x: float, y: float) -> float:
    """Distance from (x, y) in the first quadrant to the ellipse x²/a² + y²/b² = 1 (Newton on the angle)."""
    t = min(
        (math.pi / 2 * i / 64 for i in range(65)),
        key=lambda u: math.hypot(a * math.cos(u) - x, b * math.sin(u) - y),
    )
    for _ in range(30):
        ex, ey = a * math.cos(t), b * math.sin(t)
        dx, dy = -a * math.sin(t), b * math.cos(t)
        f = (ex - x) * dx + (ey - y) * dy
        df = dx * dx + dy * dy + (ex - x) * (-a * math.cos(t)) + (ey - y) * (-b * math.sin(t))
        if df == 0:
            break
        step = f / df
        t = min(max(t - step, 0.0), math.pi / 2)
        if abs(step) < 1e-12:
            break
    return math.hypot(a * math.cos(t) - x, b * math.sin(t) - y)
