"""What signed content a later seal covers: text, images and drawings in its rectangle, and annotations.

A second signer's visible seal is allowed on a signed contract, but a person should be told when it lies
over something the first signer signed (the amount, a clause): :class:`CoverFinder` opens the revision
before the seal with PDFium (pypdfium2, read-only, as :mod:`sealkit.pdf.placement` does) and names the text
runs, images (XObjects and inline), form XObjects, shadings, painted paths (lines, filled shapes) and
visible annotations of that page whose bounding boxes intersect the seal's rectangle. PDFium computes the
boxes from the content's real transformation matrices and glyph metrics; the verdict never depends on them.

PDFium rather than pypdf: it costs a tenth of pypdf's import time (PIL, fontTools, expat) and of its
content parsing, which made this warning the largest single cost of ``sealkit verify`` on a two-party
contract. PDFium is not thread-safe, so every use here holds one lock (verification runs in threads in
the service).
"""

from __future__ import annotations

import threading
from typing import Any

Box = tuple[float, float, float, float]


def _intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


_LOCK = threading.Lock()  # PDFium is not thread-safe


def page_content_boxes(page: Any) -> list[tuple[str, Box]]:
    """(what, box) of every top-level page object of a pypdfium2 page (text runs, images, forms, shadings,
    painted paths), in user space. Call with :data:`_LOCK` held."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    found: list[tuple[str, Box]] = []
    for obj in page.get_objects(max_depth=0):
        box: Box = tuple(obj.get_bounds())  # type: ignore[assignment]
        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            text = " ".join(textpage.get_text_bounded(*box).split())
            if text:
                found.append((f"text {text[:30]!r}", box))
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
            fill, stroke = ctypes.c_int(0), ctypes.c_int(0)
            pdfium_c.FPDFPath_GetDrawMode(obj.raw, ctypes.byref(fill), ctypes.byref(stroke))
            if fill.value != pdfium_c.FPDF_FILLMODE_NONE:
                found.append(("a drawing (filled shape)", box))
            elif stroke.value:
                found.append(("a drawing (lines)", box))
        else:
            found.append((_OBJECTS.get(obj.type, "a page object"), box))
    return found


_OBJECTS = {3: "an image", 4: "a shading", 5: "a form XObject"}  # FPDF_PAGEOBJ_IMAGE/SHADING/FORM
#: FPDF_ANNOT_* subtypes, by the name the PDF gives them
_ANNOTATIONS = {1: "/Text", 2: "/Link", 3: "/FreeText", 13: "/Stamp", 15: "/Ink", 20: "/Widget"}


def _annotations(page: Any) -> list[tuple[str, Box]]:
    """(label, rectangle) of the annotations of a pypdfium2 page that have an appearance (/AP): a form
    field by its /T, others by subtype. Call with :data:`_LOCK` held."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    found: list[tuple[str, Box]] = []
    for index in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, index)
        if not annot:
            continue
        try:
            rect = pdfium_c.FS_RECTF()
            if not pdfium_c.FPDFAnnot_HasKey(annot, b"AP") or not pdfium_c.FPDFAnnot_GetRect(
                annot, ctypes.byref(rect)
            ):
                continue
            box = (
                min(rect.left, rect.right),
                min(rect.bottom, rect.top),
                max(rect.left, rect.right),
                max(rect.bottom, rect.top),
            )
            name = _string_value(annot, b"T") if pdfium_c.FPDFAnnot_HasKey(annot, b"T") else None
            subtype = _ANNOTATIONS.get(pdfium_c.FPDFAnnot_GetSubtype(annot), "an")
            found.append((f"form field {name!r}" if name is not None else f"{subtype} annotation", box))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return found


def _string_value(annot: Any, key: bytes) -> str:
    import ctypes

    import pypdfium2.raw as pdfium_c

    size = pdfium_c.FPDFAnnot_GetStringValue(annot, key, None, 0)
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFAnnot_GetStringValue(annot, key, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)), size)
    return buffer.raw[: max(size - 2, 0)].decode("utf-16-le", errors="replace")


class CoverFinder:
    """Names what a rectangle on a page covers in a revision of ``data`` (ending at ``ends[revision]``)."""

    def __init__(self, data: bytes, ends: list[int], password: str | None = None) -> None:
        self.data = data
        self.ends = ends
        self.password = password

    def __call__(self, revision: int, page_number: int, rect: Box) -> list[str]:
        """What lies under ``rect`` on page ``page_number`` (from 1) of ``revision``; "unknown (…)" when the
        page cannot be read."""
        try:
            import pypdfium2 as pdfium

            with _LOCK:
                document = pdfium.PdfDocument(self.data[: self.ends[revision]], password=self.password)
                try:
                    page = document[page_number - 1]
                    items = page_content_boxes(page) + _annotations(page)
                finally:
                    document.close()
            return list(dict.fromkeys(what for what, box in items if _intersects(box, rect)))
        except Exception as exc:  # noqa: BLE001 - the warning is best effort; the verdict does not depend on it
            return [f"unknown (the page could not be read: {type(exc).__name__})"]
