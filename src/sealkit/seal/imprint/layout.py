"""Where every glyph of a seal imprint goes: a pure function from kind, name and size to glyph boxes in mm.

:func:`layout_seal` does what a seal maker does. Round and oval seals carry the name upright along the upper
arc, read clockwise from the left and evenly spaced; the arc spans more for long names (up to 270°) and the
glyphs get narrower and then smaller as the name grows, never touching. The purpose line (合同专用章,
财务专用章, 发票专用章), the taxpayer number of an invoice seal and the serial (on the lower arc of round
seals, a line on ovals and squares) are fitted around it so that nothing collides. Square seals set their
characters in right-to-left columns (:func:`grid_columns`), a person's name with 印 or 之印
(:func:`personal_seal_text`).

The result, :class:`SealLayout`, is plain data; :func:`layout_problems` measures it (gaps between glyphs,
clearance from the border and the star) and :func:`layout_seal` never returns a layout with problems.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from sealkit.errors import InvalidInput
from sealkit.seal.imprint.geometry import ELLIPSE_SLACK, Box, Region, box_distance, point_box_distance

GAP = 0.3  #: least distance between two glyph boxes, mm
MARGIN = 0.45  #: least distance between a glyph box and the inner edge of the border, mm
STAR_GAP = 0.6  #: least distance between the star's circumcircle and a glyph box, mm

PURPOSES = {"contract": "合同专用章", "finance": "财务专用章", "invoice": "发票专用章"}


@dataclass(frozen=True)
class Kind:
    """A kind of seal: its shape, default size (mm), allowed widths, border, star and purpose line."""

    shape: str  # round, oval or square
    size: tuple[float, float]
    widths: tuple[float, float]
    star: bool = False


KINDS: dict[str, Kind] = {
    "official": Kind("round", (42, 42), (38, 42), star=True),
    "contract": Kind("round", (40, 40), (38, 45), star=True),
    "finance": Kind("square", (22, 22), (18, 25)),
    "finance-round": Kind("round", (38, 38), (38, 42), star=True),
    "legal-rep": Kind("square", (20, 20), (15, 22)),
    "invoice": Kind("oval", (40, 30), (40, 40)),
    "oval": Kind("oval", (45, 30), (35, 50)),
}


@dataclass(frozen=True)
class Glyph:
    """One character in its box. ``face`` ``cjk`` fills the box with the em square; ``digit`` with the cap
    height of Latin letters and digits. ``role``: name, purpose, number, serial or grid."""

    char: str
    box: Box
    role: str
    face: str = "cjk"


@dataclass(frozen=True)
class Star:
    cx: float
    cy: float
    radius: float


@dataclass(frozen=True)
class SealLayout:
    """Everything drawn on a seal, in mm from its centre (y down)."""

    kind: str
    width: float
    height: float
    shape: str  # circle, ellipse or square
    border: float
    star: Star | None
    glyphs: tuple[Glyph, ...]

    @property
    def region(self) -> Region:
        """The inside of the border."""
        shape = {"round": "circle", "oval": "ellipse"}.get(self.shape, self.shape)
        return Region(shape, self.width / 2 - self.border, self.height / 2 - self.border)


class _NoFit(Exception):
    pass


# --- arcs ---


def name_span(n: int, limit: float) -> float:
    """The arc (degrees) a name of ``n`` characters covers: 45° a character for short names, then a span
    growing from 200° (5 characters) to ``limit`` (270° on round seals)."""
    return min(limit, n * 45.0, 180 + 8 * (n - 2.5))


def _arc(
    text: str, region: Region, h: float, w: float, span: float, *, bottom: bool, role: str, face: str
) -> list[Glyph]:
    """``text`` evenly spaced (by arc length) over ``span`` degrees of the upper (or lower) arc of the
    region, each glyph upright to the arc, its outer corners ``MARGIN`` inside the border."""
    a0, b0 = region.a, region.b
    curvature = min(a0, b0) ** 2 / max(a0, b0)  # smallest radius of curvature of the border
    depth = MARGIN + h / 2 + (w / 2) ** 2 / (2 * max(curvature - MARGIN, 1.0))
    for _ in range(12):
        glyphs = _arc_at(text, a0 - depth, b0 - depth, h, w, span, bottom=bottom, role=role, face=face)
        excess = max(_excess(region, g.box) for g in glyphs)
        if excess <= 1:
            return glyphs
        depth += (excess - 1) * min(a0, b0) + 0.01
    raise _NoFit


def _excess(region: Region, box: Box) -> float:
    """How far the box pokes out of the border less ``MARGIN`` (1 or less: it fits)."""
    a, b = region.a - MARGIN - ELLIPSE_SLACK, region.b - MARGIN - ELLIPSE_SLACK
    return max(math.sqrt((x / a) ** 2 + (y / b) ** 2) for x, y in box.corners())


def _arc_at(
    text: str, a: float, b: float, h: float, w: float, span: float, *, bottom: bool, role: str, face: str
) -> list[Glyph]:
    n = len(text)
    half = math.radians(span) / 2
    centre = math.pi if bottom else 0.0
    steps = 240
    ts = [centre - half + 2 * half * i / steps for i in range(steps + 1)]
    points = [(a * math.sin(t), -b * math.cos(t)) for t in ts]
    lengths = [0.0]
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        lengths.append(lengths[-1] + math.hypot(x2 - x1, y2 - y1))
    total = lengths[-1]
    glyphs = []
    for i, char in enumerate(text):
        target = total * (i + 0.5) / n
        j = min(max(bisect.bisect_left(lengths, target), 1), steps)
        part = (target - lengths[j - 1]) / ((lengths[j] - lengths[j - 1]) or 1.0)
        t = ts[j - 1] + (ts[j] - ts[j - 1]) * part if n > 1 else centre
        if bottom:  # read left to right: from the larger angle down
            t = 2 * centre - t
        x, y = a * math.sin(t), -b * math.cos(t)
        angle = math.degrees(math.atan2(math.sin(t) / max(a, 1e-6), math.cos(t) / max(b, 1e-6)))
        if bottom:
            angle -= 180
        glyphs.append(Glyph(char, Box(x, y, w, h, angle), role, face))
    return glyphs


def _neighbours_apart(glyphs: list[Glyph]) -> bool:
    return all(box_distance(p.box, q.box) >= GAP for p, q in zip(glyphs, glyphs[1:], strict=False))


def _fit_arc(
    text: str,
    region: Region,
    h_max: float,
    span: float,
    *,
    bottom: bool = False,
    role: str = "name",
    face: str = "cjk",
    aspect: tuple[float, float] = (0.55, 0.85),
) -> list[Glyph]:
    """The arc with the largest glyphs that keep their gaps: first narrower (down to ``aspect[0]`` of the
    height), then smaller."""
    rough = min(region.a, region.b) - MARGIN - h_max / 2  # the radius of the glyphs' centres, roughly
    pitch = rough * math.radians(span) / max(len(text), 1)
    h = h_max if len(text) < 2 else min(h_max, (pitch - GAP) / aspect[0] * 1.1)
    while h > 0.8:
        widest = aspect[1] * h

        def ok(w: float, h: float = h) -> list[Glyph] | None:
            try:
                glyphs = _arc(text, region, h, w, span, bottom=bottom, role=role, face=face)
            except _NoFit:
                return None
            return glyphs if _neighbours_apart(glyphs) else None

        best = ok(widest)
        if best is None:
            lo, hi = 0.0, widest
            for _ in range(10):
                mid = (lo + hi) / 2
                if ok(mid) is not None:
                    lo = mid
                else:
                    hi = mid
            if lo >= aspect[0] * h:
                best = ok(lo)
        if best is not None:
            return best
        h *= 0.95
    raise _NoFit


# --- lines ---


@dataclass(frozen=True)
class _Line:
    text: str
    y: float  # centre, mm below the seal's centre
    h: float
    aspect: float  # glyph width / height
    spacing: float  # gap between glyphs / height
    role: str
    face: str = "cjk"


def _line(line: _Line, scale: float) -> list[Glyph]:
    h = line.h * scale
    w, gap = h * line.aspect, max(h * line.spacing, GAP + 0.02)
    n = len(line.text)
    left = -(n * w + (n - 1) * gap) / 2
    return [
        Glyph(c, Box(left + w / 2 + i * (w + gap), line.y, w, h), line.role, line.face)
        for i, c in enumerate(line.text)
    ]


def _fit_lines(lines: list[_Line], region: Region, others: list[Glyph], star: Star | None) -> list[Glyph]:
    """Each line at the largest scale (1 down to 0.7) that fits the region and clears everything placed."""
    placed = list(others)
    for line in lines:
        for step in range(13):
            glyphs = _line(line, 1 - step * 0.025)
            if all(region.fits(g.box, MARGIN) for g in glyphs) and _clear(glyphs, placed, star):
                placed += glyphs
                break
        else:
            raise _NoFit
    return placed[len(others) :]


def _clear(glyphs: list[Glyph], placed: list[Glyph], star: Star | None) -> bool:
    for g in glyphs:
        if star and point_box_distance((star.cx, star.cy), g.box) < star.radius + STAR_GAP:
            return False
        if any(box_distance(g.box, p.box) < GAP for p in placed):
            return False
    return True


# --- kinds ---


def _round(
    kind: str, name: str, purpose: str, serial: str | None, diameter: float, with_star: bool
) -> SealLayout:
    r = diameter / 2
    border = 1.2 if diameter >= 38 else 1.0
    region = Region("circle", r - border, r - border)
    serial_glyphs: list[Glyph] = []
    limit = 270.0
    if serial:
        h = max(1.8, 0.1 * r)
        pitch = h * 0.55 + 0.25
        arc_r = region.a - MARGIN - h / 2
        serial_span = math.degrees(len(serial) * pitch / arc_r)
        serial_glyphs = _fit_arc(
            serial, region, h, serial_span, bottom=True, role="serial", face="digit", aspect=(0.35, 0.55)
        )
        limit = min(limit, 360 - serial_span - 30)
    star = None
    if with_star:
        star = Star(0.0, -0.07 * r if purpose else 0.0, (0.3 if purpose else 0.33) * r)
    span = name_span(len(name), limit)
    for factor in (1.0, 0.95, 0.9, 0.85, 0.8):
        try:
            glyphs = _fit_arc(name, region, 0.3 * r, span * factor)
            if star and not _clear(glyphs, serial_glyphs, star):
                raise _NoFit
            lines = [_Line(purpose, 0.42 * r, 0.21 * r, 0.85, 0.12, "purpose")] if purpose else []
            glyphs += _fit_lines(lines, region, glyphs + serial_glyphs, star)
        except _NoFit:
            continue
        return SealLayout(kind, diameter, diameter, "round", border, star, tuple(glyphs + serial_glyphs))
    raise _NoFit


def _oval(
    kind: str, name: str, lines_text: list[tuple[str, str]], serial: str | None, size: tuple[float, float]
) -> SealLayout:
    """Name on the upper arc; below it ``lines_text`` ((text, role) from top to bottom) and the serial."""
    width, height = size
    border = 1.0
    region = Region("ellipse", width / 2 - border, height / 2 - border)
    b = region.b
    specs = {
        "number": (0.1, 0.2, 0.5, 0.1, "digit"),
        "purpose": (0.57, 0.3, 0.85, 0.12, "cjk"),
    }
    lines = []
    for text, role in lines_text:
        y, h, aspect, spacing, face = specs[role]
        if role == "purpose" and not any(r == "number" for _, r in lines_text):
            y = 0.4
        lines.append(_Line(text, y * b, h * b, aspect, spacing, role, face))
    if serial:
        lines.append(_Line(serial, 0.84 * b, max(1.6, 0.12 * b), 0.55, 0.15, "serial", "digit"))
    span = name_span(len(name), 200.0)
    for factor in (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7):
        try:
            glyphs = _fit_arc(name, region, 0.32 * b, span * factor, aspect=(0.45, 0.85))
            glyphs += _fit_lines(lines, region, glyphs, None)
        except _NoFit:
            continue
        return SealLayout(kind, width, height, "oval", border, None, tuple(glyphs))
    raise _NoFit


def _square(kind: str, text: str, serial: str | None, side: float) -> SealLayout:
    border = max(0.8, side * 0.045)
    region = Region("square", side / 2 - border, side / 2 - border)
    inner = region.a - MARGIN - 0.15
    top, bottom = -inner, inner
    glyphs: list[Glyph] = []
    if serial:
        line = _Line(serial, 0.0, max(1.4, side * 0.07), 0.55, 0.12, "serial", "digit")
        line = _Line(serial, bottom - line.h / 2, line.h, line.aspect, line.spacing, "serial", "digit")
        glyphs = _fit_lines([line], region, [], None)
        bottom = min(g.box.cy - g.box.h / 2 for g in glyphs) - GAP - 0.2
    columns = grid_columns(text)
    col_gap, row_gap = max(GAP, side * 0.02), max(GAP, side * 0.015)
    cell_w = (2 * inner - col_gap * (len(columns) - 1)) / len(columns)
    for col, chars in enumerate(columns):
        cell_h = (bottom - top - row_gap * (len(chars) - 1)) / len(chars)
        x = inner - cell_w / 2 - col * (cell_w + col_gap)  # right to left
        for row, char in enumerate(chars):
            y = top + cell_h / 2 + row * (cell_h + row_gap)
            glyphs.append(Glyph(char, Box(x, y, cell_w, cell_h), "grid"))
    return SealLayout(kind, side, side, "square", border, None, tuple(glyphs))


def grid_columns(text: str) -> list[str]:
    """Split ``text`` into the columns of a square seal, right to left: the grid whose glyphs come closest
    to a seal's tall 3:4 shape (wide glyphs cost more than narrow ones); longer columns first."""
    n = len(text)

    def cost(cols: int) -> float:
        lengths = _column_lengths(n, cols)
        worst = 0.0
        for length in lengths:
            aspect = length / cols  # glyph width / height in a square
            worst = max(worst, 2 * math.log(aspect / 0.75) if aspect > 0.75 else math.log(0.75 / aspect))
        return worst

    cols = min(range(1, n + 1), key=lambda c: (round(cost(c), 6), c))
    result, start = [], 0
    for length in _column_lengths(n, cols):
        result.append(text[start : start + length])
        start += length
    return result


def _column_lengths(n: int, cols: int) -> list[int]:
    base, extra = divmod(n, cols)
    return [base + 1 if i < extra else base for i in range(cols)]


def personal_seal_text(name: str) -> str:
    """The characters of a personal square seal: 张三 -> 张三之印, 张明华 -> 张明华印, 欧阳明华 as is."""
    name = "".join(name.split())
    if not 2 <= len(name) <= 4:
        raise InvalidInput(f"a personal square seal holds a name of 2 to 4 characters, not {len(name)}")
    return {2: name + "之印", 3: name + "印", 4: name}[len(name)]


def fullwidth(text: str) -> str:
    """ASCII letters and digits as their full-width forms (ABC公司 -> ＡＢＣ公司), as seal makers cut them."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def layout_seal(
    kind: str,
    name: str,
    *,
    serial: str | None = None,
    taxpayer: str | None = None,
    purpose: str | None = None,
    size: tuple[float, float] | None = None,
) -> SealLayout:
    """The layout of a seal. ``kind`` is one of :data:`KINDS`; ``name`` the unit (a person for legal-rep);
    ``purpose`` replaces the kind's middle line (合同专用章 …); ``taxpayer`` is the invoice seal's taxpayer
    number; ``size`` (width, height) in mm defaults to the kind's. Raises InvalidInput when it cannot fit."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown seal kind {kind!r}: use one of {', '.join(KINDS)}")
    spec = KINDS[kind]
    name = fullwidth("".join(name.split()))
    if not name:
        raise InvalidInput("the seal needs a name")
    width, height = size or spec.size
    if spec.shape != "oval":
        height = width
    if not spec.widths[0] <= width <= spec.widths[1]:
        raise InvalidInput(
            f"a {kind} seal is {spec.widths[0]:g} to {spec.widths[1]:g} mm wide, not {width:g} mm"
        )
    if spec.shape == "oval" and not 0.5 * width <= height <= width:
        raise InvalidInput(
            f"an oval seal is at most as high as wide and at least half: not {width:g}×{height:g}"
        )
    if kind == "invoice" and not taxpayer:
        raise InvalidInput("an invoice seal carries the taxpayer number: give it (--taxpayer)")
    middle = PURPOSES.get(kind.removesuffix("-round"), "") if purpose is None else purpose
    try:
        if kind == "legal-rep":
            return _square(kind, personal_seal_text(name), serial, width)
        if spec.shape == "square":
            return _square(kind, name + middle, serial, width)
        if spec.shape == "oval":
            lines = ([(taxpayer, "number")] if taxpayer else []) + ([(middle, "purpose")] if middle else [])
            return _oval(kind, name, lines, serial, (width, height))
        return _round(kind, name, middle, serial, width, spec.star)
    except _NoFit:
        raise InvalidInput(
            f"the name ({len(name)} characters) does not fit a {width:g} mm {kind} seal: "
            "use a larger size or a shorter name"
        ) from None


def layout_problems(layout: SealLayout) -> list[str]:
    """What is wrong with a layout: glyphs closer than ``GAP`` to each other, or than ``MARGIN`` to the
    border, or too close to the star (empty when all is well)."""
    problems = []
    region = layout.region
    glyphs = layout.glyphs
    for i, g in enumerate(glyphs):
        clearance = region.box_clearance(g.box)
        if clearance < MARGIN - 1e-6:
            problems.append(f"{g.role} {g.char!r} is {clearance:.2f} mm from the border")
        if layout.star:
            s = layout.star
            if point_box_distance((s.cx, s.cy), g.box) < s.radius + STAR_GAP - 1e-6:
                problems.append(f"{g.role} {g.char!r} touches the star")
        for h in glyphs[i + 1 :]:
            distance = box_distance(g.box, h.box)
            if distance < GAP - 1e-6:
                problems.append(f"{g.role} {g.char!r} and {h.role} {h.char!r} are {distance:.2f} mm apart")
    return problems
