"""Open a PDF for an incremental update with pyHanko, and turn placements into boxes on its pages.

Shared by signing and field preparation: :func:`open_for_update` opens the bytes with pyHanko's
``IncrementalPdfFileWriter`` (authenticating encrypted files with their password, refusing them clearly
without), and :func:`resolve_spots` turns a :class:`~sealkit.pdf.placement.Placement` into the page boxes
where a seal of a given size lands.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, BinaryIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from sealkit.errors import InvalidInput, PdfError, PdfPasswordRequired, TextNotFound
from sealkit.pdf import _pyhanko_speedups
from sealkit.pdf.placement import MM, PageGeometry, PdfSource, Placement, find_text, page_geometry

_pyhanko_speedups.install()


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


class _PageLocatingWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, finding pages in the page tree from the nearer end, once each.

    pyHanko walks the page tree from the first page and parses every page object before the one asked
    for: 3,000 page dictionaries to reach the last page of a 3,000-page contract (about 2.6 s here, four
    times pyHanko's whole invisible signature). This walk follows the same rules (``/Count`` of every
    intermediate node, ``/Type`` of every kid it passes, no cycles) but starts from the end nearer the page,
    and remembers every page it passes, so a seal on the last page parses one page object and a seal on
    every page parses each page once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages_seen: dict[int, tuple[Any, Any, int, Any]] = {}
        self._indexed = False

    def insert_page(self, *args: Any, **kwargs: Any) -> Any:
        self._pages_seen.clear()  # the page numbers after the new page move
        self._indexed = False
        return super().insert_page(*args, **kwargs)

    def find_page_for_modification(self, page_ix: int) -> tuple[Any, Any]:
        page_ref, parent_ref, kid_index, resources = self._locate(page_ix)
        page = page_ref.get_object()
        if "/Resources" in page:
            resources = page.raw_get("/Resources")
        return page_ref, resources

    def find_page_container(self, page_ix: int) -> tuple[Any, int, Any]:
        page_ref, parent_ref, kid_index, resources = self._locate(page_ix)
        return parent_ref, kid_index, resources

    def index_pages(self) -> None:
        """Find every page in one pass over the page tree, before seals go on many pages.

        Each intermediate node's ``/Count`` must equal the pages found under it (the walk above relies on
        it): a tree that says otherwise is refused rather than sealed on the wrong pages.
        """
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.misc import PdfReadError

        if self._indexed:
            return
        cursor = 0

        def walk(node_ref: Any, resources: Any, seen: frozenset[Any]) -> None:
            nonlocal cursor
            if len(seen) > 64:
                raise PdfReadError("the page tree is too deep")
            node = node_ref.get_object()
            if "/Resources" in node:
                resources = node.raw_get("/Resources")
            start = cursor
            kids = node["/Kids"]
            for kid_index in range(len(kids)):
                kid_ref, kid = _page_tree_kid(kids, kid_index, seen)
                if kid["/Type"] == "/Pages":
                    walk(kid_ref, resources, seen | {kid_ref.reference})
                elif kid["/Type"] == "/Page":
                    self._pages_seen[cursor] = (kid_ref, node_ref, kid_index, resources)
                    cursor += 1
            if cursor - start != int(node["/Count"]):
                raise PdfReadError("a page tree node's /Count is not the number of pages under it")

        root_ref = self.root.raw_get("/Pages")
        root = root_ref.get_object()
        walk(
            root_ref,
            root.raw_get("/Resources") if "/Resources" in root else generic.DictionaryObject(),
            frozenset({root_ref.reference}),
        )
        self._indexed = True

    def _locate(self, page_ix: int) -> tuple[Any, Any, int, Any]:
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError
        from pyhanko.pdf_utils.misc import PdfReadError

        root_ref = self.root.raw_get("/Pages")
        root = root_ref.get_object()
        total = int(root["/Count"])
        if page_ix < 0:
            page_ix += total
        if not 0 <= page_ix < total:
            raise PyHankoPdfError("Page index out of range")
        if page_ix in self._pages_seen:
            return self._pages_seen[page_ix]
        resources = root.raw_get("/Resources") if "/Resources" in root else generic.DictionaryObject()
        node_ref, first, seen = root_ref, 0, {root_ref.reference}
        for _ in range(64):  # page trees are shallow; deeper is hostile
            node = node_ref.get_object()
            kids = node["/Kids"]
            if "/Resources" in node:
                resources = node.raw_get("/Resources")
            count = int(node["/Count"])
            backwards = page_ix - first >= count / 2
            order = range(len(kids) - 1, -1, -1) if backwards else range(len(kids))
            cursor = first + count - 1 if backwards else first
            for kid_index in order:
                kid_ref, kid = _page_tree_kid(kids, kid_index, seen)
                if kid["/Type"] == "/Pages":
                    span = int(kid["/Count"])
                    low = cursor - span + 1 if backwards else cursor
                    if low <= page_ix < low + span:
                        node_ref, first = kid_ref, low
                        seen.add(kid_ref.reference)
                        break
                    cursor += -span if backwards else span
                elif kid["/Type"] == "/Page":
                    self._pages_seen[cursor] = (kid_ref, node_ref, kid_index, resources)
                    if cursor == page_ix:
                        return self._pages_seen[cursor]
                    cursor += -1 if backwards else 1
            else:
                raise PyHankoPdfError("Page not found")
        raise PdfReadError("the page tree is too deep")


def _page_tree_kid(kids: Any, index: int, seen: Any) -> tuple[Any, Any]:
    """The reference and object of a page-tree node's ``index``-th kid; indirect and not seen on this path,
    or :class:`PdfReadError` (a hostile tree)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfReadError

    kid_ref = kids.raw_get(index)
    if not isinstance(kid_ref, generic.IndirectObject):
        raise PdfReadError("Page tree node children must be indirect objects")
    if kid_ref.reference in seen:
        raise PdfReadError("Circular reference in page tree")
    return kid_ref, kid_ref.get_object()


def open_for_update(data: bytes | BinaryIO, password: str | None) -> IncrementalPdfFileWriter:
    """An incremental writer over ``data`` (the bytes, or a seekable binary stream that stays open while
    the writer is used: pyHanko reads objects from it as they are needed); encrypted files are
    authenticated with ``password``.

    An encrypted PDF with an empty user password (permissions only, common for government PDFs) opens
    without one. Opened with a user password (empty or not), its permissions must allow filling in forms
    (which is what signing a field is), else :class:`PdfError` says so; the owner password lifts them.
    """
    from pyhanko.pdf_utils.crypt import AuthStatus
    from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError

    try:
        stream = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
        writer = _PageLocatingWriter(stream, strict=False)
    except (PyHankoPdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfError(
            f"cannot read the PDF, it is damaged ({_damage(exc)}): save it again from the program that made "
            "it, or repair a copy (qpdf IN.pdf OUT.pdf), check that copy and sign it"
        ) from exc
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


def _damage(exc: Exception) -> str:
    """What pyHanko's reader could not read, in one line (a missing key is named as such)."""
    if isinstance(exc, KeyError) and exc.args:
        return f"a required entry {exc.args[0]} is missing"
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_may_sign(flags: object) -> None:
    """:class:`PdfError` unless the permissions (/P) allow filling in forms or annotating (signing)."""
    from pyhanko.pdf_utils.crypt.permissions import StandardPermissions

    allowed = StandardPermissions.ALLOW_FORM_FILLING | StandardPermissions.ALLOW_ANNOTS_FORM_FILLING
    if not isinstance(flags, StandardPermissions) or not flags & allowed:
        raise PdfError(
            "the PDF's permissions forbid filling in forms, so it cannot be signed: ask its author for a "
            "copy that allows form filling, or set SEALKIT_PDF_PASSWORD to its owner password"
        )


def check_form_fields(writer: IncrementalPdfFileWriter) -> None:
    """:class:`PdfError` unless the form's ``/Fields`` is an array of field dictionaries (by reference), the
    shape pyHanko's field insertion walks. Viewers skip broken entries; a signature field added to such a
    form by sealkit would crash, so the file is refused up front with what is wrong (qpdf's
    ``form-errors.pdf`` and ``form-bad-fields-array.pdf`` have these shapes)."""
    from pyhanko.pdf_utils import generic

    form = writer.root.get("/AcroForm")
    if not isinstance(form, generic.DictionaryObject) or "/Fields" not in form:
        return
    fields = form["/Fields"]
    problem = None
    if not isinstance(fields, generic.ArrayObject):
        problem = f"its /Fields is a {_kind(fields)}, not an array"
    else:
        for index in range(len(fields)):
            entry = fields.raw_get(index)
            if not isinstance(entry, generic.IndirectObject):
                problem = f"entry {index + 1} of its /Fields is a direct {_kind(entry)}, not a reference"
            elif not isinstance(entry.get_object(), generic.DictionaryObject):
                problem = f"entry {index + 1} of its /Fields is a {_kind(entry.get_object())}, not a field"
            if problem is not None:
                break
    if problem is not None:
        raise PdfError(
            f"cannot add a signature field: the PDF's form is damaged ({problem}); save the PDF again from "
            "the program that made it (or print it to a new PDF) and sign that copy"
        )


def _kind(value: object) -> str:
    """A PDF object's type in words (``number``, ``name``, ``dictionary`` …)."""
    name = type(value).__name__.removesuffix("Object")
    return {"Number": "number", "Float": "number", "Name": "name", "Dictionary": "dictionary"}.get(
        name, name.lower() or "value"
    )


def page_count(writer: IncrementalPdfFileWriter) -> int:
    return int(writer.root["/Pages"]["/Count"])


def geometry_of(writer: IncrementalPdfFileWriter, page: int) -> PageGeometry:
    """The geometry of page ``page`` (from 1; negative from the end)."""
    count = page_count(writer)
    index = page - 1 if page > 0 else count + page
    if not 0 <= index < count:
        raise InvalidInput(f"page {page} does not exist: the document has {count} pages")
    from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError

    try:
        page_ref = writer.find_page_for_modification(index)[0]
    except (PyHankoPdfError, KeyError, TypeError, ValueError) as exc:
        raise PdfError(f"cannot find page {index + 1} in the page tree: {exc}") from exc
    return page_geometry(page_ref.get_object(), index)


def _index_pages(writer: IncrementalPdfFileWriter) -> None:
    """Locate every page at once when seals go on many (a writer of pyHanko's own finds them one by one)."""
    from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError

    if isinstance(writer, _PageLocatingWriter):
        try:
            writer.index_pages()
        except (PyHankoPdfError, KeyError, TypeError, ValueError) as exc:
            raise PdfError(f"cannot read the page tree: {exc}") from exc


def resolve_spots(
    writer: IncrementalPdfFileWriter,
    source: PdfSource,
    placement: Placement,
    size_pt: tuple[float, float],
    *,
    password: str | None = None,
) -> list[Spot]:
    """The boxes of ``placement`` (rectangle or keyword hits) for a seal of ``size_pt`` (visible w, h).

    ``source`` is the document ``writer`` was opened on (path, bytes or stream): keyword search reads it.
    """
    if placement.rect_mm is not None:
        geometry = geometry_of(writer, placement.page or 1)
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
    hits = find_text(
        source, placement.text, password=password, occurrence=placement.occurrence, page=placement.page
    )
    if not hits:
        where = f"on page {placement.page}" if placement.page is not None else "in the document"
        raise TextNotFound(f"the text {placement.text!r} is not {where}")
    if len(hits) > 1:
        _index_pages(writer)
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
    _index_pages(writer)
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
