"""The multi-party flow: every party's empty signature field created before the first signature, and the
signing order.

:func:`prepare_fields` adds one empty signature field per party (a widget on the right page, placed by page
and rectangle or centred on a keyword such as "供应商（乙方）（盖章）："), all in one incremental update made
before anyone signs: after a certification signature, *adding* a field counts as a suspicious modification,
while *filling* a prepared one is allowed. ``FieldSpec(cross_page=True)`` also reserves the party's
cross-page seal (骑缝章): one more, empty widget of the same field per page, at the right edge, which
``sign_pdf`` fills with the strips of the seal when the field is signed — so a later signer, too, can
stamp the seal across the pages without adding anything an earlier signature does not already cover.

The signing order and what each field requires of its signature are stored in the document catalog's
page-piece dictionary, the place ISO 32000 gives applications for their private data::

    /PieceInfo << /Sealkit << /LastModified (D:…) /Private <<
        /SigningOrder [(供应商) (采购人)]
        /Fields [<< /T (供应商) /Seal true >>
                 << /T (采购人) /Seal true /Unit (12370102MB0000042B) >>] >> >> >>

They are written by :func:`prepare_fields` before the first signature, so every signature covers them and
a later change to them is a modification the verifier reports. :func:`check_turn` refuses a field that is
already signed, not in the order, or whose predecessors have not all signed. ``/Fields`` records
``FieldSpec.seal_required`` (default: a contract party's field is for its seal, 盖章) and ``FieldSpec.unit``
(the unified social credit code of the unit whose seal must fill it); the signer refuses to sign, and the
verifier fails, a signature that does not carry that seal (:mod:`sealkit.pdf.field_requirements`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.rw_common import PdfHandler

from sealkit.atomic import atomic_output
from sealkit.errors import InvalidInput, PdfError, SigningOrderError
from sealkit.pdf.document import Spot, check_form_fields, cross_page_spots, open_for_update, resolve_spots
from sealkit.pdf.field_requirements import (
    PIECE_KEY,
    FieldRequirement,
    private_dict,
    read_requirements,
    requirement_entries,
)
from sealkit.pdf.placement import MM, Placement, check_cross_page, pages_arg
from sealkit.seal.codes import require_uscc

#: The /NM of the widgets reserved for a cross-page seal: "sealkit-cross-page 2/3" is the strip on the
#: second of three pages.
CROSS_PAGE_NM = "sealkit-cross-page"
#: Print (4) | Locked (128), as pyHanko flags visible signature widgets.
WIDGET_FLAGS = 4 | 128


@dataclass(frozen=True)
class FieldSpec:
    """A party's signature field: its name and where its widget goes (``size_mm`` for keyword placement).

    ``cross_page`` reserves a cross-page seal (骑缝章) for the field: ``True`` for every page, or the page
    numbers. The field then gets one more, empty widget per page, a ``size_mm`` seal's strip wide, at the
    right edge (vertically centred, or centred ``cross_page_at_mm`` above the bottom edge); signing the
    field fills them with the strips of the seal. ``Placement(cross_page=...)`` in ``placement`` means
    the same.

    ``seal_required`` (default True: a contract party's field is for its seal, 盖章) makes the field take
    only a signature that carries an electronic seal; ``unit`` (a unified social credit code) requires the
    seal of that unit. ``seal_required=False`` is for a signature without a seal (签字).
    """

    name: str
    placement: Placement
    size_mm: tuple[float, float] = (42.0, 42.0)
    cross_page: bool | tuple[int, ...] = False
    cross_page_at_mm: float | None = None
    seal_required: bool = True
    unit: str | None = None

    def __post_init__(self) -> None:
        if not self.name or "." in self.name:
            raise InvalidInput(f"invalid field name {self.name!r} (non-empty, no dots)")
        if self.unit is not None:
            if not self.seal_required:
                raise InvalidInput(f"field {self.name!r}: a unit is required of a seal; the field takes none")
            object.__setattr__(self, "unit", require_uscc(self.unit, f"the unit of field {self.name!r}"))
        if not (0 < self.size_mm[0] <= 300 and 0 < self.size_mm[1] <= 300):
            raise InvalidInput(f"field size {self.size_mm[0]}×{self.size_mm[1]} mm is not plausible")
        pages = pages_arg(self.cross_page)
        at_mm = self.cross_page_at_mm
        in_placement = self.placement.cross_page
        if in_placement is not False:
            if pages is not False and pages != in_placement:
                raise InvalidInput(
                    "the cross-page seal is given twice, differently (FieldSpec and Placement)"
                )
            pages = in_placement
            if at_mm is None:
                at_mm = self.placement.cross_page_at_mm
        check_cross_page(pages, at_mm)
        object.__setattr__(self, "cross_page", pages)
        object.__setattr__(self, "cross_page_at_mm", at_mm)


@dataclass(frozen=True)
class PreparedField:
    """A field :func:`prepare_fields` created: its name, page (from 1) and box in visible mm.

    ``cross_page`` lists the widgets reserved for its cross-page seal: (page, box in visible mm) each;
    ``seal_required`` and ``unit`` are what the field requires of its signature (see :class:`FieldSpec`).
    """

    name: str
    page: int
    rect_mm: tuple[float, float, float, float]
    cross_page: tuple[tuple[int, tuple[float, float, float, float]], ...] = ()
    seal_required: bool = True
    unit: str | None = None


@dataclass(frozen=True)
class PrepareResult:
    """What :func:`prepare_fields` wrote."""

    output_path: Path
    fields: list[PreparedField]
    order: list[str] | None


def prepare_fields(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    fields: Sequence[FieldSpec],
    *,
    order: Sequence[str] | None = None,
    password: str | None = None,
) -> PrepareResult:
    """Create every party's empty signature field (and the signing order) before the first signature."""
    if not fields:
        raise InvalidInput("give at least one field")
    names = [spec.name for spec in fields]
    if len(set(names)) != len(names):
        raise InvalidInput("field names must differ")
    with _open(input_path) as data:
        writer = open_for_update(data, password)
        return _prepare(writer, data, input_path, output_path, fields, names, order, password)


def _prepare(
    writer: IncrementalPdfFileWriter,
    data: BinaryIO,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    fields: Sequence[FieldSpec],
    names: list[str],
    order: Sequence[str] | None,
    password: str | None,
) -> PrepareResult:
    """:func:`prepare_fields` on the document open in ``writer`` (read from ``data``)."""
    from pyhanko.pdf_utils.misc import PdfWriteError
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    existing = set(signature_fields(writer))
    taken = existing.intersection(names)
    if taken:
        raise InvalidInput(f"the document already has a field named {sorted(taken)[0]!r}")
    if order is not None:
        order = list(order)
        unknown = [name for name in order if name not in names and name not in existing]
        if unknown or len(set(order)) != len(order):
            raise InvalidInput(
                f"the signing order names unknown or repeated fields: {', '.join(unknown) or order}"
            )
        if read_signing_order(writer) is not None:
            raise InvalidInput("the document already has a signing order")
    prepared = []
    for spec in fields:
        size = (spec.size_mm[0] * MM, spec.size_mm[1] * MM)
        spots = resolve_spots(writer, data, spec.placement, size, password=password)
        if not spots:
            raise InvalidInput(f"field {spec.name!r} needs a page rectangle or an anchor text")
        spot: Spot = spots[0]
        strips = _strip_spots(writer, spec, size)
        check_form_fields(writer)
        try:
            append_signature_field(
                writer,
                SigFieldSpec(
                    spec.name,
                    on_page=spot.geometry.index,
                    box=spot.rect,  # type: ignore[arg-type]
                    combine_annotation=not strips,
                ),
            )
        except PdfWriteError as exc:
            raise PdfError(f"cannot add field {spec.name!r}: {exc}") from exc
        if strips:
            _reserve_strips(writer, spec.name, strips)
        reserved = tuple((s.page, s.rect_mm) for s in strips)
        prepared.append(
            PreparedField(spec.name, spot.page, spot.rect_mm, reserved, spec.seal_required, spec.unit)
        )
    required = {spec.name: FieldRequirement(spec.seal_required, spec.unit) for spec in fields}
    _write_private(writer, order, required)
    out = Path(output_path)
    with atomic_output(out, protect=(input_path,)) as handle:
        writer.write(handle)  # type: ignore[no-untyped-call]
    return PrepareResult(out, prepared, order)


def _strip_spots(writer, spec: FieldSpec, size: tuple[float, float]) -> list[Spot]:  # type: ignore[no-untyped-def]
    """Where the widgets of the field's cross-page seal go: one strip of a ``size`` seal per page."""
    if spec.cross_page is False:
        return []
    probe = cross_page_spots(writer, spec.cross_page, size, at_mm=spec.cross_page_at_mm)
    strip = (size[0] / len(probe), size[1])
    return cross_page_spots(writer, spec.cross_page, strip, at_mm=spec.cross_page_at_mm)


def _reserve_strips(writer, name: str, spots: Sequence[Spot]) -> None:  # type: ignore[no-untyped-def]
    """Add the empty strip widgets to the (just created) field ``name``.

    Like pyHanko's own widget kids they have no /Parent: poppler before 23 (Debian 12 has 22.12) takes a
    kid with /Parent for a child *field*, and would then list the signature as one unsigned field per
    widget. Readers find them from the field's /Kids, and their page from /P.
    """
    from pyhanko.sign.fields import enumerate_sig_fields

    ((_, _, field_ref),) = list(enumerate_sig_fields(writer, with_name=name))
    kids = field_ref.get_object()["/Kids"]
    for number, spot in enumerate(spots, start=1):
        page_ref = writer.find_page_for_modification(spot.geometry.index)[0]
        widget = generic.DictionaryObject(  # type: ignore[no-untyped-call]
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in spot.rect),  # type: ignore[no-untyped-call]
                pdf_name("/F"): generic.NumberObject(WIDGET_FLAGS),  # type: ignore[no-untyped-call]
                pdf_name("/P"): page_ref,
                pdf_name("/NM"): generic.TextStringObject(f"{CROSS_PAGE_NM} {number}/{len(spots)}"),
            }
        )
        widget_ref = writer.add_object(widget)
        kids.append(widget_ref)
        writer.register_annotation(page_ref, widget_ref)


def field_widgets(handler: PdfHandler, name: str):  # type: ignore[no-untyped-def]
    """The signature field ``name``: (field, its main widgets, its cross-page strip widgets in page order).

    Widgets are ``(dictionary, reference)`` pairs; a field merged with its widget is its own main widget.
    Strip widgets are the kids :func:`prepare_fields` reserved, recognised by their ``/NM``.
    """
    from pyhanko.sign.fields import enumerate_sig_fields

    for _, _, field_ref in enumerate_sig_fields(handler, with_name=name):
        field_obj = field_ref.get_object()
        return (field_obj, *split_widgets(field_obj, field_ref))
    raise PdfError(f"no signature field {name!r}")


def split_widgets(
    field_obj: generic.DictionaryObject, field_ref: generic.IndirectObject
) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """A signature field's (main widgets, cross-page strips in page order): see :func:`field_widgets`."""
    if "/Kids" not in field_obj:
        return [(field_obj, field_ref)], []
    main: list[tuple[Any, Any]] = []
    strips: list[tuple[int, Any, Any]] = []
    for kid_ref in field_obj["/Kids"]:
        kid = kid_ref.get_object()
        label = str(kid.get("/NM", ""))
        if label.startswith(CROSS_PAGE_NM + " "):
            number = label[len(CROSS_PAGE_NM) + 1 :].partition("/")[0]
            strips.append((int(number) if number.isdigit() else 0, kid, kid_ref))
        else:
            main.append((kid, kid_ref))
    strips.sort(key=lambda item: item[0])
    return main, [(kid, ref) for _, kid, ref in strips]


def _open(path: str | os.PathLike[str]) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc


def signature_fields(handler: PdfHandler) -> dict[str, bool]:
    """Every signature field of the document and whether it is signed."""
    from pyhanko.sign.fields import enumerate_sig_fields

    return {name: value is not None for name, value, _ in enumerate_sig_fields(handler)}


def read_signing_order(handler: PdfHandler) -> list[str] | None:
    """The signing order stored by :func:`prepare_fields`, or ``None``."""
    private = private_dict(handler.root)
    if private is None or "/SigningOrder" not in private:
        return None
    try:
        return [str(name) for name in private["/SigningOrder"]]
    except TypeError:
        return None


def _write_private(  # type: ignore[no-untyped-def]
    writer, order: Sequence[str] | None, requirements: dict[str, FieldRequirement]
) -> None:
    """Record the signing order and the fields' requirements (added to those of an earlier prepare)."""
    earlier = read_requirements(writer.root)
    if earlier is not None:
        if earlier.problem is not None:
            raise InvalidInput(f"{earlier.problem}: start from the unprepared document")
        requirements = {**earlier.fields, **requirements}
    private = private_dict(writer.root)
    entries = generic.DictionaryObject(dict(private.items()) if private is not None else {})  # type: ignore[no-untyped-call]
    if order is not None:
        entries[pdf_name("/SigningOrder")] = generic.ArrayObject(generic.TextStringObject(n) for n in order)
    entries[pdf_name("/Fields")] = requirement_entries(requirements)
    root = writer.root
    piece_info = root.get("/PieceInfo")
    if piece_info is None:
        piece_info = generic.DictionaryObject()  # type: ignore[no-untyped-call]
        root[pdf_name("/PieceInfo")] = piece_info
    now = generic.pdf_date(dt.datetime.now(dt.UTC))
    piece_info[pdf_name(PIECE_KEY)] = generic.DictionaryObject(  # type: ignore[no-untyped-call]
        {pdf_name("/LastModified"): now, pdf_name("/Private"): entries}
    )
    writer.update_root()


def check_turn(handler: PdfHandler, field: str) -> None:
    """Refuse to sign ``field`` when it is already signed or, with a signing order, not its turn."""
    status = signature_fields(handler)
    if status.get(field):
        raise SigningOrderError(f"field {field!r} is already signed")
    order = read_signing_order(handler)
    if order is None:
        return
    if field not in order:
        raise SigningOrderError(f"field {field!r} is not in the signing order ({', '.join(order)})")
    for earlier in order[: order.index(field)]:
        if not status.get(earlier):
            raise SigningOrderError(f"{field!r} signs after {earlier!r}, who has not signed yet")


def next_field(handler: PdfHandler) -> str | None:
    """The prepared field to sign next: the first unsigned one in the signing order, else the only unsigned
    signature field; None when that is ambiguous or every field is signed."""
    status = signature_fields(handler)
    order = read_signing_order(handler)
    if order is not None:
        return next((name for name in order if not status.get(name)), None)
    unsigned = [name for name, signed in status.items() if not signed]
    return unsigned[0] if len(unsigned) == 1 else None


def next_unsigned_field(path: str | os.PathLike[str], *, password: str | None = None) -> str | None:
    """:func:`next_field` of the PDF at ``path`` (``sealkit sign contract.pdf`` fills it by default)."""
    from sealkit.pdf.document import open_for_update

    with _open(path) as data:
        return next_field(open_for_update(data, password))
