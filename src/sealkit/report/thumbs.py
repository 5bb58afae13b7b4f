"""Thumbnails of the sealed pages, the seal's rectangle marked in red: what the report shows a reader.

Pages are rendered by pypdfium2 (PDFium, already sealkit's page reader for keyword placement: no external
program, the same renderer everywhere), with the page's own /Rotate taken off first so that the marked
rectangle, in unrotated user space, lands where the seal is; the picture is then turned as a viewer shows it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass

Rect = tuple[float, float, float, float]

#: Thumbnail width in pixels (the PDF prints it about 55 mm wide: ~ 200 dpi).
WIDTH_PX = 440
MARK = (220, 0, 0)


@dataclass(frozen=True)
class Thumbnail:
    """One rendered page (``page`` counts from 1) with the seal's rectangles drawn on it, as PNG."""

    page: int
    png: bytes
    width_px: int
    height_px: int


def render_thumbnails(
    data: bytes, marks: Iterable[tuple[int, Rect]], *, limit: int = 6, password: str | None = None
) -> tuple[list[Thumbnail], int]:
    """Thumbnails of the pages in ``marks`` ((page index from 0, rect) pairs), at most ``limit`` pages.

    Returns the thumbnails and how many sealed pages were left out. A page PDFium cannot render is skipped
    (logged at debug level): the report still lists the seal's page and rectangle.
    """
    import pypdfium2 as pdfium

    by_page: dict[int, list[Rect]] = {}
    for page, rect in marks:
        by_page.setdefault(page, []).append(rect)
    pages = sorted(by_page)
    shown, left_out = pages[:limit], max(len(pages) - limit, 0)
    thumbnails: list[Thumbnail] = []
    if not shown:
        return thumbnails, left_out
    try:
        document = pdfium.PdfDocument(data, password=password)
        document.init_forms()  # signature appearances are form widgets: draw them
    except Exception:  # noqa: BLE001 - no thumbnails for a file PDFium cannot open
        logging.getLogger(__name__).debug("no thumbnails", exc_info=True)
        return [], len(pages)
    try:
        for index in shown:
            try:
                thumbnails.append(_render(document, index, by_page[index]))
            except Exception:  # noqa: BLE001
                logging.getLogger(__name__).debug("page %d not rendered", index + 1, exc_info=True)
                left_out += 1
    finally:
        document.close()
    return thumbnails, left_out


def _render(document: object, index: int, rects: list[Rect]) -> Thumbnail:
    from PIL import ImageDraw

    page = document[index]  # type: ignore[index]
    try:
        rotation = page.get_rotation()
        page.set_rotation(0)
        left, bottom, right, top = page.get_bbox()  # the crop box, inherited ones included
        scale = WIDTH_PX / max(right - left, 1.0)
        if (top - bottom) * scale > 4 * WIDTH_PX:  # an absurdly tall page: keep the picture bounded
            scale = 4 * WIDTH_PX / (top - bottom)
        image = page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
    finally:
        page.close()
    draw = ImageDraw.Draw(image)
    width = max(2, round(WIDTH_PX / 150))
    for x0, y0, x1, y1 in rects:
        box = ((x0 - left) * scale, (top - y1) * scale, (x1 - left) * scale, (top - y0) * scale)
        draw.rectangle(box, outline=MARK, width=width)
    if rotation:
        image = image.rotate(-rotation, expand=True)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width - 1, image.height - 1), outline=(160, 160, 160), width=1)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return Thumbnail(index + 1, out.getvalue(), image.width, image.height)
