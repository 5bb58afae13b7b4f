"""What a contract shows on screen against what it prints: the verifier's ``print-view`` check.

A signer signs what the screen shows; whoever prints the filed contract reads the paper. A PDF can make the
two differ without any change after signing (forger3 a05: a FreeText annotation flagged Print|NoView paints
another amount over the amount — invisible on screen, printed on paper). This module finds, in one revision,
every place whose printed content may differ from what a viewer displays, with its page and rectangle:

- **annotations** (ISO 32000-1 12.5.3 flags): NoView with Print (printed, never shown; with ToggleNoView
  shown only on mouse-over), Print absent on an annotation that paints something (shown, never printed),
  Invisible on a subtype the standard does not define (the standard hides it, poppler and PDFium draw it),
  an /F that is not an integer (poppler reads 0, PDFium the number), a Watermark annotation's /FixedPrint
  (printed at another size and place); combined with the annotation's own /OC, which PDFium ignores: an
  annotation that some viewers hide by its /OC and others draw is reported too (``VIEWERS_DIFFER``);
- **optional content** (8.11, :mod:`.print_view_oc`): a group or membership dictionary (/OCMD, /VE) used by a
  page's content, an XObject or an annotation's appearance whose state differs between the View and Print
  events for one viewer (``/Usage /ViewState`` and ``/PrintState`` with ``/D /AS`` entries; PDFium applies
  the usage states even without them);
- **print alternatives**: an image XObject whose ``/Alternates`` has one ``/DefaultForPrinting`` (8.9.5.4),
  PostScript XObjects (``/Subtype /PS`` or ``/Subtype2 /PS``, sent to PostScript printers) and ``/OPI``
  proxies (replaced when printing);
- a document action run before printing (catalog ``/AA /WP``), which can change fields before they print.

Content printed but never shown, and optional content or print alternatives in either direction, fail the
signature (:data:`REASON`): it cannot say which of the two the signer agreed to. An annotation shown on
screen but not printed fails when it lies over the page's text or images (it can hide what the paper
shows) and is a warning otherwise (a non-printing button, a field value the paper leaves blank). An
annotation that paints nothing (no area, an empty appearance, a link without one) never counts. Only the
page tree, annotation dictionaries, resource dictionaries and /OCProperties are read; appearance streams
are decoded only for annotations whose flags differ, and page content is read (with PDFium) only under a
screen-only annotation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.errors import PdfError
from sealkit.pdf.modifications import has_area, rect_of, show_rect
from sealkit.pdf.overlap import Box, _intersects
from sealkit.pdf.print_view_flags import describe_flags, flag_states, normal_appearance, paints
from sealkit.pdf.print_view_oc import MODES, VIEWERS, OptionalContent
from sealkit.pdf.print_view_oc import get_resolved as _get
from sealkit.pdf.report import SignatureVerdict

REASON = "sig-constraints.print-differs"
#: Viewers that disagree on whether something shows at all: PDFium ignores an annotation's own /OC (a stamp
#: in a group that is OFF is drawn in Chrome, hidden in poppler and Acrobat).
VIEWERS_DIFFER = "sig-constraints.viewers-differ"
_MAX_PAGES = 10_000
_MAX_OBJECTS = 20_000  # resource dictionaries and XObjects walked per revision
_MAX_SHOWN = 8  # findings listed per signature (all count)


@dataclass(frozen=True)
class Finding:
    """One place that may print differently from what the screen shows."""

    page: int | None
    rect: Box | None
    what: str
    fails: bool
    reason: str = REASON

    def where(self) -> str:
        if self.page is None:
            return "the document"
        return f"page {self.page}" + (f" {show_rect(self.rect)}" if self.rect else "")


def print_view_checks(
    verdict: SignatureVerdict,
    memo: dict[int, list[Finding]],
    reader: Any,
    data: bytes,
    ends: list[int],
    signed_revision: int | None,
) -> None:
    """Record the ``print-view`` check of a signature over ``signed_revision``: what its signed revision
    prints differently from what it shows, and what the document as it is now does (added after signing).
    ``memo`` holds the findings per revision for the document's other signatures."""
    last = reader.xrefs.total_revisions - 1
    signed = _findings(memo, reader, data, ends, signed_revision) if signed_revision is not None else []
    seen = {(f.page, f.what) for f in signed}  # the same place, described alike, in both revisions
    later = [f for f in _findings(memo, reader, data, ends, last) if (f.page, f.what) not in seen]
    listed = [("in the signed document", f) for f in signed] + [("added after signing", f) for f in later]
    for when, finding in listed[:_MAX_SHOWN]:
        verdict.check(
            "print-view",
            False,
            f"{finding.where()}, {when}: {finding.what}",
            finding.reason if finding.fails else None,
        )
    failing = [f for _, f in listed[_MAX_SHOWN:] if f.fails]
    if failing:
        verdict.check("print-view", False, f"and {len(failing)} more such places", failing[0].reason)
    if not listed:
        verdict.check("print-view", True, "every page prints what it shows on screen")


def refuse_differing_input(reader: Any, data: Any, name: str) -> None:
    """Raise :class:`PdfError` if the input PDF open in ``reader`` (its bytes in ``data``, bytes or a memory
    map) shows one thing and prints another, or shows it to some viewers only: sealkit's verifier would fail
    the signature (whatever sealkit signs, sealkit verifies). An input whose structure this cannot read is
    left to the signing itself."""
    try:
        last = reader.xrefs.total_revisions - 1
        findings = _Revision(reader, data, [len(data)] * (last + 1), last).findings()
    except Exception:  # noqa: BLE001 - unreadable structures are refused, or not, by the signing itself
        logging.getLogger(__name__).debug("print/view analysis of the input failed", exc_info=True)
        return
    failing = [f for f in findings if f.fails]
    if failing:
        first = failing[0]
        raise PdfError(
            f"{name}: {first.where()}: {first.what} — the signature would fail verification "
            f"({first.reason}); remove or fix it before signing"
        )


def _findings(
    memo: dict[int, list[Finding]], reader: Any, data: bytes, ends: list[int], revision: int
) -> list[Finding]:
    if revision not in memo:
        try:
            memo[revision] = _Revision(reader, data, ends, revision).findings()
        except Exception:  # noqa: BLE001 - unreadable structures are judged by the modification and format rules
            logging.getLogger(__name__).debug("print/view analysis failed", exc_info=True)
            memo[revision] = [
                Finding(None, None, "what it prints could not be compared (see --verbose)", False)
            ]
    return memo[revision]


def _name(value: Any) -> str:
    return str(value) if isinstance(value, generic.NameObject) else ""


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _ref_key(value: Any) -> Any:
    return (
        (int(value.idnum), int(value.generation)) if isinstance(value, generic.IndirectObject) else id(value)
    )


def _object_label(ref: Any) -> str:
    return f" (object {ref.idnum})" if isinstance(ref, generic.IndirectObject) else ""


def _differs(states: dict[tuple[str, str], frozenset[bool]]) -> tuple[bool, bool]:
    """(printed but not shown, shown but not printed) for some viewer."""
    printed_only = any(True in states[(v, "Print")] and False in states[(v, "View")] for v in VIEWERS)
    shown_only = any(True in states[(v, "View")] and False in states[(v, "Print")] for v in VIEWERS)
    return printed_only, shown_only


def _viewers_disagree(states: dict[tuple[str, str], frozenset[bool]]) -> bool:
    """One viewer surely shows what another surely hides, on screen or in print."""
    for mode in MODES:
        shown = [states[(v, mode)] == frozenset({True}) for v in VIEWERS]
        hidden = [states[(v, mode)] == frozenset({False}) for v in VIEWERS]
        if any(shown) and any(hidden):
            return True
    return False


class _Revision:
    """The print/view findings of one revision."""

    def __init__(self, reader: Any, data: bytes, ends: list[int], revision: int) -> None:
        self.data, self.ends, self.revision = data, ends, revision
        # objects read through the historical resolver refer to that revision (the trailer's do not)
        resolver = reader.get_historical_resolver(revision)
        root = resolver.trailer_view.raw_get("/Root")
        self.catalog = resolver.get_object(generic.Reference(root.idnum, root.generation, pdf=resolver))
        self.oc = OptionalContent(self.catalog)
        self.found: list[Finding] = []
        self.walked: set[Any] = set()
        self.budget = _MAX_OBJECTS
        self.boxes: dict[int, list[tuple[str, Box]]] = {}

    def findings(self) -> list[Finding]:
        actions = _resolved(_get(self.catalog, "/AA"))
        if isinstance(actions, generic.DictionaryObject) and "/WP" in actions:
            self.found.append(
                Finding(
                    None,
                    None,
                    "an action runs before the document is printed (catalog /AA /WP): it can change what"
                    " prints",
                    True,
                )
            )
        for number, page, inherited in self._pages():
            resources = _resolved(_get(page, "/Resources", _resolved(inherited.get("/Resources"))))
            box = rect_of(_resolved(_get(page, "/MediaBox", _resolved(inherited.get("/MediaBox")))))
            self._resources(resources, number, box, "page content")
            annots = _resolved(_get(page, "/Annots"))
            if isinstance(annots, generic.ArrayObject):
                for i in range(len(annots)):
                    self._annotation(annots.raw_get(i), number)
        if self.budget <= 0:
            self.found.append(
                Finding(None, None, "too many resources to compare what prints (not all read)", False)
            )
        return list({(f.page, f.what): f for f in self.found}.values())

    def _pages(self) -> Any:
        root = self.catalog.raw_get("/Pages") if "/Pages" in self.catalog else None
        stack: list[tuple[Any, dict[str, Any]]] = [(root, {})] if root is not None else []
        seen: set[Any] = set()
        number = 0
        while stack and number < _MAX_PAGES:
            ref, inherited = stack.pop()
            if _ref_key(ref) in seen:
                continue
            seen.add(_ref_key(ref))
            node = _resolved(ref)
            if not isinstance(node, generic.DictionaryObject):
                continue
            kids = _resolved(_get(node, "/Kids")) if _name(_get(node, "/Type")) != "/Page" else None
            if isinstance(kids, generic.ArrayObject):
                passed = dict(inherited)
                for key in ("/Resources", "/MediaBox"):
                    if key in node:
                        passed[key] = node.raw_get(key)
                stack.extend((kids.raw_get(i), passed) for i in reversed(range(len(kids))))
            else:
                number += 1
                yield number, node, inherited

    # --- optional content and print alternatives in resources -------------------------------------

    def _oc_finding(self, oc: Any, page: int, rect: Box | None, where: str) -> None:
        if not self.oc.present:
            return
        states = self.oc.visibility(oc)
        if _viewers_disagree(states):
            self.found.append(
                Finding(
                    page,
                    rect,
                    f"{where} in optional content{_object_label(oc)} is hidden by some viewers and shown by "
                    "others (poppler reads only the default configuration; PDFium applies usage states and "
                    "alternate configurations)",
                    True,
                    VIEWERS_DIFFER,
                )
            )
        printed_only, shown_only = _differs(states)
        if printed_only or shown_only:
            how = "printed but not shown on screen" if printed_only else "shown on screen but not printed"
            if printed_only and shown_only:
                how = "shown and printed differently"
            self.found.append(
                Finding(
                    page,
                    rect,
                    f"{where} in optional content{_object_label(oc)} is {how} (its view and print states"
                    " differ)",
                    True,
                )
            )

    def _resources(self, resources: Any, page: int, rect: Box | None, where: str, depth: int = 0) -> None:
        if not isinstance(resources, generic.DictionaryObject) or depth > 12:
            return
        properties = _resolved(_get(resources, "/Properties"))
        if isinstance(properties, generic.DictionaryObject):
            for key in properties:
                value = properties.raw_get(key)
                if (
                    _name(_get(_resolved(value), "/Type")) in ("/OCG", "/OCMD")
                    if isinstance(_resolved(value), generic.DictionaryObject)
                    else False
                ):
                    self._oc_finding(value, page, rect, where)
        self._nested_resources(resources, page, rect, where, depth)
        xobjects = _resolved(_get(resources, "/XObject"))
        if not isinstance(xobjects, generic.DictionaryObject):
            return
        for key in xobjects:
            ref = xobjects.raw_get(key)
            visit = (_ref_key(ref), page, where)
            if visit in self.walked or self.budget <= 0:
                continue
            self.walked.add(visit)
            self.budget -= 1
            xobject = _resolved(ref)
            if not isinstance(xobject, generic.DictionaryObject):
                continue
            label = f"{where}: XObject {key}{_object_label(ref)}"
            if "/OC" in xobject:
                self._oc_finding(xobject.raw_get("/OC"), page, rect, label)
            self._alternatives(xobject, ref, page, rect, label)
            if _name(_get(xobject, "/Subtype")) == "/Form":
                self._resources(_resolved(_get(xobject, "/Resources")), page, rect, where, depth + 1)

    def _nested_resources(self, resources: Any, page: int, rect: Box | None, where: str, depth: int) -> None:
        """Content drawn from elsewhere than the content stream and its XObjects, with resources of its own:
        tiling patterns, Type3 glyphs, soft masks' groups (their optional content counts too)."""
        nested: list[tuple[str, Any]] = []
        for category, inner in (("/Pattern", None), ("/Font", "/Resources"), ("/ExtGState", "/SMask")):
            entries = _resolved(_get(resources, category))
            if not isinstance(entries, generic.DictionaryObject):
                continue
            for key in entries:
                value = _resolved(entries.raw_get(key))
                if not isinstance(value, generic.DictionaryObject):
                    continue
                if inner == "/SMask":
                    mask = _resolved(_get(value, "/SMask"))
                    is_mask = isinstance(mask, generic.DictionaryObject)
                    value = _resolved(_get(mask, "/G")) if is_mask else None
                    if not isinstance(value, generic.DictionaryObject):
                        continue
                    if "/OC" in value:
                        self._oc_finding(value.raw_get("/OC"), page, rect, f"{where}: soft mask {key}")
                elif inner == "/Resources" and _name(_get(value, "/Subtype")) != "/Type3":
                    continue
                label = f"{where}: {category[1:].lower()} {key}"
                nested.append((label, _resolved(_get(value, "/Resources"))))
        for label, inner_resources in nested:
            if self.budget <= 0:
                return
            self.budget -= 1
            self._resources(inner_resources, page, rect, label, depth + 1)

    def _alternatives(self, xobject: Any, ref: Any, page: int, rect: Box | None, label: str) -> None:
        why = None
        if _name(_get(xobject, "/Subtype")) == "/PS" or _name(_get(xobject, "/Subtype2")) == "/PS":
            why = "is PostScript code sent only to PostScript printers"
        elif "/OPI" in xobject:
            why = "is an OPI proxy, replaced by another image when printed"
        else:
            alternates = _resolved(_get(xobject, "/Alternates"))
            if isinstance(alternates, generic.ArrayObject) and any(
                isinstance(_resolved(a), generic.DictionaryObject)
                and bool(_get(_resolved(a), "/DefaultForPrinting", False))
                for a in alternates
            ):
                why = "has an alternate image printed instead of it (/DefaultForPrinting)"
        if why:
            self.found.append(Finding(page, rect, f"{label} {why}", True))

    # --- annotations -------------------------------------------------------------------------------

    def _annotation(self, ref: Any, page: int) -> None:
        annot = _resolved(ref)
        if not isinstance(annot, generic.DictionaryObject):
            return
        rect = rect_of(_resolved(_get(annot, "/Rect")))
        subtype = _name(_get(annot, "/Subtype")) or "/?"
        label = f"a {subtype[1:]} annotation{_object_label(ref)}"
        appearance = normal_appearance(annot)
        if rect is None:
            if "/Rect" in annot and paints(annot, subtype, appearance):
                # viewers still draw it (PDFium reads huge or odd rectangles): what it shows is not known
                what = f"{label} paints an appearance in a rectangle that cannot be read"
                self.found.append(Finding(page, None, what, True))
            return
        if not has_area(rect):
            return  # nothing is drawn without an area
        if appearance is not None:
            resources = _resolved(_get(appearance, "/Resources"))
            self._resources(resources, page, rect, f"the appearance of {label}")
        raw_flags = _get(annot, "/F", 0)
        states = flag_states(raw_flags, subtype)
        if "/OC" in annot and self.oc.present:
            oc = self.oc.visibility(annot.raw_get("/OC"))
            states = {
                k: states[k] if k[0] == "pdfium" else frozenset(a and b for a in states[k] for b in oc[k])
                for k in states
            }
            if _viewers_disagree(states) and paints(annot, subtype, appearance):
                self.found.append(
                    Finding(
                        page,
                        rect,
                        f"{label} in optional content (/OC) is hidden by some viewers (poppler, Acrobat) and "
                        "shown by others (PDFium, Chrome's viewer)",
                        True,
                        VIEWERS_DIFFER,
                    )
                )
        printed_only, shown_only = _differs(states)
        fixed = (
            subtype == "/Watermark"
            and "/FixedPrint" in annot
            and any(True in states[(v, "Print")] for v in VIEWERS)
        )
        if not (printed_only or shown_only or fixed) or not paints(annot, subtype, appearance):
            return
        flags = describe_flags(raw_flags)
        if printed_only:
            self.found.append(
                Finding(page, rect, f"{label} is printed but not shown on screen ({flags})", True)
            )
        elif fixed:
            self.found.append(
                Finding(page, rect, f"{label} is printed at a fixed size and place (/FixedPrint)", True)
            )
        else:
            under = self._under(page, rect)
            text = f"{label} is shown on screen but not printed ({flags})"
            if under:
                text += f"; on paper what it covers shows instead: {', '.join(under[:3])}"
            self.found.append(Finding(page, rect, text, bool(under)))

    def _under(self, page: int, rect: Box) -> list[str]:
        """Text and images of the page's content under ``rect`` (PDFium, this revision)."""
        if page not in self.boxes:
            from sealkit.pdf.overlap import _LOCK, page_content_boxes

            try:
                import pypdfium2 as pdfium

                with _LOCK:
                    document = pdfium.PdfDocument(self.data[: self.ends[self.revision]])
                    try:
                        self.boxes[page] = page_content_boxes(document[page - 1])
                    finally:
                        document.close()
            except Exception:  # noqa: BLE001 - unreadable: assume it covers something (never a silent pass)
                logging.getLogger(__name__).debug("page content unreadable", exc_info=True)
                self.boxes[page] = [("page content that could not be read", (-1e9, -1e9, 1e9, 1e9))]
        matters = ("text", "an image", "a form XObject", "page content")
        return list(
            dict.fromkeys(
                what for what, box in self.boxes[page] if what.startswith(matters) and _intersects(box, rect)
            )
        )
