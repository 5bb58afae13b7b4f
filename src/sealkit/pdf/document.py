"""Open a PDF for an incremental update with pyHanko, and turn placements into boxes on its pages.

Shared by signing and field preparation: :func:`open_for_update` opens the bytes with pyHanko's
``IncrementalPdfFileWriter`` (authenticating encrypted files with their password, refusing them clearly
without), and :func:`resolve_spots` turns a :class:`~sealkit.pdf.placement.Placement` into the page boxes
where a seal of a given size lands.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from sealkit.errors import InvalidInput, PdfError, PdfPasswordRequired, TextNotFound
from sealkit.pdf.placement import MM, PageGeometry, Placement, find_text, page_geometry


@dataclass(frozen=True)
class Spot:
    """A box on a page: page index, user-space rectangle, the page's geometry."""

    geometry: PageGeometry
    rect: tuple[float, float, float, float]

    @property
    def page(self) -> int:
        return self.geometry.index + 1

    @property
    def visible_size(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.rect
        w, h = x2 - x1, y2 - y1
        return (h, w) if self.geometry.rotate in (90, 270) else (w, h)

    @property
    def rect_mm(self) -> tuple[float, float, float, float]:
        """The box in visible millimetres (x, y, w, h) from the page's visible lower-left."""
        x1, y1, x2, y2 = self.rect
        corners = [self.geometry.to_visible(x, y) for x, y in ((x1, y1), (x2, y2))]
        us, vs = [c[0] for c in corners], [c[1] for c in corners]
        w, h = self.visible_size
        return tuple(round(v / MM, 2) for v in (min(us), min(vs), w, h))  # type: ignore[return-value]


def open_for_update(data: bytes, password: str | None) -> IncrementalPdfFileWriter:
    """An incremental writer over ``data``; encrypted files are authenticated with ``password``.

    An encrypted PDF with an empty user password (permissions only, common for government PDFs) opens
    without one. Opened with a user password (empty or not), its permissions must allow filling in forms
    (which is what signing a field is), else :class:`PdfError` says so; the owner password lifts them.
    """
    from pyhanko.pdf_utils.crypt import AuthStatus
    from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except (PyHankoPdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfError(f"cannot read the PDF: {' '.join(str(exc).split()) or type(exc).__name__}") from exc
    if writer.prev.encrypted:
        try:
            result = writer.encrypt(password or "")
        except PyHankoPdfError as exc:
            raise PdfError(f"cannot decrypt the PDF: {' '.join(str(exc).split())}") from exc
        if result.status == AuthStatus.FAILED:
            if not password:
                raise PdfPasswordRequired(
                    "the PDF is encrypted: set SEALKIT_PDF_PASSWORD (or give --password to be asked)"
                )
            raise PdfPasswordRequired("the PDF password is wrong: check SEALKIT_PDF_PASSWORD")
        if result.status == AuthStatus.USER:
            _check_may_sign(result.permission_flags)
    return writer


def _check_may_sign(flags: object) -> None:
    """:class:`PdfError` unless the permissions (/P) allow filling in forms or annotating (signing)."""
    from pyhanko.pdf_utils.crypt.permissions import StandardPermissions

    allowed = StandardPermissions.ALLOW_FORM_FILLING | StandardPermissions.ALLOW_ANNOTS_FORM_FILLING
    if not isinstance(flags, StandardPermissions) or not flags & allowed:
        raise PdfError(
            "the PDF's permissions forbid filling in forms, so it cannot be signed: ask its author for a "
            "copy that allows form filling, or set SEALKIT_PDF_PASSWORD to its owner password"
        )


def page_count(writer: IncrementalPdfFileWriter) -> int:
    return int(writer.root["/Pages"]["/Count"])


def geometry_of(writer: IncrementalPdfFileWriter, page: int) -> PageGeometry:
    """The geometry of page ``page`` (from 1; negative from the end)."""
    count = page_count(writer)
    index = page - 1 if page > 0 else count + page
    if not 0 <= index < count:
        raise InvalidInput(f"page {page} does not exist: the document has {count} pages")
    page_ref = writer.find_page_for_modification(index)[0]
    return page_geometry(page_ref.get_object(), index)


def resolve_spots(
    writer: IncrementalPdfFileWriter,
    data: bytes,
    placement: Placement,
    size_pt: tuple[float, float],
    *,
    password: str | None = None,
) -> list[Spot]:
    """The boxes of ``placement`` (rectangle or keyword hits) for a seal of ``size_pt`` (visible w, h)."""
    if placement.rect_mm is not None:
        geometry = geometry_of(writer, placement.page)
        x, y, w, h = (v * MM for v in placement.rect_mm)
        page_w, page_h = geometry.visible_size
        if x < 0 or y < 0 or x + w > page_w + 0.5 or y + h > page_h + 0.5:
            shown = ",".join(f"{v:g}" for v in placement.rect_mm)
            raise InvalidInput(
                f"the rectangle {shown} (x,y,w,h mm) does not fit on page {placement.page} "
                f"({page_w / MM:.0f} x {page_h / MM:.0f} mm): choose x+w <= {page_w / MM:.0f} and "
                f"y+h <= {page_h / MM:.0f}"
            )
        return [Spot(geometry, geometry.user_rect(x, y, w, h))]
    if placement.text is None:
        return []
    hits = find_text(data, placement.text, password=password)
    if not hits:
        raise TextNotFound(f"the text {placement.text!r} is not in the document")
    if placement.occurrence == "first":
        hits = hits[:1]
    elif placement.occurrence == "last":
        hits = hits[-1:]
    spots = []
    width, height = size_pt
    for hit in hits:
        geometry = geometry_of(writer, hit.page_index + 1)
        u, v = geometry.to_visible(*hit.centre)
        u += placement.offset_mm[0] * MM
        v += placement.offset_mm[1] * MM
        spots.append(Spot(geometry, geometry.user_rect(u - width / 2, v - height / 2, width, height)))
    return spots


def cross_page_spots(
    writer: IncrementalPdfFileWriter,
    pages: bool | tuple[int, ...],
    strip_size_pt: tuple[float, float],
    *,
    at_mm: float | None = None,
) -> list[Spot]:
    """One box per page at the right edge: where the strips of a 骑缝章 go.

    The boxes are centred vertically on the visible page, or ``at_mm`` above its bottom edge.
    """
    if pages is False:
        return []
    numbers = list(range(1, page_count(writer) + 1)) if pages is True else list(pages)
    if len(numbers) < 2:
        raise InvalidInput("a cross-page seal spans at least two pages")
    geometries = [geometry_of(writer, number) for number in numbers]
    if len({g.index for g in geometries}) != len(geometries):
        raise InvalidInput("a cross-page seal lists a page twice")
    spots = []
    width, height = strip_size_pt
    for geometry in geometries:
        page_w, page_h = geometry.visible_size
        centre = page_h / 2 if at_mm is None else at_mm * MM
        bottom = centre - height / 2
        if bottom < -0.01 or bottom + height > page_h + 0.01 or width > page_w:
            raise InvalidInput(
                f"the cross-page seal ({width / MM:.1f}×{height / MM:.1f} mm per strip, centred "
                f"{centre / MM:.1f} mm up) does not fit on page {geometry.index + 1}"
            )
        spots.append(Spot(geometry, geometry.user_rect(page_w - width, bottom, width, height)))
    return spots
