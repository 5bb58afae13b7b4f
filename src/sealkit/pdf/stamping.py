"""Put the seal on the page in the revision the signature will cover.

:func:`prepare_signature_field` opens the document for an incremental update and adds, before pyHanko
computes the signature: the signature field (or finds the prepared one and checks the signing order), the
field widget's appearance (the seal), further seals for keyword ``occurrence="all"`` and the strips of a
cross-page seal (骑缝章). Those extras are ``/Stamp`` annotations flagged Print|ReadOnly|Locked|LockedContents
that only carry an appearance; being in the signed revision, the signature covers them and the verifier sees
no change after signing. Annotations added after an earlier signature would change pages it covers, so
only the first signature may add them.

A later signer's cross-page seal goes into widgets reserved before the first signature
(``FieldSpec(cross_page=...)`` in :func:`sealkit.pdf.prepare_fields`): extra widget kids of their own
signature field, one per page, empty until that field is signed. Filling them gives each an appearance
(its strip, against the right edge of the paper) in the signing revision, which is "filling a prepared
signature field" for the verifier (rule A of :mod:`sealkit.pdf.verify_policy`).
"""

from __future__ import annotations

from typing import BinaryIO, Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from sealkit.errors import InvalidInput, PdfError
from sealkit.pdf.appearance import MM, SealAppearance, build_appearance, slice_strips
from sealkit.pdf.document import (
    Spot,
    check_form_fields,
    cross_page_spots,
    geometry_of,
    open_for_update,
    resolve_spots,
)
from sealkit.pdf.fields import check_turn, field_widgets, read_signing_order, signature_fields
from sealkit.pdf.placement import PageGeometry, Placement, cross_page_groups, page_geometry

EXTRAS_AFTER_SIGNING = (
    "{what} can only be added by the first signature: the extra stamp annotations would change pages that "
    "an earlier signature covers"
)
RESERVE_HINT = (
    "; a later signer's cross-page seal must be reserved before the first signature: "
    "prepare_fields([FieldSpec(name, placement, cross_page=True)])"
)

# Print (4) | ReadOnly (64) | Locked (128) | LockedContents (512)
STAMP_FLAGS = 4 | 64 | 128 | 512


def prepare_signature_field(
    data: bytes | BinaryIO,
    *,
    field: str | None,
    appearance: SealAppearance | None,
    placement: Placement | None,
    password: str | None,
    warnings: list[str] | None = None,
    writer: IncrementalPdfFileWriter | None = None,
) -> tuple[IncrementalPdfFileWriter, str, list]:  # list[StampedBox]
    """Open ``data`` (bytes, or a seekable stream kept open while the writer is used) — or take ``writer``,
    already open on it — and add the field, the seal and its extras; returns the writer, field name, stamps.

    A new seal that lands on an existing signature's seal is allowed but said in ``warnings``.
    """
    from sealkit.pdf.sign import StampedBox

    writer = writer if writer is not None else open_for_update(data, password)
    existing = signature_fields(writer)
    already_signed = any(existing.values())
    stamps: list[StampedBox] = []
    placed = placement is not None and (placement.rect_mm is not None or placement.text is not None)
    if placed and appearance is None:
        raise InvalidInput("a placement needs a seal image (or sign invisibly without placement)")
    strips_filled = False
    if field is not None and field in existing:
        check_turn(writer, field)
        if placed:
            raise InvalidInput(f"field {field!r} is prepared: its place is fixed, give no placement")
        _, main, strips = field_widgets(writer, field)
        if len(main) > 1:
            raise PdfError(f"field {field!r} has {len(main)} widgets besides its cross-page seal")
        if strips:
            if appearance is None:
                raise InvalidInput(f"field {field!r} reserves a cross-page seal: give the seal image")
            _check_reserved_pages(writer, field, strips, placement)
            stamps.extend(_fill_strips(writer, field, strips, appearance))
            strips_filled = True
        spot = _widget_spot(writer, *main[0]) if main else None
        if appearance is not None and spot is not None:
            _set_widget_appearance(writer, main[0], spot, appearance)
            stamps.insert(0, StampedBox(spot.page, spot.rect_mm, "field"))
        name = field
    else:
        if read_signing_order(writer) is not None:
            check_turn(writer, field or "(new field)")
        name = field or _free_name(existing)
        spots = (
            resolve_spots(writer, data, placement, appearance.box_pt, password=password)
            if placement is not None and appearance is not None
            else []
        )
        if warnings is not None:
            warnings.extend(
                f"the seal on page {spot.page} overlaps the seal of field {other!r}: "
                "choose another --rect or --at-text"
                for spot in spots
                for other in _overlapping_fields(writer, existing, spot)
            )
        _add_field(writer, name, spots[0] if spots else None)
        if spots and appearance is not None:
            main_widget = field_widgets(writer, name)[1][0]
            _set_widget_appearance(writer, main_widget, spots[0], appearance)
            stamps.append(StampedBox(spots[0].page, spots[0].rect_mm, "field"))
            if len(spots) > 1 and already_signed:
                raise InvalidInput(EXTRAS_AFTER_SIGNING.format(what="more than one seal (occurrence=all)"))
            forms: dict = {}  # type: ignore[type-arg]
            for spot in spots[1:]:
                _add_stamp(writer, spot, appearance.image_png, appearance.size_pt, appearance.text, forms)
                stamps.append(StampedBox(spot.page, spot.rect_mm, "seal"))
    if placement is not None and placement.cross_page is not False and not strips_filled:
        if appearance is None:
            raise InvalidInput("a cross-page seal needs a seal image")
        if already_signed:
            raise InvalidInput(EXTRAS_AFTER_SIGNING.format(what="a cross-page seal") + RESERVE_HINT)
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
    check_form_fields(writer)
    try:
        append_signature_field(writer, spec)
    except PdfWriteError as exc:
        raise PdfError(f"cannot add the signature field {name!r}: {exc}") from exc


def _overlapping_fields(writer: IncrementalPdfFileWriter, existing: dict[str, bool], spot: Spot) -> list[str]:
    """The existing signature fields whose visible widget overlaps ``spot`` on its page."""
    names = []
    for name in existing:
        for widget, widget_ref in field_widgets(writer, name)[1]:
            other = _widget_spot(writer, widget, widget_ref)
            if other is None or other.geometry.index != spot.geometry.index:
                continue
            ax1, ay1, ax2, ay2 = spot.rect
            bx1, by1, bx2, by2 = other.rect
            if min(ax2, bx2) > max(ax1, bx1) and min(ay2, by2) > max(ay1, by1):
                names.append(name)
                break
    return names


def _widget_spot(writer: IncrementalPdfFileWriter, widget, widget_ref) -> Spot | None:  # type: ignore[no-untyped-def]
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
    writer: IncrementalPdfFileWriter,
    widget_and_ref: tuple,  # type: ignore[type-arg]
    spot: Spot,
    appearance: SealAppearance,
) -> None:
    widget, widget_ref = widget_and_ref
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


def _check_reserved_pages(
    writer: IncrementalPdfFileWriter,
    field: str,
    strips: list,
    placement: Placement | None,  # type: ignore[type-arg]
) -> None:
    """A ``cross_page`` given when filling a reserved field must be ``True`` or the reserved pages."""
    if placement is not None and placement.cross_page_group is not None:
        raise InvalidInput(
            f"field {field!r} reserves its cross-page seal as one imprint: give no cross_page_group"
        )
    if placement is None or placement.cross_page in (False, True):
        return
    reserved = sorted(_widget_page(writer, widget, ref).index for widget, ref in strips)
    asked = sorted(geometry_of(writer, number).index for number in placement.cross_page)  # type: ignore[union-attr]
    if asked != reserved:
        pages = ", ".join(str(i + 1) for i in reserved)
        raise InvalidInput(
            f"field {field!r} reserves its cross-page seal on pages {pages}: give those or True"
        )


def _fill_strips(
    writer: IncrementalPdfFileWriter,
    field: str,
    strips: list,
    appearance: SealAppearance,  # type: ignore[type-arg]
) -> list:
    """Show the strips of ``appearance`` in the widgets reserved for the field's cross-page seal."""
    from sealkit.pdf.sign import StampedBox

    width, height = appearance.size_pt
    strip_size = (width / len(strips), height)
    stamps = []
    for (widget, ref), strip in zip(strips, slice_strips(appearance.image_png, len(strips)), strict=True):
        spot = _widget_spot(writer, widget, ref)
        if spot is None:
            raise PdfError(f"a cross-page widget of field {field!r} has no area")
        box_w, box_h = spot.visible_size
        if strip_size[0] > box_w + 0.01 or strip_size[1] > box_h + 0.01:
            raise InvalidInput(
                f"the seal ({appearance.width_mm:g}×{appearance.height_mm:g} mm) is larger than the "
                f"cross-page seal reserved for field {field!r} "
                f"({len(strips)} strips of {box_w / MM:.1f}×{box_h / MM:.1f} mm)"
            )
        form = build_appearance(
            writer, strip, spot.visible_size, strip_size, rotate=spot.geometry.rotate, align="right"
        )
        widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): form})
        writer.mark_update(ref)
        stamps.append(StampedBox(spot.page, spot.rect_mm, "strip"))
    return stamps


def _add_stamp(
    writer: IncrementalPdfFileWriter,
    spot: Spot,
    image_png: bytes,
    size_pt: tuple[float, float],
    text: str | None,
    forms: dict | None = None,  # type: ignore[type-arg]
    *,
    align: Literal["centre", "right"] = "centre",
) -> None:
    """An appearance-only ``/Stamp`` annotation showing ``image_png`` in ``spot``.

    ``forms`` shares appearances between stamps: a seal on every page of a long document is one form
    XObject (one copy of the image) that every stamp annotation shows, not one per page.
    """
    key = (
        image_png,
        tuple(round(v, 3) for v in spot.visible_size),
        size_pt,
        spot.geometry.rotate,
        text,
        align,
    )
    form = forms.get(key) if forms is not None else None
    if form is None:
        form = build_appearance(
            writer, image_png, spot.visible_size, size_pt, rotate=spot.geometry.rotate, text=text, align=align
        )
        if forms is not None:
            forms[key] = form
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


def _add_strips(
    writer: IncrementalPdfFileWriter,
    placement: Placement,
    appearance: SealAppearance,
    forms: dict | None = None,  # type: ignore[type-arg]
) -> list:  # type: ignore[type-arg]
    """The strips of a cross-page seal: one whole imprint per group of pages, sliced over the group."""
    from sealkit.pdf.sign import StampedBox

    width, height = appearance.size_pt
    pages = placement.cross_page
    at_mm = placement.cross_page_at_mm
    probe = cross_page_spots(writer, pages, (width, height), at_mm=at_mm)  # validates pages, gives the count
    groups = cross_page_groups([spot.page for spot in probe], placement.cross_page_group)
    forms = {} if forms is None else forms
    slices: dict[int, list[bytes]] = {}
    stamps = []
    for group in groups:
        strip_w = width / len(group)
        spots = cross_page_spots(writer, tuple(group), (strip_w, height), at_mm=at_mm)
        if len(group) not in slices:
            slices[len(group)] = slice_strips(appearance.image_png, len(group))
        for spot, strip in zip(spots, slices[len(group)], strict=True):
            _add_stamp(writer, spot, strip, (strip_w, height), None, forms, align="right")
            stamps.append(StampedBox(spot.page, spot.rect_mm, "strip"))
    return stamps


__all__ = ["MM", "STAMP_FLAGS", "prepare_signature_field"]
