"""The shape of a signature field added after signing (a later signer's, or a document timestamp's): what
honest signing tools write, and nothing else.

A signature field and its widget are a form field and an annotation like any other, and viewers treat them
so: poppler takes a widget's *own* ``/FT`` (``/Btn`` makes it a push button) and, for a widget without an
appearance, generates one from ``/MK`` (background, border, caption, icon) and ``/DA``. So an update that
adds "a document timestamp" could paint a white box and a new amount over signed text. The allow-list
here is what pyHanko, PDFBox (EU DSS), iText and Acrobat write by default:

* the field: ``/FT /Sig``, ``/T``, ``/TU``, ``/TM``, ``/V`` (the signature), ``/Lock``, ``/SV``, ``/Kids``
  (widgets only), ``/Parent``;
* each widget: ``/Type /Annot``, ``/Subtype /Widget``, ``/Rect``, ``/P``, ``/F`` (print, locked, hidden,
  no-zoom, no-rotate, read-only flags), ``/AP``, ``/NM``, ``/M``, ``/StructParent``, ``/Parent``, an
  ``/MK`` with at most a rotation (``/R``); a later signer's widget may also carry ``/DA``;
* a document timestamp shows nothing: no appearance on a zero-area ``/Rect`` (pyHanko: ``[0 0 0 0]``
  without ``/AP``), or an appearance whose streams paint nothing (PDFBox and Acrobat: an empty form
  XObject); a later signer's widget on a rectangle with area has a normal appearance stream (not a
  dictionary of states that ``/AS`` would pick from).

Anything else is a :class:`ShapeProblem`. Actions (``/A``, ``/AA``), malformed rectangles and malformed
appearance dictionaries are judged by :mod:`sealkit.pdf.form_rules` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.pdf.modifications import has_area, rect_of
from sealkit.pdf.pdf_lexer import LexError, content_operations
from sealkit.pdf.rule_context import ACTION_KEYS, ref_key

FIELD_KEYS = frozenset({"/FT", "/T", "/TU", "/TM", "/V", "/Kids", "/Parent", "/Lock", "/SV"})
WIDGET_KEYS = frozenset(
    {"/Type", "/Subtype", "/Rect", "/P", "/F", "/AP", "/Parent", "/NM", "/M", "/StructParent", "/MK"}
)
#: Annotation flags an honest signature widget carries: Hidden 2, Print 4, NoZoom 8, NoRotate 16,
#: ReadOnly 64, Locked 128, LockedContents 512 (not Invisible 1, NoView 32, ToggleNoView 256: shown in
#: print only, or on a click).
_FLAGS = 2 | 4 | 8 | 16 | 64 | 128 | 512
#: Content-stream operators that paint nothing: graphics state, paths that are not painted (``n``),
#: marked content, text state without text shown.
_QUIET = frozenset(
    b"q Q cm w J j M d ri i g G rg RG k K cs CS sc scn SC SCN m l c v y h re W W* n "
    b"BMC BDC EMC MP DP BT ET Tf Td TD Tm T* Tc Tw Tz TL Tr Ts BX EX".split()
)
_MAX_QUIET = 64 * 1024


@dataclass(frozen=True)
class ShapeProblem:
    """One way a new signature field is not the allowed shape. ``display``: it is about what the widget
    shows (reported as a visible timestamp, or a later seal's appearance), else about what the field is;
    ``widget``: the index of the widget it concerns, or None for the field."""

    text: str
    display: bool
    widget: int | None = None


def field_problems(
    field: Any,
    field_ref: Any,
    widgets: Sequence[tuple[Any, Any]],
    resolve: Callable[[Any], Any],
    *,
    timestamp: bool,
    nested: bool = False,
) -> list[ShapeProblem]:
    """Why the new signature ``field`` (at ``field_ref``) with its ``widgets`` (dictionary, reference) is
    not the shape a later signature (``timestamp=False``) or a document timestamp may have; ``nested``: it
    was reached as a kid of another field; ``resolve`` reads a value of the newer revision."""
    problems: list[ShapeProblem] = []
    widget_keys = WIDGET_KEYS | (set() if timestamp else {"/DA"})
    merged = "/Kids" not in field
    allowed = FIELD_KEYS | (widget_keys if merged else (set() if timestamp else {"/DA"}))
    if not nested:
        allowed = allowed - {"/Parent"}  # listed in the form's /Fields: a parent would lend it /FT, /DA, /Ff
    _keys(field, allowed, None, problems)
    for index, (widget, _ref) in enumerate(widgets):
        if widget is not field:
            _keys(widget, widget_keys | {"/FT"}, index, problems)
            parent = widget.raw_get("/Parent") if "/Parent" in widget else None
            if not (
                isinstance(parent, generic.IndirectObject)
                and isinstance(field_ref, generic.IndirectObject)
                and ref_key(parent) == ref_key(field_ref)
            ):
                text = "its /Parent is not its field: viewers take /FT, /DA and /Ff from the /Parent chain"
                problems.append(ShapeProblem(text, False, index))
        _widget(widget, index, resolve, timestamp, problems)
    return problems


def quiet_appearance(widget: Any, resolve: Callable[[Any], Any]) -> bool:
    """Whether the widget has an appearance dictionary whose every appearance is a stream that paints
    nothing (an empty form XObject, as PDFBox and Acrobat write for an invisible signature)."""
    ap = resolve(widget.raw_get("/AP")) if "/AP" in widget else None
    if not isinstance(ap, generic.DictionaryObject) or not ap:
        return False
    return all(_paints(resolve(ap.raw_get(key))) is False for key in ap)


def _keys(node: Any, allowed: set[str] | frozenset[str], index: int | None, out: list[ShapeProblem]) -> None:
    kind = node.get("/FT")
    if kind is not None and kind != "/Sig":
        what = {"/Btn": "a button", "/Tx": "a text field", "/Ch": "a choice field"}.get(str(kind), "a field")
        out.append(ShapeProblem(f"declares /FT {kind}: viewers draw it as {what}", False, index))
    extra = sorted(set(node) - allowed - ACTION_KEYS - {"/FT"})
    if extra:
        out.append(
            ShapeProblem(f"carries {', '.join(extra)}, which a signature field does not", False, index)
        )


def _widget(
    widget: Any, index: int, resolve: Callable[[Any], Any], timestamp: bool, out: list[ShapeProblem]
) -> None:
    subtype = widget.get("/Subtype")
    if subtype != "/Widget":
        out.append(ShapeProblem(f"is not a widget annotation (/Subtype {subtype})", False, index))
    if "/MK" in widget:
        mk = resolve(widget.raw_get("/MK"))
        drawn = (
            sorted(set(mk) - {"/R"}) if isinstance(mk, generic.DictionaryObject) else ["(not a dictionary)"]
        )
        if drawn:
            out.append(
                ShapeProblem(
                    f"/MK {', '.join(drawn)}: a background, border, caption or icon that viewers draw "
                    "when they make the widget's appearance",
                    True,
                    index,
                )
            )
    flags = resolve(widget.raw_get("/F")) if "/F" in widget else generic.NumberObject(0)
    if isinstance(flags, bool) or not isinstance(flags, int):
        out.append(ShapeProblem(f"/F {str(flags)[:40]} is not annotation flags", True, index))
    elif int(flags) & ~_FLAGS:
        out.append(
            ShapeProblem(
                f"/F {int(flags)}: shown only in print or on a click (NoView, ToggleNoView)", True, index
            )
        )
    rect = rect_of(widget.get("/Rect"))
    area = rect is not None and has_area(rect)
    if "/AP" not in widget:
        if area:
            out.append(ShapeProblem("no appearance on a rectangle with area: viewers make one", True, index))
        return
    ap = resolve(widget.raw_get("/AP"))
    if not isinstance(ap, generic.DictionaryObject):
        return  # reported by form_rules as not an appearance dictionary
    for key in sorted(ap):
        entry = resolve(ap.raw_get(key))
        if isinstance(entry, generic.DictionaryObject) and not isinstance(entry, generic.StreamObject):
            out.append(
                ShapeProblem(f"/AP {key} is a dictionary of states: /AS picks what shows", True, index)
            )
        elif timestamp and not area and _paints(entry):
            # on a rectangle with area, the visible-timestamp rule names the box
            out.append(ShapeProblem(f"its appearance (/AP {key}) paints", True, index))


def _paints(stream: Any) -> bool | None:
    """Whether a form XObject's content paints: None if it is not a stream, True when it cannot be read."""
    if not isinstance(stream, generic.StreamObject):
        return None
    try:
        data = stream.data
    except Exception:  # noqa: BLE001 - an appearance that cannot be decoded is not known to be empty
        return True
    if len(data) > _MAX_QUIET:
        return True
    try:
        operations = content_operations(data)
    except LexError:
        return True
    return any(operator not in _QUIET for _, operator in operations)
