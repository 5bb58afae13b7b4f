"""Where a seal goes: by page and rectangle in millimetres, or centred on a keyword of the contract.

Coordinates are what a person measures on the page as displayed: millimetres from the lower-left corner of
the visible page (the CropBox, after ``/Rotate``), pages counted from 1 (negative: from the end, -1 is the
last page). :class:`PageGeometry` converts them to PDF user space. Keyword search reads the page content with
pypdf (reading only, safe on signed files): each text run comes with its text and transformation matrices,
whatever the font encoding (CID fonts with ToUnicode, CJK included); a keyword spanning runs is found too.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sealkit.errors import InvalidInput, PdfError, PdfPasswordRequired

MM = 72 / 25.4
Occurrence = Literal["first", "last", "all"]
RectMM = tuple[float, float, float, float]


@dataclass(frozen=True)
class Placement:
    """Where to put a seal.

    Either ``rect_mm=(x, y, w, h)`` on ``page``, or ``text`` (see :meth:`at_text`). ``cross_page`` adds a
    cross-page seal: ``True`` for every page, or the page numbers; the imprint is sliced into one strip per
    page, shown at the right edge, vertically centred on the page or centred ``cross_page_at_mm`` above the
    bottom edge. A placement with neither rect nor text puts only the strips on the page.
    """

    page: int = 1
    rect_mm: RectMM | None = None
    text: str | None = None
    offset_mm: tuple[float, float] = (0.0, 0.0)
    occurrence: Occurrence = "first"
    cross_page: bool | tuple[int, ...] = False
    cross_page_at_mm: float | None = None

    def __post_init__(self) -> None:
        if self.rect_mm is not None and self.text is not None:
            raise InvalidInput("a placement is by rectangle or by text, not both")
        if self.rect_mm is not None and (self.rect_mm[2] <= 0 or self.rect_mm[3] <= 0):
            raise InvalidInput("the rectangle needs a positive width and height")
        if self.occurrence not in ("first", "last", "all"):
            raise InvalidInput(f"occurrence must be first, last or all, not {self.occurrence!r}")
        if self.page == 0:
            raise InvalidInput("pages are numbered from 1 (or -1 for the last)")
        if self.text is not None and not self.text.strip():
            raise InvalidInput("the anchor text is empty")
        check_cross_page(self.cross_page, self.cross_page_at_mm)

    @classmethod
    def at_text(
        cls,
        text: str,
        offset_mm: tuple[float, float] = (0.0, 0.0),
        occurrence: Occurrence = "first",
        *,
        cross_page: bool | Sequence[int] = False,
        cross_page_at_mm: float | None = None,
    ) -> Placement:
        """Centre the seal on ``text`` (moved by ``offset_mm``, right and up); first, last or all hits."""
        return cls(
            text=text,
            offset_mm=offset_mm,
            occurrence=occurrence,
            cross_page=pages_arg(cross_page),
            cross_page_at_mm=cross_page_at_mm,
        )

    @classmethod
    def at_rect(
        cls,
        page: int,
        rect_mm: RectMM,
        *,
        cross_page: bool | Sequence[int] = False,
        cross_page_at_mm: float | None = None,
    ) -> Placement:
        """The box ``(x, y, w, h)`` in mm from the lower-left of page ``page``; the seal is centred in it."""
        return cls(
            page=page,
            rect_mm=tuple(rect_mm),  # type: ignore[arg-type]
            cross_page=pages_arg(cross_page),
            cross_page_at_mm=cross_page_at_mm,
        )


def pages_arg(value: bool | Sequence[int]) -> bool | tuple[int, ...]:
    """``cross_page`` as stored: ``True``/``False`` or a tuple of page numbers."""
    return value if isinstance(value, bool) else tuple(int(v) for v in value)


def check_cross_page(pages: bool | tuple[int, ...], at_mm: float | None) -> None:
    """Refuse a cross-page page list that cannot work before any page is looked at."""
    if pages is True or pages is False:
        if at_mm is not None and pages is False:
            raise InvalidInput("cross_page_at_mm places a cross-page seal: give cross_page too")
    else:
        if len(pages) < 2:
            raise InvalidInput("a cross-page seal spans at least two pages")
        if len(set(pages)) != len(pages):
            raise InvalidInput("a cross-page seal lists a page twice")
        if 0 in pages:
            raise InvalidInput("pages are numbered from 1 (or -1 for the last)")
    if at_mm is not None and at_mm <= 0:
        raise InvalidInput(
            "cross_page_at_mm is the height of the strips' centre above the page's bottom, > 0"
        )


@dataclass(frozen=True)
class PageGeometry:
    """A page's visible box and rotation, and the conversions between visible points and user space."""

    index: int
    crop: tuple[float, float, float, float]
    rotate: int

    @property
    def visible_size(self) -> tuple[float, float]:
        width, height = self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]
        return (height, width) if self.rotate in (90, 270) else (width, height)

    def to_user(self, u: float, v: float) -> tuple[float, float]:
        """Visible (u, v) in points from the visible lower-left → user space (x, y)."""
        x0, y0, x1, y1 = self.crop
        width, height = x1 - x0, y1 - y0
        dx, dy = {0: (u, v), 90: (width - v, u), 180: (width - u, height - v), 270: (v, height - u)}[
            self.rotate
        ]
        return x0 + dx, y0 + dy

    def to_visible(self, x: float, y: float) -> tuple[float, float]:
        """User space (x, y) → visible (u, v) in points."""
        x0, y0, x1, y1 = self.crop
        width, height = x1 - x0, y1 - y0
        dx, dy = x - x0, y - y0
        return {0: (dx, dy), 90: (dy, width - dx), 180: (width - dx, height - dy), 270: (height - dy, dx)}[
            self.rotate
        ]

    def user_rect(self, u: float, v: float, w: float, h: float) -> tuple[float, float, float, float]:
        """A visible rectangle (points) → the user-space rectangle (x1, y1, x2, y2)."""
        (ax, ay), (bx, by) = self.to_user(u, v), self.to_user(u + w, v + h)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def page_geometry(page: Any, index: int) -> PageGeometry:
    """The geometry of a page dictionary (pyHanko or pypdf), with inherited boxes and rotation."""
    media = _inherited(page, "/MediaBox")
    if media is None:
        media = [0, 0, 595.276, 841.89]
    crop = _inherited(page, "/CropBox") or media
    box = [float(v) for v in crop]
    media_box = [float(v) for v in media]
    # The visible area is the intersection of CropBox and MediaBox.
    x0, y0 = (
        max(min(box[0], box[2]), min(media_box[0], media_box[2])),
        max(min(box[1], box[3]), min(media_box[1], media_box[3])),
    )
    x1, y1 = (
        min(max(box[0], box[2]), max(media_box[0], media_box[2])),
        min(max(box[1], box[3]), max(media_box[1], media_box[3])),
    )
    rotate = int(_inherited(page, "/Rotate") or 0) % 360
    if rotate not in (0, 90, 180, 270):
        raise PdfError(f"page {index + 1} has an invalid /Rotate {rotate}")
    return PageGeometry(index, (x0, y0, x1, y1), rotate)


def _inherited(page: Any, key: str) -> Any:
    node, depth = page, 0
    while node is not None and depth < 64:
        if key in node:
            value = node[key]
            return value.get_object() if hasattr(value, "get_object") else value
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
        depth += 1
    return None


# --- keyword search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextHit:
    """A keyword found on a page: its page index and box in user space (x1, y1, x2, y2)."""

    page_index: int
    box: tuple[float, float, float, float]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass
class _Run:
    text: str
    x: float
    y: float
    size: float
    chars: list[tuple[float, float]] = field(default_factory=list)  # per char: x start, advance


def find_text(pdf_bytes: bytes, text: str, *, password: str | None = None) -> list[TextHit]:
    """Every occurrence of ``text`` in the document, in reading order (page, then content order).

    Whitespace is ignored on both sides, so a keyword broken over text runs or typeset with spaces between
    its characters is still found.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
        if reader.is_encrypted and not reader.decrypt(password or ""):
            raise PdfPasswordRequired(
                "the PDF is encrypted: set SEALKIT_PDF_PASSWORD (or give --password to be asked)"
            )
    except PdfReadError as exc:
        raise PdfError(f"cannot read the PDF: {exc}") from exc
    needle = "".join(text.split())
    hits: list[TextHit] = []
    for index, page in enumerate(reader.pages):
        runs = _page_runs(page)
        chars = [(c, run, i) for run in runs for i, c in enumerate(run.text) if not c.isspace()]
        haystack = "".join(c for c, _, _ in chars)
        start = haystack.find(needle)
        while start >= 0:
            span = chars[start : start + len(needle)]
            hits.append(TextHit(index, _span_box(span)))
            start = haystack.find(needle, start + len(needle))
    return hits


def _page_runs(page: Any) -> list[_Run]:
    runs: list[_Run] = []

    def visitor(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text or not text.strip():
            return
        # position and scale in user space: tm × cm
        a = tm[0] * cm[0] + tm[1] * cm[2]
        b = tm[0] * cm[1] + tm[1] * cm[3]
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (a * a + b * b) ** 0.5 or 1.0
        effective = float(size) * scale
        run = _Run(text, x, y, effective)
        cursor = x
        for char in text:
            advance = effective * _em_width(char)
            run.chars.append((cursor, advance))
            cursor += advance
        runs.append(run)

    page.extract_text(visitor_text=visitor)
    return runs


def _em_width(char: str) -> float:
    """Approximate advance of a character in ems: 1 for CJK and fullwidth forms, about half for the rest."""
    return 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.55


def _span_box(span: list[tuple[str, _Run, int]]) -> tuple[float, float, float, float]:
    lefts, rights, bottoms, tops = [], [], [], []
    for _, run, i in span:
        start, advance = run.chars[i]
        lefts.append(start)
        rights.append(start + advance)
        bottoms.append(run.y - 0.12 * run.size)
        tops.append(run.y + 0.88 * run.size)
    return min(lefts), min(bottoms), max(rights), max(tops)
