"""Annotation flags and appearances for :mod:`sealkit.pdf.print_view`: whether an annotation shows on
screen and on paper for each viewer (ISO 32000 12.5.3), and whether its appearance paints anything."""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.pdf.modifications import has_area, rect_of
from sealkit.pdf.print_view_oc import MODES, VIEWERS
from sealkit.pdf.print_view_oc import get_resolved as _get

_INVISIBLE, _HIDDEN, _PRINT, _NOVIEW, _TOGGLE_NOVIEW = 1, 2, 4, 32, 256
_FLAG_NAMES = {1: "Invisible", 2: "Hidden", 4: "Print", 32: "NoView", 256: "ToggleNoView"}
#: Annotation subtypes ISO 32000-2 defines (Invisible applies only to others).
_KNOWN = {
    "/Text", "/Link", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight",
    "/Underline", "/Squiggly", "/StrikeOut", "/Caret", "/Stamp", "/Ink", "/Popup", "/FileAttachment",
    "/Sound", "/Movie", "/Screen", "/Widget", "/PrinterMark", "/TrapNet", "/Watermark", "/3D", "/Redact",
    "/RichMedia", "/Projection",
}  # fmt: skip


def _name(value: Any) -> str:
    return str(value) if isinstance(value, generic.NameObject) else ""


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def flag_states(raw: Any, subtype: str) -> dict[tuple[str, str], frozenset[bool]]:
    """(viewer, mode) -> visibilities the annotation flags give: the standard hides Invisible annotations of
    unknown subtypes, poppler and PDFium do not; poppler reads a non-integer /F as 0, PDFium as a number."""
    number = int(raw) if isinstance(raw, int | generic.FloatObject) and not isinstance(raw, bool) else 0
    states: dict[tuple[str, str], frozenset[bool]] = {}
    for viewer in VIEWERS:
        flags = number if (viewer != "poppler" or isinstance(raw, int)) else 0
        hidden = bool(flags & _HIDDEN) or (
            viewer == "spec" and subtype not in _KNOWN and bool(flags & _INVISIBLE)
        )
        for mode in MODES:
            if hidden:
                state = frozenset({False})
            elif mode == "Print":
                state = frozenset({bool(flags & _PRINT)})
            elif flags & _NOVIEW:
                state = frozenset({False, True}) if flags & _TOGGLE_NOVIEW else frozenset({False})
            else:
                state = frozenset({True})
            states[(viewer, mode)] = state
    return states


def describe_flags(raw: Any) -> str:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return f"/F {raw}"
    names = [name for bit, name in _FLAG_NAMES.items() if number & bit]
    return f"/F {raw}: " + (", ".join(names) if names else "no Print flag")


def normal_appearance(annot: Any) -> Any:
    """The normal appearance stream a viewer draws (the /AS state of a state dictionary), or None."""
    appearances = _resolved(_get(annot, "/AP"))
    if not isinstance(appearances, generic.DictionaryObject):
        return None
    normal = _resolved(_get(appearances, "/N"))
    if isinstance(normal, generic.StreamObject):
        return normal
    if isinstance(normal, generic.DictionaryObject) and "/AS" in annot:
        chosen = _resolved(_get(normal, str(_get(annot, "/AS"))))
        return chosen if isinstance(chosen, generic.StreamObject) else None
    return None


def paints(annot: Any, subtype: str, appearance: Any) -> bool:
    """Whether a viewer draws anything for the annotation: a non-empty appearance with an area, or (no
    appearance) what poppler and PDFium draw themselves — not for links, pop-ups, or widgets without
    colours in /MK or a text or choice value."""
    if appearance is not None:
        return _stream_paints(appearance)
    if "/AP" in annot:
        # a state dictionary without /AS: PDFium picks a state from /V or "Off"; count any that draws
        normal = _resolved(_get(_resolved(_get(annot, "/AP")), "/N"))
        if not isinstance(normal, generic.DictionaryObject) or "/AS" in annot:
            return False
        return any(_stream_paints(_resolved(_get(normal, key))) for key in list(normal)[:16])
    if subtype in ("/Link", "/Popup"):
        return False
    if subtype != "/Widget":
        return True
    colours = _resolved(_get(annot, "/MK"))
    if isinstance(colours, generic.DictionaryObject) and ("/BG" in colours or "/BC" in colours):
        return True
    kind, valued, field = "", False, annot
    for _ in range(32):  # /FT and /V are inherited from parent fields
        if not isinstance(field, generic.DictionaryObject):
            break
        kind = kind or _name(_get(field, "/FT"))
        valued = valued or "/V" in field
        field = _resolved(_get(field, "/Parent"))
    return valued and kind in ("/Tx", "/Ch")


def _stream_paints(stream: Any) -> bool:
    if not isinstance(stream, generic.StreamObject):
        return False
    box = rect_of(_resolved(_get(stream, "/BBox")))
    if box is not None and not has_area(box):
        return False
    try:
        return bool(stream.data.strip())
    except Exception:  # noqa: BLE001 - undecodable: a viewer may still draw something
        return True


__all__ = ["describe_flags", "flag_states", "normal_appearance", "paints"]
