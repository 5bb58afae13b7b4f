"""The multi-party flow: every party's empty signature field created before the first signature, and the
signing order.

:func:`prepare_fields` adds one empty signature field per party (a widget on the right page, placed by page
and rectangle or centred on a keyword such as "供应商（乙方）（盖章）："), all in one incremental update made
before anyone signs: after a certification signature, *adding* a field counts as a suspicious modification,
while *filling* a prepared one is allowed.

The signing order is stored in the document catalog's page-piece dictionary, the place ISO 32000 gives
applications for their private data::

    /PieceInfo << /Sealkit << /LastModified (D:…) /Private << /SigningOrder [(供应商) (采购人)] >> >> >>

It is written by :func:`prepare_fields` before the first signature, so every signature covers it and a
later change to it is a modification the verifier reports. :func:`check_turn` refuses a field that is
already signed, not in the order, or whose predecessors have not all signed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.rw_common import PdfHandler

from sealkit.atomic import atomic_output
from sealkit.errors import InvalidInput, PdfError, SigningOrderError
from sealkit.pdf.document import Spot, open_for_update, resolve_spots
from sealkit.pdf.placement import MM, Placement

PIECE_KEY = "/Sealkit"


@dataclass(frozen=True)
class FieldSpec:
    """A party's signature field: its name and where its widget goes (``size_mm`` for keyword placement)."""

    name: str
    placement: Placement
    size_mm: tuple[float, float] = (42.0, 42.0)

    def __post_init__(self) -> None:
        if not self.name or "." in self.name:
            raise InvalidInput(f"invalid field name {self.name!r} (non-empty, no dots)")
        if self.placement.cross_page is not False:
            raise InvalidInput("a prepared field has one widget: give the cross-page seal when signing")


@dataclass(frozen=True)
class PreparedField:
    """A field :func:`prepare_fields` created: its name, page (from 1) and box in visible mm."""

    name: str
    page: int
    rect_mm: tuple[float, float, float, float]


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
    from pyhanko.pdf_utils.misc import PdfWriteError
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    if not fields:
        raise InvalidInput("give at least one field")
    names = [spec.name for spec in fields]
    if len(set(names)) != len(names):
        raise InvalidInput("field names must differ")
    data = _read(input_path)
    writer = open_for_update(data, password)
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
        try:
            append_signature_field(
                writer,
                SigFieldSpec(spec.name, on_page=spot.geometry.index, box=spot.rect),  # type: ignore[arg-type]
            )
        except PdfWriteError as exc:
            raise PdfError(f"cannot add field {spec.name!r}: {exc}") from exc
        prepared.append(PreparedField(spec.name, spot.page, spot.rect_mm))
    if order is not None:
        _write_signing_order(writer, order)
    out = Path(output_path)
    with atomic_output(out, protect=(input_path,)) as handle:
        writer.write(handle)
    return PrepareResult(out, prepared, order)


def _read(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc


def signature_fields(handler: PdfHandler) -> dict[str, bool]:
    """Every signature field of the document and whether it is signed."""
    from pyhanko.sign.fields import enumerate_sig_fields

    return {name: value is not None for name, value, _ in enumerate_sig_fields(handler)}


def read_signing_order(handler: PdfHandler) -> list[str] | None:
    """The signing order stored by :func:`prepare_fields`, or ``None``."""
    try:
        private = handler.root["/PieceInfo"][PIECE_KEY]["/Private"]
        order = private["/SigningOrder"]
    except (KeyError, TypeError):
        return None
    return [str(name) for name in order]


def _write_signing_order(writer, order: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    root = writer.root
    piece_info = root.get("/PieceInfo")
    if piece_info is None:
        piece_info = generic.DictionaryObject()
        root[pdf_name("/PieceInfo")] = piece_info
    now = generic.pdf_date(dt.datetime.now(dt.UTC))
    piece_info[pdf_name(PIECE_KEY)] = generic.DictionaryObject(
        {
            pdf_name("/LastModified"): now,
            pdf_name("/Private"): generic.DictionaryObject(
                {pdf_name("/SigningOrder"): generic.ArrayObject(generic.TextStringObject(n) for n in order)}
            ),
        }
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
