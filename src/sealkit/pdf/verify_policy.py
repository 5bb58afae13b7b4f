"""What may change in a contract after it was signed: sealkit's own allow-list, revision by revision.

A contract is not a form. Each incremental update after a signed revision is compared with the revision
before it (:mod:`sealkit.pdf.modifications` compares values from the trailer down) and may only:

(a) sign a signature field that existed and was empty: the field gets ``/V`` (a signature dictionary
    written in the same update) and its widgets — the main widget and the cross-page strips that
    ``prepare_fields(cross_page=…)`` reserved as kids of the field — get an ``/AP`` appearance, which a
    viewer fits into the widget's unchanged rectangle; nothing else of the field or widget changes;
(b) add validation data (``/DSS`` with ``/VRI``) and document timestamps (a new ``/DocTimeStamp`` field);
(c) on a document that is not certified, add a signature field *signed in the same update* (a later
    signer without a prepared field); the report names its page and rectangle.

Everything else fails, named by what changed and where (object number, page, rectangle): an object
defined after signing that the signed revision already referred to (``modification.forward-reference``);
new fields of any kind and empty ones (``new-field``); annotations (``annotation-added`` …); actions
(``action-added``: ``/AA``, ``/A``, ``/OpenAction``, ``/Names /JavaScript``); ``/NeedAppearances``,
``/DR``, ``/DA`` (``need-appearances``, ``default-resources``, ``default-appearance``); a malformed
``/Rect`` of a new or filled widget (``malformed-rect``); pages, fields and the catalog
(``page-content``, ``field-changed``, ``catalog-changed`` …). Changes of ``/Info`` and of the XMP
metadata are warnings. A certification (DocMDP) signature makes it stricter: with P=1 only (b), with
P=2 or 3 no new signature fields (only document timestamps). Later seals are listed with the page and
rectangle they cover and a warning when signed text or annotations lie under them (:mod:`overlap`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.pdf.modifications import Difference, Revisions, TooComplex, has_area, rect_of, show_rect

ACTION_KEYS = frozenset({"/AA", "/A", "/OpenAction", "/JavaScript", "/JS"})
_PAGE_REASONS = {"/Contents": "page-content", "/Resources": "page-resources"}
_FORM_REASONS = {
    "/NeedAppearances": "need-appearances",
    "/DR": "default-resources",
    "/DA": "default-appearance",
}
_DSS_KEYS = frozenset({"/Type", "/VRI", "/Certs", "/OCSPs", "/CRLs"})
_VRI_KEYS = frozenset({"/Type", "/Cert", "/CRL", "/OCSP", "/TS", "/TU"})
_EXTENSION_KEYS = frozenset({"/Type", "/BaseVersion", "/ExtensionLevel", "/URL", "/ExtensionRevision"})
_MAX_FIELDS = 10_000
#: /Info entries that every writer updates on every incremental update.
_ROUTINE_INFO = frozenset({"/ModDate", "/Producer"})


@dataclass(frozen=True)
class Finding:
    """One failed rule: its reason code (``modification.…``) and where, in words."""

    reason: str
    detail: str


@dataclass
class LaterSignature:
    """A signature field signed after the signature under review: kind "filled", "new" or "timestamp"."""

    field: str
    kind: str
    revision: int
    boxes: list[tuple[int | None, tuple[float, float, float, float]]] = field(default_factory=list)

    def where(self) -> str:
        if not self.boxes:
            return "invisible"
        return "; ".join(f"page {page or '?'} {show_rect(rect)}" for page, rect in self.boxes)


@dataclass
class RevisionReview:
    """What one incremental update did, judged against the allow-list (independent of any signature)."""

    revision: int
    failures: list[Finding] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (check name, text)
    notes: list[tuple[str, str]] = field(default_factory=list)  # passing checks: (check name, text)
    signatures: list[LaterSignature] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)  # "signature", "timestamp", "dss", "metadata"


@dataclass
class ModificationReview:
    """The verdict on everything after one signed revision."""

    failures: list[Finding]
    warnings: list[tuple[str, str]]
    signatures: list[LaterSignature]
    level: str
    notes: list[tuple[str, str]] = field(default_factory=list)  # none | lta-updates | form-filling | other

    @property
    def ok(self) -> bool:
        return not self.failures


#: Covered-content finder: (revision before the seal, page number from 1, rect) -> what lies under it.
CoverFinder = Callable[[int, int, tuple[float, float, float, float]], list[str]]

_CACHE: weakref.WeakKeyDictionary[Any, dict[int, RevisionReview]] = weakref.WeakKeyDictionary()


def review_after(
    reader: Any, signed_revision: int, *, certification: int | None = None, covers: CoverFinder | None = None
) -> ModificationReview:
    """Judge every update after ``signed_revision``; ``certification`` is the DocMDP P in force (or None).

    ``covers`` names what signed content lies under a later signature's visible widget (a warning each).
    """
    failures: list[Finding] = []
    warnings: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    signatures: list[LaterSignature] = []
    kinds: set[str] = set()
    last = reader.xrefs.total_revisions - 1
    for revision in range(signed_revision + 1, last + 1):
        review = review_revision(reader, revision)
        failures += review.failures
        warnings += review.warnings
        notes += [note for note in review.notes if note not in notes]
        kinds |= review.kinds
        for later in review.signatures:
            signatures.append(later)
            failures += _certification_failures(later, certification)
            for page, rect in later.boxes:
                under = covers(later.revision - 1, page, rect) if covers is not None and page else []
                if under:
                    warnings.append(
                        (
                            "seal-overlap",
                            f"the seal of {later.field!r} on page {page} {show_rect(rect)} covers signed "
                            f"content: {', '.join(under[:4])}",
                        )
                    )
    if failures:
        level = "other"
    elif kinds & {"signature"}:
        level = "form-filling"
    elif kinds:
        level = "lta-updates"
    else:
        level = "none"
    return ModificationReview(failures, warnings, signatures, level, notes)


def _certification_failures(later: LaterSignature, certification: int | None) -> list[Finding]:
    if certification is None or later.kind == "timestamp":
        return []
    if certification == 1:
        return [
            Finding(
                "modification.docmdp-violation",
                f"the certification allows no changes (DocMDP P=1), but field {later.field!r} was signed "
                f"after it ({later.where()})",
            )
        ]
    if later.kind == "new":
        return [
            Finding(
                "modification.new-field",
                f"signature field {later.field!r} ({later.where()}) was added after the certification: a "
                "certified document takes signatures only in the fields it was certified with",
            )
        ]
    return []


def review_revision(reader: Any, revision: int) -> RevisionReview:
    """The review of the update that made ``revision`` (cached per reader)."""
    cached = _CACHE.setdefault(reader, {})
    if revision not in cached:
        review = RevisionReview(revision)
        try:
            _Rules(Revisions(reader, revision), review).run()
        except TooComplex as exc:
            review.failures.append(Finding("modification.too-complex", str(exc)))
        except Exception as exc:  # noqa: BLE001 - a hostile update that cannot be read is a failure
            text = " ".join(str(exc).split())[:160]
            review.failures.append(
                Finding("modification.unreadable-update", f"revision {revision}: {type(exc).__name__}: {text}")
            )
        cached[revision] = review
    return cached[revision]


def _reason(diff: Difference, default: str) -> str:
    if diff.forward is not None:
        return "modification.forward-reference"
    if diff.keys() & ACTION_KEYS:
        return "modification.action-added"
    return "modification." + default


def _describe(place: str, diff: Difference) -> str:
    if diff.forward is not None:
        path = " ".join(diff.path)
        return (
            f"{place}{' ' + path if path else ''} refers to object {diff.forward}, which the signed revision "
            "referred to but did not define; it was defined after signing"
        )
    return f"{place}: {diff.where()}: {diff.what}"


class _Rules:
    """The allow-list applied to one update (see the module docstring)."""

    def __init__(self, revs: Revisions, review: RevisionReview) -> None:
        self.revs = revs
        self.review = review
        self.filled_widgets: set[tuple[int, int]] = set()
        self.new_widgets: set[tuple[int, int]] = set()
        self.annot_page: dict[tuple[int, int], int] = {}
        self.field_count = 0
        self.seen: dict[tuple[Any, ...], tuple[int, list[str]]] = {}

    def fail(self, reason: str, detail: str) -> None:
        self.review.failures.append(Finding(reason, detail))

    def _found(self, place: str, diff: Difference | None, default: str) -> bool:
        if diff is None:
            return True
        key = (diff.obj, diff.path, diff.what)
        if key in self.seen:  # one changed object reached from several places: reported once, with them all
            index, places = self.seen[key]
            places.append(place)
            first = self.review.failures[index]
            self.review.failures[index] = Finding(first.reason, first.detail.split(" (also under: ")[0] + f" (also under: {', '.join(places)})")
            return False
        self.seen[key] = (len(self.review.failures), [])
        self.fail(_reason(diff, default), _describe(place, diff))
        return False

    def compare(self, place: str, old: Any, new: Any, default: str, path: tuple[str, ...] = ()) -> bool:
        """Compare two values (objects that a rule judges on its own count as equal here)."""
        return self._found(place, self.revs.diff(old, new, path), default)

    def compare_object(self, place: str, old: Any, new: Any, default: str, path: tuple[str, ...] = ()) -> bool:
        """Compare an object that this rule judges itself (a widget, a field that is not a dictionary…)."""
        return self._found(place, self.revs.diff_object(old, new, path), default)

    def run(self) -> None:
        revs = self.revs
        old_trailer, new_trailer = revs.old.trailer_view, revs.new.trailer_view
        old_root = revs.resolve(old_trailer.raw_get("/Root"), True)
        new_root = revs.resolve(new_trailer.raw_get("/Root"), False)
        if not isinstance(old_root, generic.DictionaryObject) or not isinstance(new_root, generic.DictionaryObject):
            self.fail("modification.catalog-changed", "the document catalog is missing")
            return
        self._defer(old_trailer.raw_get("/Root"), old_root)
        self._index_annotations(new_root)
        if _same_ref(old_trailer.raw_get("/Root"), new_trailer.raw_get("/Root")):
            revs.judge(new_trailer.raw_get("/Root"))
        self._form(old_root, new_root)
        self._pages(old_root, new_root)
        self._catalog(old_root, new_root)
        self._trailer(old_trailer, new_trailer)
        for idnum, generation in revs.unjudged():
            ref = generic.IndirectObject(idnum, generation, revs.reader)
            self.compare_object(f"object {idnum} (used where it was not expected)", ref, ref, "object-changed")

    def _defer(self, root_ref: Any, old_root: Any) -> None:
        """Every object a rule compares on its own, from the older revision: the catalog, the form and its
        fields and widgets, the page tree and its pages."""
        revs = self.revs
        deferred = revs.deferred
        for item in (root_ref, _get(old_root, "/AcroForm"), _get(old_root, "/Pages")):
            if isinstance(item, generic.IndirectObject) and revs.defined_old(item):
                deferred.add(_ref_key(item))
        for node_ref in _tree_refs(revs, _get(old_root, "/Pages"), "/Kids", lambda node: "/Kids" in node):
            deferred.add(node_ref)
        form = revs.resolve(_get(old_root, "/AcroForm"), True)
        if isinstance(form, generic.DictionaryObject):
            for field_ref in _tree_refs(revs, _get(form, "/Fields"), "/Kids", lambda node: True, array=True):
                deferred.add(field_ref)

    # -- the trailer and the catalog -------------------------------------------------------------------

    def _trailer(self, old: Any, new: Any) -> None:
        self._info(_get(old, "/Info"), _get(new, "/Info"))
        self.compare("trailer", _get(old, "/Encrypt"), _get(new, "/Encrypt"), "encryption-changed", ("/Encrypt",))

    def _info(self, old_item: Any, new_item: Any) -> None:
        """/Info: the modification date and producer that a writer stamps on every update are routine (a
        passing note); any other entry changed is a warning."""
        if self.revs.diff(old_item, new_item, ("/Info",)) is None:
            return
        self.review.kinds.add("metadata")
        old, new = self.revs.resolve(old_item, True), self.revs.resolve(new_item, False)
        old = old if isinstance(old, generic.DictionaryObject) else generic.DictionaryObject()
        if not isinstance(new, generic.DictionaryObject):
            self.review.warnings.append(("metadata", "the document information dictionary (/Info) was removed"))
            return
        changed = [key for key in sorted(set(old) | set(new)) if self.revs.diff(_get(old, key), _get(new, key)) is not None]
        other = [key for key in changed if key not in _ROUTINE_INFO]
        if other:
            shown = ", ".join(f"{key} {_short(old.get(key, '(none)'))!r} → {_short(new.get(key, '(none)'))!r}" for key in other[:4])
            self.review.warnings.append(("metadata", f"document information (/Info) changed after signing: {shown}"))
        else:
            self.review.notes.append(("metadata", f"document information: only {' and '.join(changed)} updated"))

    def _catalog(self, old: Any, new: Any) -> None:
        for key in sorted(set(old) | set(new)):
            if key in ("/Pages", "/AcroForm"):
                continue  # compared by their own rules
            diff = self.revs.diff(_get(old, key), _get(new, key), ("catalog", key))
            if diff is None:
                continue
            if key == "/DSS":
                self._dss(_get(new, key))
            elif key == "/Metadata":
                self.review.kinds.add("metadata")
                self.review.warnings.append(("metadata", "the XMP metadata (catalog /Metadata) changed after signing"))
            elif key == "/Extensions" and _extensions_ok(self.revs.resolve(_get(new, key), False), self.revs):
                self.review.kinds.add("dss")
            elif key == "/Version" and isinstance(_get(new, key), generic.NameObject):
                continue
            elif key == "/Perms":
                self.fail("modification.permissions-changed", _describe("catalog", diff))
            elif key == "/Names" and self._javascript_changed(_get(old, key), _get(new, key)):
                self.fail("modification.action-added", "catalog /Names /JavaScript: document JavaScript changed")
            else:
                self.fail(_reason(diff, "catalog-changed"), _describe("catalog", diff))

    def _javascript_changed(self, old: Any, new: Any) -> bool:
        resolve = self.revs.resolve
        old_names, new_names = resolve(old, True), resolve(new, False)
        old_js = _get(old_names, "/JavaScript") if isinstance(old_names, generic.DictionaryObject) else generic.NullObject()
        new_js = _get(new_names, "/JavaScript") if isinstance(new_names, generic.DictionaryObject) else generic.NullObject()
        return self.revs.diff(old_js, new_js) is not None

    def _dss(self, value: Any) -> None:
        resolve = self.revs.resolve
        dss = resolve(value, False)
        problem = None
        if not isinstance(dss, generic.DictionaryObject) or not set(dss) <= _DSS_KEYS:
            problem = "the DSS is not a dictionary of /VRI, /Certs, /OCSPs and /CRLs"
        else:
            for key in ("/Certs", "/OCSPs", "/CRLs"):
                if key in dss and not _streams(resolve(dss.raw_get(key), False), self.revs):
                    problem = f"DSS {key} is not an array of streams"
            vri = resolve(dss.raw_get("/VRI"), False) if "/VRI" in dss else generic.DictionaryObject()
            if not isinstance(vri, generic.DictionaryObject):
                problem = "DSS /VRI is not a dictionary"
            else:
                for entry in vri.values():
                    entry = resolve(entry, False)
                    if not isinstance(entry, generic.DictionaryObject) or not set(entry) <= _VRI_KEYS:
                        problem = "a DSS /VRI entry holds more than validation data"
        if problem:
            self.fail("modification.catalog-changed", problem)
        else:
            self.review.kinds.add("dss")

    # -- the form ---------------------------------------------------------------------------------------

    def _form(self, old_root: Any, new_root: Any) -> None:
        resolve = self.revs.resolve
        old_form = resolve(_get(old_root, "/AcroForm"), True)
        new_form = resolve(_get(new_root, "/AcroForm"), False)
        if _same_ref(_get(old_root, "/AcroForm"), _get(new_root, "/AcroForm")):
            self.revs.judge(_get(new_root, "/AcroForm"))
        old_form = old_form if isinstance(old_form, generic.DictionaryObject) else generic.DictionaryObject()
        if not isinstance(new_form, generic.DictionaryObject):
            self.compare("catalog", _get(old_root, "/AcroForm"), _get(new_root, "/AcroForm"), "form-changed")
            return
        old_fields = resolve(_get(old_form, "/Fields"), True)
        had_fields = isinstance(old_fields, generic.ArrayObject) and len(old_fields) > 0
        for key in sorted(set(old_form) | set(new_form)):
            if key in ("/Fields", "/SigFlags"):
                continue
            if key in ("/DR", "/DA") and not had_fields and key not in old_form:
                continue  # a form created by a later signature: its defaults change no signed field
            default = _FORM_REASONS.get(key, "form-changed")
            self.compare("AcroForm", _get(old_form, key), _get(new_form, key), default, ("AcroForm", key))
        self._fields(_get(old_form, "/Fields"), _get(new_form, "/Fields"), "", None, "AcroForm /Fields")

    def _fields(self, old: Any, new: Any, prefix: str, inherited: Any, place: str) -> None:
        old_list = self.revs.resolve(old, True)
        new_list = self.revs.resolve(new, False)
        old_list = old_list if isinstance(old_list, generic.ArrayObject) else generic.ArrayObject()
        if not isinstance(new_list, generic.ArrayObject):
            self.compare(place, old, new, "field-changed")
            return
        if len(new_list) < len(old_list):
            self.fail("modification.field-removed", f"{place}: {len(old_list)} entries became {len(new_list)}")
            return
        for index in range(len(old_list)):
            self._field(old_list.raw_get(index), new_list.raw_get(index), prefix, inherited, f"{place}[{index}]")
        for index in range(len(old_list), len(new_list)):
            self._new_field(new_list.raw_get(index), prefix, inherited)

    def _field(self, old_item: Any, new_item: Any, prefix: str, inherited: Any, place: str) -> None:
        self.field_count += 1
        if self.field_count > _MAX_FIELDS:
            raise TooComplex("too many form fields to compare")
        old_f, new_f = self.revs.resolve(old_item, True), self.revs.resolve(new_item, False)
        if not isinstance(old_f, generic.DictionaryObject) or not isinstance(new_f, generic.DictionaryObject):
            self.compare_object(place, old_item, new_item, "field-changed")
            return
        if _same_ref(old_item, new_item):
            self.revs.judge(new_item)
        name = prefix + str(old_f.get("/T", ""))
        kind = old_f.get("/FT", inherited)
        filling = kind == "/Sig" and "/V" not in old_f and "/V" in new_f
        label = f"form field {name!r}" + (f" (object {new_item.idnum})" if isinstance(new_item, generic.IndirectObject) else "")
        default = "signed-field-changed" if kind == "/Sig" and "/V" in old_f else "field-changed"
        skip = {"/Kids"} | ({"/V", "/AP"} if filling else set())
        for key in sorted((set(old_f) | set(new_f)) - skip):
            self.compare(label, _get(old_f, key), _get(new_f, key), default, (key,))
        if filling:
            later = self._signature_value(new_f, name, "filled")
            if later is None:
                return
            if "/Kids" not in new_f:
                self._filled_widget(old_item, new_item, new_f, label, later)
        if "/Kids" in old_f or "/Kids" in new_f:
            self._kids(old_f, new_f, name, kind, label, default, later if filling else None)

    def _kids(
        self, old_f: Any, new_f: Any, name: str, kind: Any, label: str, default: str, later: LaterSignature | None
    ) -> None:
        resolve = self.revs.resolve
        old_kids, new_kids = resolve(_get(old_f, "/Kids"), True), resolve(_get(new_f, "/Kids"), False)
        if not isinstance(old_kids, generic.ArrayObject) or not isinstance(new_kids, generic.ArrayObject):
            self.compare(label, _get(old_f, "/Kids"), _get(new_f, "/Kids"), default, ("/Kids",))
            return
        if len(new_kids) < len(old_kids):
            self.fail("modification." + default, f"{label}: {len(old_kids)} kids became {len(new_kids)}")
            return
        for index in range(len(old_kids)):
            old_item, new_item = old_kids.raw_get(index), new_kids.raw_get(index)
            old_kid = resolve(old_item, True)
            if isinstance(old_kid, generic.DictionaryObject) and "/T" in old_kid:
                self._field(old_item, new_item, name + ".", kind, f"{label} /Kids[{index}]")
                continue
            new_kid = resolve(new_item, False)
            if later is None or not isinstance(new_kid, generic.DictionaryObject):
                self.compare_object(label, old_item, new_item, default, ("/Kids", f"[{index}]"))
            elif _same_ref(old_item, new_item):
                self.revs.judge(new_item)
                for key in sorted((set(old_kid) | set(new_kid)) - {"/AP"}):
                    self.compare(label, _get(old_kid, key), _get(new_kid, key), default, ("/Kids", f"[{index}]", key))
                self._filled_widget(old_item, new_item, new_kid, label, later)
            else:
                self.fail("modification.field-changed", f"{label}: widget {index + 1} replaced by another object")
        for index in range(len(old_kids), len(new_kids)):
            kid = resolve(new_kids.raw_get(index), False)
            if isinstance(kid, generic.DictionaryObject) and "/T" in kid:
                self._new_field(new_kids.raw_get(index), name + ".", kind)
            else:
                self.fail("modification.annotation-added", f"{label}: a widget was added ({self._at(kid, new_kids.raw_get(index))})")

    def _signature_value(self, new_f: Any, name: str, kind: str) -> LaterSignature | None:
        """The field's new /V must be a signature dictionary written by this update."""
        value = new_f.raw_get("/V")
        sig = self.revs.resolve(value, False)
        if (
            not isinstance(value, generic.IndirectObject)
            or not self.revs.is_new_object(value)
            or not isinstance(sig, generic.DictionaryObject)
            or sig.get("/Type", "/Sig") not in ("/Sig", "/DocTimeStamp")
        ):
            self.fail("modification.field-changed", f"signature field {name!r}: /V is not a new signature")
            return None
        if sig.get("/Type") == "/DocTimeStamp":
            kind = "timestamp"
        later = LaterSignature(name, kind, self.revs.revision)
        self.review.signatures.append(later)
        self.review.kinds.add("timestamp" if kind == "timestamp" else "signature")
        return later

    def _filled_widget(self, old_item: Any, new_item: Any, widget: Any, label: str, later: LaterSignature) -> None:
        if _same_ref(old_item, new_item):
            self.filled_widgets.add(_ref_key(new_item))
        self._widget_box(widget, new_item, label, later)

    def _widget_box(self, widget: Any, ref: Any, label: str, later: LaterSignature, new: bool = False) -> None:
        """A signed widget: no actions, a four-number /Rect, a plain appearance; its box is noted."""
        actions = sorted(ACTION_KEYS & set(widget))
        if actions and not new:  # a new field's actions and rectangles are reported with the field
            self.fail("modification.action-added", f"{label}: the widget carries {', '.join(actions)} ({self._at(widget, ref)})")
        rect = rect_of(widget.get("/Rect"))
        if rect is None:
            if new:
                return
            self.fail("modification.malformed-rect", f"{label}: /Rect {_short(widget.get('/Rect'))} is not four numbers")
            return
        problem = _appearance_problem(widget, self.revs)
        if problem:
            self.fail("modification.appearance", f"{label}: {problem} ({self._at(widget, ref)})")
        if has_area(rect) and "/AP" in widget:
            later.boxes.append((self._page_of(widget, ref), rect))

    def _new_field(self, item: Any, prefix: str, inherited: Any) -> None:
        new_f = self.revs.resolve(item, False)
        if not isinstance(new_f, generic.DictionaryObject):
            self.fail("modification.new-field", f"a new form field entry that is not a dictionary ({_short(item)})")
            return
        name = prefix + str(new_f.get("/T", ""))
        kind = new_f.get("/FT", inherited)
        widgets = self._widgets_of(new_f, item)
        where = "; ".join(self._at(w, r) for w, r in widgets) or "no widget"
        for widget, ref in widgets:
            if isinstance(ref, generic.IndirectObject):
                self.new_widgets.add(_ref_key(ref))  # judged here, with the field: not again as an annotation
            if rect_of(widget.get("/Rect")) is None:
                self.fail(
                    "modification.malformed-rect",
                    f"new field {name!r}: /Rect {_short(widget.get('/Rect'))} is not four numbers",
                )
        actions = sorted(ACTION_KEYS & set(new_f)) or sorted({k for w, _ in widgets for k in ACTION_KEYS & set(w)})
        if actions:
            self.fail("modification.action-added", f"new field {name!r} carries {', '.join(actions)} ({where})")
        if kind != "/Sig":
            self.fail("modification.new-field", f"new {_kind_name(kind)} field {name!r} added after signing ({where})")
            return
        if "/V" not in new_f:
            self.fail("modification.new-field", f"new empty signature field {name!r} added after signing ({where})")
            return
        if not all(self.revs.is_new_object(r) for _, r in widgets if isinstance(r, generic.IndirectObject)):
            self.fail("modification.new-field", f"new signature field {name!r} reuses an existing object as widget")
            return
        later = self._signature_value(new_f, name, "new")
        if later is None:
            return
        for widget, ref in widgets:
            self._widget_box(widget, ref, f"signature field {name!r}", later, new=True)

    def _widgets_of(self, field_dict: Any, ref: Any) -> list[tuple[Any, Any]]:
        if "/Kids" not in field_dict:
            return [(field_dict, ref)]
        kids = self.revs.resolve(field_dict.raw_get("/Kids"), False)
        out = []
        for index in range(len(kids) if isinstance(kids, generic.ArrayObject) else 0):
            kid_ref = kids.raw_get(index)
            kid = self.revs.resolve(kid_ref, False)
            if isinstance(kid, generic.DictionaryObject) and "/T" not in kid:
                out.append((kid, kid_ref))
        return out

    # -- pages ------------------------------------------------------------------------------------------

    def _index_annotations(self, new_root: Any) -> None:
        for number, page in enumerate(_leaves(self.revs, _get(new_root, "/Pages"), old=False), start=1):
            annots = self.revs.resolve(_get(page, "/Annots"), False)
            for item in annots if isinstance(annots, generic.ArrayObject) else []:
                if isinstance(item, generic.IndirectObject):
                    self.annot_page.setdefault(_ref_key(item), number)

    def _pages(self, old_root: Any, new_root: Any) -> None:
        old_leaves = list(_leaves(self.revs, _get(old_root, "/Pages"), old=True))
        new_leaves = list(_leaves(self.revs, _get(new_root, "/Pages"), old=False))
        if len(old_leaves) != len(new_leaves):
            reason = "page-added" if len(new_leaves) > len(old_leaves) else "page-removed"
            self.fail(f"modification.{reason}", f"page count changed from {len(old_leaves)} to {len(new_leaves)}")
        self._page_nodes(_get(old_root, "/Pages"), _get(new_root, "/Pages"), [0])

    def _page_nodes(self, old_item: Any, new_item: Any, counter: list[int]) -> None:
        old, new = self.revs.resolve(old_item, True), self.revs.resolve(new_item, False)
        if not isinstance(old, generic.DictionaryObject) or not isinstance(new, generic.DictionaryObject):
            self.compare_object("page tree", old_item, new_item, "page-changed")
            return
        if _same_ref(old_item, new_item):
            self.revs.judge(new_item)
        if "/Kids" not in old and "/Kids" not in new:
            counter[0] += 1
            self._page(old, new, counter[0])
            return
        for key in sorted((set(old) | set(new)) - {"/Kids", "/Count"}):
            self.compare("page tree node", _get(old, key), _get(new, key), _PAGE_REASONS.get(key, "page-changed"), (key,))
        old_kids = self.revs.resolve(_get(old, "/Kids"), True)
        new_kids = self.revs.resolve(_get(new, "/Kids"), False)
        if not isinstance(old_kids, generic.ArrayObject) or not isinstance(new_kids, generic.ArrayObject):
            self.compare("page tree node", _get(old, "/Kids"), _get(new, "/Kids"), "page-changed", ("/Kids",))
            return
        for index in range(min(len(old_kids), len(new_kids))):
            self._page_nodes(old_kids.raw_get(index), new_kids.raw_get(index), counter)

    def _page(self, old: Any, new: Any, number: int) -> None:
        place = f"page {number}"
        for key in sorted((set(old) | set(new)) - {"/Annots"}):
            self.compare(place, _get(old, key), _get(new, key), _PAGE_REASONS.get(key, "page-changed"), (key,))
        old_annots = self.revs.resolve(_get(old, "/Annots"), True)
        new_annots = self.revs.resolve(_get(new, "/Annots"), False)
        old_annots = old_annots if isinstance(old_annots, generic.ArrayObject) else generic.ArrayObject()
        if not isinstance(new_annots, generic.ArrayObject):
            self.compare(place, _get(old, "/Annots"), _get(new, "/Annots"), "annotation-changed", ("/Annots",))
            return
        for index in range(len(old_annots)):
            if index >= len(new_annots):
                self.fail("modification.annotation-removed", f"{place}: {len(old_annots)} annotations became {len(new_annots)}")
                break
            old_item, new_item = old_annots.raw_get(index), new_annots.raw_get(index)
            if _same_ref(old_item, new_item) and _ref_key(new_item) in self.filled_widgets:
                continue  # the widget of a field signed in this update, judged with the field
            diff = self.revs.diff(old_item, new_item, ("/Annots", f"[{index}]"))
            if diff is not None:
                annot = self.revs.resolve(new_item, False)
                self.fail(_reason(diff, "annotation-changed"), _describe(f"{place} ({self._at(annot, new_item)})", diff))
        for index in range(len(old_annots), len(new_annots)):
            item = new_annots.raw_get(index)
            if isinstance(item, generic.IndirectObject) and _ref_key(item) in self.new_widgets:
                continue
            annot = self.revs.resolve(item, False)
            subtype = annot.get("/Subtype", "?") if isinstance(annot, generic.DictionaryObject) else "?"
            actions = ACTION_KEYS & set(annot) if isinstance(annot, generic.DictionaryObject) else set()
            reason = "action-added" if actions else "annotation-added"
            self.fail(f"modification.{reason}", f"{place}: a {subtype} annotation was added ({self._at(annot, item)})")

    # -- places, for the report -------------------------------------------------------------------------

    def _page_of(self, widget: Any, ref: Any) -> int | None:
        if isinstance(ref, generic.IndirectObject) and _ref_key(ref) in self.annot_page:
            return self.annot_page[_ref_key(ref)]
        return None

    def _at(self, annot: Any, ref: Any) -> str:
        parts = []
        if isinstance(ref, generic.IndirectObject):
            parts.append(f"object {ref.idnum}")
            page = self._page_of(annot, ref)
            if page:
                parts.append(f"page {page}")
        if isinstance(annot, generic.DictionaryObject) and "/Rect" in annot:
            rect = rect_of(annot.get("/Rect"))
            parts.append(show_rect(rect) if rect else f"/Rect {_short(annot.get('/Rect'))}")
        return ", ".join(parts) or "not on a page"


def _leaves(revs: Revisions, root_item: Any, *, old: bool) -> list[Any]:
    """The page dictionaries of the page tree, in order (cycles and depth bounded)."""
    out: list[Any] = []
    stack = [(root_item, 0)]
    seen: set[tuple[int, int]] = set()
    while stack and len(out) < 100_000:
        item, depth = stack.pop()
        if isinstance(item, generic.IndirectObject):
            if _ref_key(item) in seen:
                continue
            seen.add(_ref_key(item))
        node = revs.resolve(item, old)
        if not isinstance(node, generic.DictionaryObject) or depth > 64:
            continue
        if "/Kids" in node:
            kids = revs.resolve(node.raw_get("/Kids"), old)
            if isinstance(kids, generic.ArrayObject):
                stack.extend((kids.raw_get(i), depth + 1) for i in reversed(range(len(kids))))
        else:
            out.append(node)
    return out


def _tree_refs(revs: Revisions, top: Any, kids_key: str, descend: Any, array: bool = False) -> set[tuple[int, int]]:
    """The references of a tree's nodes in the older revision (page tree, field tree), bounded."""
    found: set[tuple[int, int]] = set()
    start = revs.resolve(top, True) if array else generic.ArrayObject([top])
    stack = [start.raw_get(i) for i in range(len(start))] if isinstance(start, generic.ArrayObject) else []
    while stack and len(found) < 200_000:
        item = stack.pop()
        if not isinstance(item, generic.IndirectObject) or _ref_key(item) in found or not revs.defined_old(item):
            continue
        found.add(_ref_key(item))
        node = revs.resolve(item, True)
        if isinstance(node, generic.DictionaryObject) and descend(node) and kids_key in node:
            kids = revs.resolve(node.raw_get(kids_key), True)
            if isinstance(kids, generic.ArrayObject):
                stack.extend(kids.raw_get(i) for i in range(len(kids)))
    return found


def _appearance_problem(widget: Any, revs: Revisions) -> str | None:
    """Why a widget's /AP is not a plain appearance (None if it is, or if there is none)."""
    if "/AP" not in widget:
        return None
    ap = revs.resolve(widget.raw_get("/AP"), False)
    if not isinstance(ap, generic.DictionaryObject) or not set(ap) <= {"/N", "/R", "/D"}:
        return "/AP is not an appearance dictionary"
    for key in ap:
        entry = revs.resolve(ap.raw_get(key), False)
        streams = [entry] if isinstance(entry, generic.StreamObject) else []
        if isinstance(entry, generic.DictionaryObject) and not streams:
            streams = [revs.resolve(entry.raw_get(state), False) for state in entry]
        for stream in streams:
            if not isinstance(stream, generic.StreamObject) or rect_of(stream.get("/BBox")) is None:
                return f"/AP {key} is not a form XObject with a /BBox of four numbers"
    return None


def _extensions_ok(value: Any, revs: Revisions) -> bool:
    if not isinstance(value, generic.DictionaryObject):
        return False
    for key in value:
        entry = revs.resolve(value.raw_get(key), False)
        entries = list(entry) if isinstance(entry, generic.ArrayObject) else [entry]
        for item in entries:
            item = revs.resolve(item, False)
            if not isinstance(item, generic.DictionaryObject) or not set(item) <= _EXTENSION_KEYS:
                return False
    return True


def _streams(value: Any, revs: Revisions) -> bool:
    if not isinstance(value, generic.ArrayObject):
        return False
    return all(isinstance(revs.resolve(value.raw_get(i), False), generic.StreamObject) for i in range(len(value)))


def _get(container: Any, key: str) -> Any:
    """The raw value under ``key`` (a reference stays a reference), or null when absent."""
    try:
        return container.raw_get(key)
    except (KeyError, AttributeError):
        return generic.NullObject()


def _same_ref(a: Any, b: Any) -> bool:
    return isinstance(a, generic.IndirectObject) and isinstance(b, generic.IndirectObject) and _ref_key(a) == _ref_key(b)


def _ref_key(ref: Any) -> tuple[int, int]:
    return int(ref.idnum), int(ref.generation)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _kind_name(kind: Any) -> str:
    return {"/Tx": "text", "/Btn": "button", "/Ch": "choice", "/Sig": "signature"}.get(str(kind), "untyped")


def certification_level(reader: Any, revision: int) -> int | None:
    """The DocMDP permission P (1, 2 or 3) of the document's certification at ``revision``, or None."""
    try:
        root = reader.get_historical_resolver(revision).root
        sig = root["/Perms"]["/DocMDP"]
        for reference in sig.get("/Reference", []):
            reference = reference.get_object()
            if reference.get("/TransformMethod") == "/DocMDP":
                params = reference.get("/TransformParams", generic.DictionaryObject())
                value = int(params.get("/P", 2))
                return value if value in (1, 2, 3) else 1
        return 2
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


_MAX_REPORTED = 12


def record(verdict: Any, review: ModificationReview) -> None:
    """Put a review into a :class:`~sealkit.pdf.report.SignatureVerdict`: failures, later seals, warnings."""
    verdict.modification = review.level
    for finding in review.failures[:_MAX_REPORTED]:
        verdict.check("modification", False, f"changed after signing: {finding.detail}", finding.reason)
    if len(review.failures) > _MAX_REPORTED:
        verdict.check("modification", False, f"… and {len(review.failures) - _MAX_REPORTED} more changes")
    for later in review.signatures:
        what = "document timestamp" if later.kind == "timestamp" else f"signature {later.field!r}"
        how = "in a new field" if later.kind == "new" else "in its prepared field"
        verdict.check("later-signature", True, f"{what} added later {how}: {later.where()}")
    for name, text in review.notes:
        verdict.check(name, True, text)
    for name, text in review.warnings:
        verdict.check(name, False, text)
    if not review.failures:
        detail = {
            "none": "no change after signing",
            "lta-updates": "only validation data and timestamps added",
        }.get(review.level, "only later signatures, validation data and timestamps added")
        verdict.check("modification", True, detail)


def _der_length(data: bytes) -> int | None:
    """The length of the DER SEQUENCE at the start of ``data`` (header included), or None."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def contents_checks(verdict: Any, sig_object: Any, embedded: Any, subfilter: str) -> None:
    """Bytes after the CMS inside /Contents (only zero padding may follow it), and for PAdES
    (ETSI.CAdES.detached) the signingCertificateV2 attribute naming the signer's certificate."""
    try:
        contents = bytes(sig_object.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW).original_bytes)
    except (KeyError, AttributeError):
        return
    length = _der_length(contents)
    if length is not None and length <= len(contents):
        extra = contents[length:].rstrip(b"\x00")
        if extra:
            verdict.check(
                "contents",
                False,
                f"{len(extra)} bytes follow the CMS inside /Contents (from byte {length}): only zero padding may",
                "modification.contents-trailing-bytes",
            )
    if subfilter == "/ETSI.CAdES.detached" and sig_object.get("/Type", "/Sig") == "/Sig":
        _signing_certificate_v2(verdict, embedded)


def _signing_certificate_v2(verdict: Any, embedded: Any) -> None:
    from asn1crypto import core
    from cryptography.hazmat.primitives import hashes

    attrs = embedded.signer_info["signed_attrs"]
    values = [a["values"] for a in attrs if a["type"].native == "signing_certificate_v2"] if attrs is not core.VOID else []
    if not values:
        verdict.check(
            "format",
            False,
            "PAdES signature (ETSI.CAdES.detached) without the signingCertificateV2 attribute",
            "format.no-signing-certificate-v2",
        )
        return
    try:
        cert_id = values[0][0]["certs"][0]
        algorithm = cert_id["hash_algorithm"]["algorithm"].native
        digest = hashes.Hash(getattr(hashes, algorithm.upper().replace("SHA3_", "SHA3_"))())
        digest.update(embedded.signer_cert.dump())
        matches = digest.finalize() == cert_id["cert_hash"].native
    except Exception:  # noqa: BLE001 - an unreadable attribute cannot name the certificate
        matches = False
    if not matches:
        verdict.check(
            "format",
            False,
            "the signingCertificateV2 attribute does not name the signer's certificate",
            "format.signing-certificate-mismatch",
        )
