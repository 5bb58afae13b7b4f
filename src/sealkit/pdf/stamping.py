"""Put the seal on the page in the revision the signature will cover.

:func:`prepare_signature_field` opens the document for an incremental update and adds, before pyHanko
computes the signature: the signature field (or finds the prepared one and checks the signing order), the
field widget's appearance (the seal), further seals for keyword ``occurrence="all"`` and the strips of a
cross-page seal (骑缝章). Those extras are ``/Stamp`` annotations flagged Print|ReadOnly|Locked|LockedContents
that only carry an appearance; being in the signed revision, the signature covers them and the verifier sees
no change after signing. Annotations added after an earlier signature would change pages it covers, so
only the first signature may add them.
"""

from __future__ import annotations

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from sealkit.errors import InvalidInput, PdfError
from sealkit.pdf.appearance import MM, SealAppearance, build_appearance, slice_strips
from sealkit.pdf.document import Spot, cross_page_spots, open_for_update, resolve_spots
from sealkit.pdf.fields import check_turn, read_signing_order, signature_fields
from sealkit.pdf.placement import PageGeometry, Placement, page_geometry

EXTRAS_AFTER_SIGNING = (
    "{what} can only be added by the first signature: the extra stamp annotations would change pages that "
    "an earlier signature covers"
)

# Print (4) | ReadOnly (64) | Locked (128) | LockedContents (512)
STAMP_FLAGS = 4 | 64 | 128 | 512


def prepare_signature_field(
    data: bytes,
    *,
    field: str | None,
    appearance: SealAppearance | None,
    placement: Placement | None,
    password: str | None,
) -> tuple[IncrementalPdfFileWriter, str, list]:  # list[StampedBox]
    """Open ``data`` and add the field, the seal and its extras; returns the writer, field name, stamps."""
    from sealkit.pdf.sign import StampedBox

    writer = open_for_update(data, password)
    existing = signature_fields(writer)
    already_signed = any(existing.values())
    stamps: list[StampedBox] = []
    placed = placement is not None and (placement.rect_mm is not None or placement.text is not None)
    if placed and appearance is None:
        raise InvalidInput("a placement needs a seal image (or sign invisibly without placement)")
    if field is not None and field in existing:
        check_turn(writer, field)
        if placed:
            raise InvalidInput(f"field {field!r} is prepared: its place is fixed, give no placement")
        spot = _widget_spot(writer, field)
        if appearance is not None and spot is not None:
            _set_widget_appearance(writer, field, spot, appearance)
            stamps.append(StampedBox(spot.page, spot.rect_mm, "field"))
        name = field
    else:
        if read_signing_order(writer) is not None:
            check_turn(writer, field or "(new field)")
        name = field or _free_name(existing)
        spots = (
            resolve_spots(writer, data, placement, appearance.size_pt, password=password)
            if placement is not None and appearance is not None
            else []
        )
        _add_field(writer, name, spots[0] if spots else None)
        if spots and appearance is not None:
            _set_widget_appearance(writer, name, spots[0], appearance)
            stamps.append(StampedBox(spots[0].page, spots[0].rect_mm, "field"))
            if len(spots) > 1 and already_signed:
                raise InvalidInput(EXTRAS_AFTER_SIGNING.format(what="more than one seal (occurrence=all)"))
            for spot in spots[1:]:
                _add_stamp(writer, spot, appearance.image_png, appearance.size_pt, appearance.text)
                stamps.append(StampedBox(spot.page, spot.rect_mm, "seal"))
    if placement is not None and placement.cross_page is not False:
        if appearance is None:
            raise InvalidInput("a cross-page seal needs a seal image")
        if already_signed:
            raise InvalidInput(EXTRAS_AFTER_SIGNING.format(what="a cross-page seal"))
        stamps.extend(_add_strips(writer, placement, appearance))
    return writer, name, stamps


def _free_name(existing: dict[str, bool]) -> str:
    number = len(existing) + 1
    while f"Signature{number}" in existing:
        number += 1
    return f"Signature{number}"


def _add_field(writer: IncrementalPdfFileWriter, name: str, spot: Spot | None) -> None:
    from pyhanko.pdf_utils.misc import PdfWriteError
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    spec = SigFieldSpec(name, on_page=spot.geometry.index if spot else 0, box=spot.rect if spot else None)  # type: ignore[arg-type]
    try:
        append_signature_field(writer, spec)
    except PdfWriteError as exc:
        raise PdfError(f"cannot add the signature field {name!r}: {exc}") from exc


def _field_and_widget(writer: IncrementalPdfFileWriter, name: str):  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils.form_tools import get_single_field_annot
    from pyhanko.sign.fields import enumerate_sig_fields

    for _, _, field_ref in enumerate_sig_fields(writer, with_name=name):
        field_obj = field_ref.get_object()
        try:
            widget = get_single_field_annot(field_obj)
        except Exception as exc:  # noqa: BLE001 - pyHanko's FormFillingError and friends
            raise PdfError(f"field {name!r} has no single widget: {exc}") from exc
        widget_ref = field_obj.raw_get("/Kids")[0] if "/Kids" in field_obj else field_ref
        return widget, widget_ref
    raise PdfError(f"no signature field {name!r}")


def _widget_spot(writer: IncrementalPdfFileWriter, name: str) -> Spot | None:
    widget, widget_ref = _field_and_widget(writer, name)
    rect = [float(v) for v in widget.get("/Rect", [0, 0, 0, 0])]
    x1, y1, x2, y2 = (
        min(rect[0], rect[2]),
        min(rect[1], rect[3]),
        max(rect[0], rect[2]),
        max(rect[1], rect[3]),
    )
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None  # an invisible field
    geometry = _widget_page(writer, widget, widget_ref)
    return Spot(geometry, (x1, y1, x2, y2))


def _widget_page(writer: IncrementalPdfFileWriter, widget, widget_ref) -> PageGeometry:  # type: ignore[no-untyped-def]
    count = int(writer.root["/Pages"]["/Count"])
    page_raw = widget.raw_get("/P") if "/P" in widget else None
    target = getattr(widget_ref, "reference", widget_ref)
    for index in range(count):
        page_ref = writer.find_page_for_modification(index)[0]
        page = page_ref.get_object()
        if page_raw is not None and getattr(page_raw, "reference", None) == page_ref.reference:
            return page_geometry(page, index)
        annots = page.get("/Annots") or []
        if any(getattr(a, "reference", None) == target for a in annots):
            return page_geometry(page, index)
    raise PdfError("the signature field's widget is on no page")


def _set_widget_appearance(
    writer: IncrementalPdfFileWriter, name: str, spot: Spot, appearance: SealAppearance
) -> None:
    widget, widget_ref = _field_and_widget(writer, name)
    form = build_appearance(
        writer,
        appearance.image_png,
        spot.visible_size,
        appearance.size_pt,
        rotate=spot.geometry.rotate,
        text=appearance.text,
    )
    widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): form})
    writer.mark_update(widget_ref)


def _add_stamp(
    writer: IncrementalPdfFileWriter,
    spot: Spot,
    image_png: bytes,
    size_pt: tuple[float, float],
    text: str | None,
) -> None:
    """An appearance-only ``/Stamp`` annotation showing ``image_png`` in ``spot``."""
    form = build_appearance(
        writer, image_png, spot.visible_size, size_pt, rotate=spot.geometry.rotate, text=text
    )
    page_ref = writer.find_page_for_modification(spot.geometry.index)[0]
    annot = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Stamp"),
            pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in spot.rect),
            pdf_name("/F"): generic.NumberObject(STAMP_FLAGS),
            pdf_name("/P"): page_ref,
            pdf_name("/Name"): pdf_name("/Approved"),
            pdf_name("/NM"): generic.TextStringObject(f"sealkit-seal-{spot.page}-{int(spot.rect[0])}"),
            pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): form}),
        }
    )
    writer.register_annotation(page_ref, writer.add_object(annot))


def _add_strips(writer: IncrementalPdfFileWriter, placement: Placement, appearance: SealAppearance) -> list:
    from sealkit.pdf.sign import StampedBox

    width, height = appearance.size_pt
    pages = placement.cross_page
    probe = cross_page_spots(writer, pages, (width, height))  # validates pages, gives the count
    strip_w = width / len(probe)
    spots = cross_page_spots(writer, pages, (strip_w, height))
    stamps = []
    for spot, strip in zip(spots, slice_strips(appearance.image_png, len(spots)), strict=True):
        _add_stamp(writer, spot, strip, (strip_w, height), None)
        stamps.append(StampedBox(spot.page, spot.rect_mm, "strip"))
    return stamps


__all__ = ["MM", "STAMP_FLAGS", "prepare_signature_field"]
