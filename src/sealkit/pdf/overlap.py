"""What signed content a later seal covers: text and images drawn in its rectangle, and annotations.

A second signer's visible seal is allowed on a signed contract, but a person should be told when it lies
over something the first signer signed (the amount, a clause): :class:`CoverFinder` reads the revision
before the seal with pypdf (read-only) and names the text runs, images (``Do``) and visible annotations of
that page whose boxes intersect the seal's rectangle. Positions are approximate (text width from the
character count), which is enough for a warning; the verdict never depends on it.
"""

from __future__ import annotations

import io
import unicodedata
from typing import Any

Box = tuple[float, float, float, float]


def _intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _multiply(m: list[float], n: list[float]) -> list[float]:
    a, b, c, d, e, f = m
    g, h, i, j, k, l_ = n
    return [a * g + b * i, a * h + b * j, c * g + d * i, c * h + d * j, e * g + f * i + k, e * h + f * j + l_]


def _unit_box(matrix: list[float]) -> Box:
    points = [
        (x * matrix[0] + y * matrix[2] + matrix[4], x * matrix[1] + y * matrix[3] + matrix[5])
        for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))
    ]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def page_content_boxes(page: Any) -> list[tuple[str, Box]]:
    """(what, box) of every text run and XObject drawn by a pypdf page's content, in user space."""
    found: list[tuple[str, Box]] = []

    def on_text(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text or not text.strip():
            return
        matrix = _multiply([float(v) for v in tm], [float(v) for v in cm])
        scale = (matrix[0] ** 2 + matrix[1] ** 2) ** 0.5 or 1.0
        height = float(size or 1) * scale
        width = sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.55 for c in text) * height
        x, y = matrix[4], matrix[5]
        found.append((f"text {text.strip()[:30]!r}", (x, y - 0.2 * height, x + width, y + 0.9 * height)))

    def on_operator(operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        if operator == b"Do" and operands:
            found.append((f"image or form {operands[0]}", _unit_box([float(v) for v in cm])))

    page.extract_text(visitor_text=on_text, visitor_operand_before=on_operator)
    return found


class CoverFinder:
    """Names what a rectangle on a page covers in a revision of ``data`` (ending at ``ends[revision]``)."""

    def __init__(self, data: bytes, ends: list[int], password: str | None = None) -> None:
        self.data = data
        self.ends = ends
        self.password = password
        self._readers: dict[int, Any] = {}

    def _reader(self, revision: int) -> Any:
        if revision not in self._readers:
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(self.data[: self.ends[revision]]), strict=False)
            if reader.is_encrypted:
                reader.decrypt(self.password or "")
            self._readers[revision] = reader
        return self._readers[revision]

    def __call__(self, revision: int, page_number: int, rect: Box) -> list[str]:
        """What lies under ``rect`` on page ``page_number`` (from 1) of ``revision``; "unknown (…)" when the
        page cannot be read."""
        try:
            page = self._reader(revision).pages[page_number - 1]
            under = [what for what, box in page_content_boxes(page) if _intersects(box, rect)]
            for annot in page.get("/Annots") or []:
                annot = annot.get_object()
                box = [float(v) for v in annot.get("/Rect", [])] if "/AP" in annot else []
                if len(box) == 4:
                    normal = (
                        min(box[0], box[2]),
                        min(box[1], box[3]),
                        max(box[0], box[2]),
                        max(box[1], box[3]),
                    )
                    if _intersects(normal, rect):
                        name = annot.get("/T")
                        label = (
                            f"form field {str(name)!r}"
                            if name is not None
                            else f"{annot.get('/Subtype')} annotation"
                        )
                        under.append(label)
            return list(dict.fromkeys(under))
        except Exception as exc:  # noqa: BLE001 - the warning is best effort; the verdict does not depend on it
            return [f"unknown (the page could not be read: {type(exc).__name__})"]
