"""What an appearance stream paints, and where: a small content-stream interpreter for the imprint check.

:func:`read_painting` reads a form XObject's content (tokenised by :mod:`sealkit.pdf.pdf_lexer`) keeping the
part of the graphics state that decides *what is seen*: the transformation (``q``/``Q``/``cm``), the clip (as
a box, and whether it is an exact axis-aligned rectangle), the ExtGState in force (blend mode, constant alpha,
soft mask, transfer function), text objects and optional content. Nested form XObjects are followed with their
/Matrix and /BBox. Every painting operation becomes a :class:`Paint` — an image XObject, a stencil mask, an
inline image, text, a path, a shading — with the box it can touch in the outer form's space; operators it does
not know (outside ``BX``/``EX``), XObjects it cannot follow and content it cannot read are listed in
``Painting.unknown``, so that the caller never mistakes "not understood" for "nothing painted".

Boxes of images, paths and shadings are exact bounds (clip applied). Text is bounded for certain only by the
clip; its ``estimate`` (from the font size and the number of characters, as :mod:`sealkit.pdf.overlap` does)
is approximate, and unknown for Type 3 fonts (then it is the clip's box).
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from sealkit.pdf.overlap import Box, _intersects
from sealkit.pdf.pdf_lexer import content_operations

Matrix = tuple[float, ...]  # (a, b, c, d, e, f)
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def multiply(m: list[float], n: list[float]) -> list[float]:
    """The product ``m × n`` of two PDF matrices ``[a b c d e f]`` (``m`` applied first)."""
    a, b, c, d, e, f = m
    g, h, i, j, k, l_ = n
    return [a * g + b * i, a * h + b * j, c * g + d * i, c * h + d * j, e * g + f * i + k, e * h + f * j + l_]


def unit_box(matrix: list[float]) -> Box:
    """The bounding box of the unit square mapped by ``matrix`` (where an image drawn under it lands)."""
    points = [
        (x * matrix[0] + y * matrix[2] + matrix[4], x * matrix[1] + y * matrix[3] + matrix[5])
        for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))
    ]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


#: Blend modes that draw an opaque picture as itself (Multiply: ink on paper, what sealkit writes).
PLAIN_BLEND_MODES = {"/Normal", "/Compatible", "/Multiply"}
#: Operators that neither paint nor change where or how later painting lands.
_NEUTRAL = {
    b"J", b"j", b"M", b"d", b"ri", b"i", b"CS", b"cs", b"SC", b"SCN", b"sc", b"scn", b"G", b"g", b"RG",
    b"rg", b"K", b"k", b"Tc", b"Tw", b"TL", b"Tz", b"Ts", b"MP", b"DP", b"d0", b"d1", b"h",
}  # fmt: skip
_PATH_POINTS = {b"m": 1, b"l": 1, b"c": 3, b"v": 2, b"y": 2}
_STROKE = {b"S", b"s", b"B", b"B*", b"b", b"b*"}
_FILL = {b"f", b"F", b"f*"}
_SHOW = {b"Tj", b"TJ", b"'", b'"'}
#: Work limits: nested forms, and operators read in all (a form drawn many times is read many times).
MAX_DEPTH = 8
MAX_OPERATIONS = 200_000


@dataclass
class Paint:
    """One painting operation: what it is, the box it can touch, and how it is drawn."""

    kind: str  # image | image-mask | inline-image | text | path | shading
    box: Box  # an exact bound in the outer form's space (text: the clip's box)
    estimate: Box  # text: its approximate box; otherwise ``box``
    matrix: Matrix = IDENTITY  # the transformation in force (images: where the unit square lands)
    clip: Box | None = None  # the clip in force, None: only the outer form's BBox
    clip_exact: bool = True  # the clip is an axis-aligned rectangle (else ``clip`` is only its bounds)
    effects: tuple[str, ...] = ()  # what the graphics state does to its look (blend mode, alpha, masks)
    optional: bool = False  # inside optional content (/OC): shown or not depending on the viewer
    image: Any = None  # the image XObject (kind image or image-mask)
    text: str = ""  # the shown bytes decoded as WinAnsi (simple fonts only)


@dataclass
class Painting:
    """Everything an appearance paints, in order, and what could not be understood."""

    paints: list[Paint] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if what not in self.unknown:
            self.unknown.append(what)


@dataclass
class _State:
    ctm: Matrix
    clip: Box | None
    clip_exact: bool = True
    blend: str = "/Normal"
    alpha: float = 1.0
    stroke_alpha: float = 1.0
    soft_mask: bool = False
    transfer: bool = False
    line_width: float = 1.0
    font: Any = None
    font_size: float = 0.0
    h_scale: float = 100.0
    rise: float = 0.0
    leading: float = 0.0
    text_mode: int = 0

    def effects(self, stroke: bool = False) -> tuple[str, ...]:
        found = []
        if self.blend not in PLAIN_BLEND_MODES:
            found.append(f"blend mode {self.blend}")
        alpha = min(self.alpha, self.stroke_alpha) if stroke else self.alpha
        if alpha < 1:
            found.append(f"transparency {alpha:g}")
        if self.soft_mask:
            found.append("a soft mask")
        if self.transfer:
            found.append("a transfer function")
        return tuple(found)


def transform_box(box: Box, matrix: Matrix) -> Box:
    """The bounds of ``box`` after ``matrix``."""
    x1, y1, x2, y2 = box
    return unit_box(list(multiply([x2 - x1, 0, 0, y2 - y1, x1, y1], list(matrix))))


def axis_aligned(matrix: Matrix) -> bool:
    """True if ``matrix`` maps rectangles to axis-aligned rectangles."""
    a, b, c, d = matrix[:4]
    return (abs(b) < 1e-9 and abs(c) < 1e-9) or (abs(a) < 1e-9 and abs(d) < 1e-9)


def _meet(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] <= box[2] and box[1] <= box[3] else (box[0], box[1], box[0], box[1])


def read_painting(form: Any, *, resources: Any = None) -> Painting:
    """What the form XObject ``form`` (a pyHanko stream) paints, in its own space (its /Matrix not applied).

    The form's /BBox is the first clip. Never raises for odd content: it is listed in ``unknown``."""
    painting = Painting()
    try:
        bbox = _box(form["/BBox"])
    except Exception:  # noqa: BLE001 - a form without a usable /BBox shows nothing a viewer agrees on
        painting.note("the appearance has no usable /BBox")
        return painting
    _Reader(painting).run(form, _State(IDENTITY, bbox), resources, 0)
    return painting


def _box(value: Any) -> Box:
    x1, y1, x2, y2 = (float(v) for v in value)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _number(value: Any, default: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


FAR: Box = (-1e9, -1e9, 1e9, 1e9)


class _Reader:
    """One walk over a form and the forms it draws, with its work counted."""

    def __init__(self, painting: Painting) -> None:
        self.painting = painting
        self.operations = 0

    def run(
        self, form: Any, state: _State, resources: Any, depth: int, marked: list[bool] | None = None
    ) -> None:
        """Walk ``form``'s content in ``state`` (its own /Resources, else ``resources``)."""
        own = _resolve(form.get("/Resources")) if hasattr(form, "get") else None
        try:
            operations = content_operations(bytes(form.data))
        except Exception:  # noqa: BLE001 - content that does not tokenise: viewers may still draw something
            self.painting.note("a content stream that cannot be read")
            return
        walk = _Walk(self, state, own or _resolve(resources), depth)
        walk.marked = list(marked or [])
        walk.walk(operations)


def _resolve(value: Any) -> Any:
    try:
        return value.get_object() if value is not None else None
    except Exception:  # noqa: BLE001 - a dangling reference is no resource
        return None


def _lookup(resources: Any, category: str, name: Any) -> Any:
    try:
        return resources[category][str(name)].get_object()
    except Exception:  # noqa: BLE001 - an undefined resource
        return None


class _Walk:
    """The operators of one content stream."""

    def __init__(self, reader: _Reader, state: _State, resources: Any, depth: int) -> None:
        self.reader, self.state, self.resources, self.depth = reader, state, resources, depth
        self.painting = reader.painting
        self.stack: list[_State] = []
        self.path: list[tuple[float, float]] = []
        self.path_is_rect = True
        self.pending_clip = False
        self.marked: list[bool] = []
        self.compat = 0
        self.tm: Matrix = IDENTITY
        self.tlm: Matrix = IDENTITY

    def walk(self, operations: list[tuple[list[Any], bytes]]) -> None:
        for operands, operator in operations:
            self.reader.operations += 1
            if self.reader.operations > MAX_OPERATIONS:
                self.painting.note("more content than sealkit reads")
                return
            try:
                self.step(operator, operands)
            except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError):
                self.painting.note(f"operator {operator.decode('latin-1')} with unusable operands")

    def paint(self, kind: str, box: Box, *, estimate: Box | None = None, **extra: Any) -> None:
        """Record a painting operation that can touch ``box`` (text: ``estimate`` is its approximate box)."""
        state = self.state
        bound = _meet(state.clip, box)
        stroke = extra.pop("stroke", False)
        self.painting.paints.append(
            Paint(
                kind,
                bound,
                _meet(state.clip, estimate) if estimate is not None else bound,
                matrix=state.ctm,
                clip=state.clip,
                clip_exact=state.clip_exact,
                effects=state.effects(stroke=stroke),
                optional=any(self.marked),
                **extra,
            )
        )

    def step(self, op: bytes, args: list[Any]) -> None:  # noqa: C901, PLR0912 - one branch per operator family
        state = self.state
        if op == b"q":
            self.stack.append(replace(state))
        elif op == b"Q":
            if self.stack:
                self.state = self.stack.pop()
        elif op == b"cm":
            state.ctm = tuple(multiply([_number(v) for v in args[:6]], list(state.ctm)))
        elif op == b"w":
            state.line_width = abs(_number(args[0], 1.0))
        elif op == b"gs":
            self.ext_gstate(_lookup(self.resources, "/ExtGState", args[0]))
        elif op in _PATH_POINTS:
            self.add_points([_number(v) for v in args[: 2 * _PATH_POINTS[op]]])
            self.path_is_rect = False
        elif op == b"re":
            x, y, w, h = (_number(v) for v in args[:4])
            self.path_is_rect = not self.path and axis_aligned(state.ctm)
            self.add_points([x, y, x + w, y + h, x, y + h, x + w, y])
        elif op in (b"W", b"W*"):
            self.pending_clip = True
        elif op in _STROKE or op in _FILL or op == b"n":
            self.end_path(op)
        elif op == b"sh":
            self.paint("shading", FAR)
        elif op == b"Do":
            self.xobject(args[0])
        elif op == b"INLINE IMAGE":
            self.paint("inline-image", unit_box(list(state.ctm)))
        elif op in (b"BT", b"ET"):
            self.tm = self.tlm = IDENTITY
        elif op in _SHOW:
            self.show(op, args)
        elif op in (b"Td", b"TD", b"T*", b"Tm", b"Tf", b"Tr", b"Tz", b"Ts", b"TL"):
            self.text_state(op, args)
        elif op in (b"BMC", b"BDC"):
            self.marked.append(op == b"BDC" and bool(args) and str(args[0]) == "/OC")
        elif op == b"EMC":
            if self.marked:
                self.marked.pop()
        elif op == b"BX":
            self.compat += 1
        elif op == b"EX":
            self.compat = max(self.compat - 1, 0)
        elif op not in _NEUTRAL and not self.compat:
            self.painting.note(f"operator {op.decode('latin-1')!r}")

    def ext_gstate(self, gs: Any) -> None:
        state = self.state
        if gs is None:
            self.painting.note("an undefined ExtGState")
            return
        if "/BM" in gs:
            blend = gs["/BM"]
            state.blend = str(blend[0] if isinstance(blend, list) and blend else blend)
        if "/ca" in gs:
            state.alpha = _number(gs["/ca"], 1.0)
        if "/CA" in gs:
            state.stroke_alpha = _number(gs["/CA"], 1.0)
        if "/SMask" in gs:
            state.soft_mask = str(gs["/SMask"]) != "/None"
        for key in ("/TR", "/TR2"):
            if key in gs:
                state.transfer = str(gs[key]) not in ("/Identity", "/Default")
        if "/LW" in gs:
            state.line_width = abs(_number(gs["/LW"], 1.0))
        if "/Font" in gs:
            font = gs["/Font"]
            state.font, state.font_size = _resolve(font[0]), _number(font[1])

    def add_points(self, values: list[float]) -> None:
        ctm = self.state.ctm
        for x, y in zip(values[0::2], values[1::2], strict=False):
            self.path.append((x * ctm[0] + y * ctm[2] + ctm[4], x * ctm[1] + y * ctm[3] + ctm[5]))

    def end_path(self, op: bytes) -> None:
        state = self.state
        if self.path:
            xs, ys = [p[0] for p in self.path], [p[1] for p in self.path]
            box = (min(xs), min(ys), max(xs), max(ys))
            if op in _STROKE:
                ctm = state.ctm
                grow = state.line_width * math.sqrt(abs(ctm[0] * ctm[3] - ctm[1] * ctm[2])) / 2 + 0.5
                box = (box[0] - grow, box[1] - grow, box[2] + grow, box[3] + grow)
            if op != b"n":
                self.paint("path", box, stroke=op in _STROKE)
            if self.pending_clip:
                state.clip = _meet(state.clip, (min(xs), min(ys), max(xs), max(ys)))
                state.clip_exact = state.clip_exact and self.path_is_rect
        self.path, self.path_is_rect, self.pending_clip = [], True, False

    def xobject(self, name: Any) -> None:
        state = self.state
        xobject = _lookup(self.resources, "/XObject", name)
        subtype = str(xobject.get("/Subtype", "")) if xobject is not None else ""
        if xobject is None or subtype not in ("/Image", "/Form"):
            self.painting.note(f"an XObject sealkit cannot follow ({name} {subtype or 'undefined'})")
            return
        if "/OC" in xobject:
            self.marked.append(True)
        if subtype == "/Image":
            kind = "image-mask" if xobject.get("/ImageMask", False) is True else "image"
            self.paint(kind, unit_box(list(state.ctm)), image=xobject)
        elif self.depth >= MAX_DEPTH:
            self.painting.note("form XObjects nested too deep")
        else:
            self.form(xobject)
        if "/OC" in xobject:
            self.marked.pop()

    def form(self, xobject: Any) -> None:
        state = self.state
        try:
            matrix = [_number(v) for v in xobject.get("/Matrix", IDENTITY)][:6]
            bbox = _box(xobject["/BBox"])
        except Exception:  # noqa: BLE001 - a form without a usable /BBox or /Matrix
            self.painting.note("a form XObject without a usable /BBox")
            return
        inner = replace(state, ctm=tuple(multiply(matrix, list(state.ctm))))
        inner.clip = _meet(state.clip, transform_box(bbox, inner.ctm))
        inner.clip_exact = state.clip_exact and axis_aligned(inner.ctm)
        self.reader.run(xobject, inner, self.resources, self.depth + 1, self.marked)

    def text_state(self, op: bytes, args: list[Any]) -> None:
        state = self.state
        if op == b"Tf":
            state.font, state.font_size = _lookup(self.resources, "/Font", args[0]), _number(args[1])
        elif op == b"Tr":
            state.text_mode = int(_number(args[0]))
        elif op == b"Tz":
            state.h_scale = _number(args[0], 100.0)
        elif op == b"Ts":
            state.rise = _number(args[0])
        elif op == b"TL":
            state.leading = _number(args[0])
        elif op == b"Tm":
            self.tm = self.tlm = tuple(_number(v) for v in args[:6])
        else:
            if op == b"T*":
                tx, ty = 0.0, -state.leading
            else:
                tx, ty = _number(args[0]), _number(args[1])
                if op == b"TD":
                    state.leading = -ty
            self.next_line(tx, ty)

    def next_line(self, tx: float, ty: float) -> None:
        self.tlm = self.tm = tuple(multiply([1, 0, 0, 1, tx, ty], list(self.tlm)))

    def show(self, op: bytes, args: list[Any]) -> None:
        state = self.state
        if op in (b"'", b'"'):
            self.next_line(0.0, -state.leading)
        strings = args[0] if op == b"TJ" else args[-1:]
        pieces: list[Any] = strings if isinstance(strings, list) else [strings]
        wide = state.font is not None and str(state.font.get("/Subtype", "")) == "/Type0"
        type3 = state.font is None or str(state.font.get("/Subtype", "")) == "/Type3"
        raw = b"".join(_raw(p) for p in pieces if not isinstance(p, int | float))
        adjust = sum(_number(p) for p in pieces if isinstance(p, int | float)) / 1000
        text = "" if wide else raw.decode("cp1252", errors="replace")
        ems = (
            len(raw) / 2
            if wide
            else sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.6 for c in text)
        )
        ems = max(ems - adjust, 0.0)
        size = state.font_size
        scale = [size * state.h_scale / 100, 0, 0, size, 0, state.rise]
        rendering = multiply(multiply(scale, list(self.tm)), list(state.ctm))
        estimate = transform_box((0, -0.3, max(ems, 0.5), 1.1), tuple(rendering))
        if state.text_mode not in (3, 7):  # 3: invisible, 7: a clip only
            self.paint("text", FAR, estimate=FAR if type3 else estimate, text=text)
        advance = ems * size * state.h_scale / 100
        self.tm = tuple(multiply([1, 0, 0, 1, advance, 0], list(self.tm)))


def _raw(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("latin-1", errors="replace")


def touches(paint: Paint, box: Box, *, estimated: bool = False) -> bool:
    """True if ``paint`` can touch ``box`` (``estimated``: by the text estimate, else by the exact bound)."""
    return _intersects(paint.estimate if estimated else paint.box, box)


__all__ = [
    "IDENTITY",
    "Matrix",
    "Paint",
    "Painting",
    "axis_aligned",
    "read_painting",
    "touches",
    "transform_box",
]
