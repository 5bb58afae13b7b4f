"""Form rules of the contract allow-list: which changes to the AcroForm, its fields and widgets an update
after a signature may make (see :mod:`sealkit.pdf.verify_policy` for the whole list).

An existing empty signature field may be signed: it gets ``/V`` (a signature dictionary written in the
same update) and its widgets — the main one and the cross-page strips reserved as its kids — an
appearance, nothing else. A new signature field is allowed only when it is signed in the update that adds
it, and only in the shape honest tools write (:mod:`sealkit.pdf.signature_shape`: no widget of another
field type, no ``/MK`` to draw, a document timestamp that paints nothing); any other new field, a field or
widget that changes otherwise, actions, a malformed ``/Rect`` and changes to ``/NeedAppearances``, ``/DR``
and ``/DA`` are findings.
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.pdf.modifications import Revisions, TooComplex, has_area, rect_of
from sealkit.pdf.rule_context import ACTION_KEYS, LaterSignature, RuleContext, raw, ref_key, same_ref, short
from sealkit.pdf.signature_shape import field_problems, quiet_appearance

_FORM_REASONS = {
    "/NeedAppearances": "need-appearances",
    "/DR": "default-resources",
    "/DA": "default-appearance",
}
_MAX_FIELDS = 10_000


class FormRules(RuleContext):
    """The rules for the form (mixed into :class:`sealkit.pdf.revision_rules.RevisionRules`)."""

    def _form(self, old_root: Any, new_root: Any) -> None:
        resolve = self.revs.resolve
        old_form = resolve(raw(old_root, "/AcroForm"), True)
        new_form = resolve(raw(new_root, "/AcroForm"), False)
        if same_ref(raw(old_root, "/AcroForm"), raw(new_root, "/AcroForm")):
            self.revs.judge(raw(new_root, "/AcroForm"))
        old_form = old_form if isinstance(old_form, generic.DictionaryObject) else generic.DictionaryObject()
        if not isinstance(new_form, generic.DictionaryObject):
            self.compare("catalog", raw(old_root, "/AcroForm"), raw(new_root, "/AcroForm"), "form-changed")
            return
        old_fields = resolve(raw(old_form, "/Fields"), True)
        had_fields = isinstance(old_fields, generic.ArrayObject) and len(old_fields) > 0
        for key in sorted(set(old_form) | set(new_form)):
            if key in ("/Fields", "/SigFlags"):
                continue
            if key in ("/DR", "/DA") and not had_fields and key not in old_form:
                continue  # a form created by a later signature: its defaults change no signed field
            default = _FORM_REASONS.get(key, "form-changed")
            self.compare("AcroForm", raw(old_form, key), raw(new_form, key), default, ("AcroForm", key))
        self._fields(raw(old_form, "/Fields"), raw(new_form, "/Fields"), "", None, "AcroForm /Fields")

    def _fields(self, old: Any, new: Any, prefix: str, inherited: Any, place: str) -> None:
        old_list = self.revs.resolve(old, True)
        new_list = self.revs.resolve(new, False)
        old_list = old_list if isinstance(old_list, generic.ArrayObject) else generic.ArrayObject()
        if not isinstance(new_list, generic.ArrayObject):
            self.compare(place, old, new, "field-changed")
            return
        if len(new_list) < len(old_list):
            self.fail(
                "modification.field-removed", f"{place}: {len(old_list)} entries became {len(new_list)}"
            )
            return
        for index in range(len(old_list)):
            self._field(
                old_list.raw_get(index), new_list.raw_get(index), prefix, inherited, f"{place}[{index}]"
            )
        for index in self._once(new_list, len(old_list), place):
            self._new_field(new_list.raw_get(index), prefix, inherited)

    def _once(self, array: Any, start: int, place: str) -> list[int]:
        """The indices from ``start`` of the entries of ``array`` that are not listed in it before: a field
        or widget listed twice is a finding (it would be judged, counted and walked twice)."""
        seen: set[tuple[int, int]] = set()
        out, repeated = [], 0
        for index in range(len(array)):
            item = array.raw_get(index)
            key = ref_key(item) if isinstance(item, generic.IndirectObject) else None
            if key is not None and key in seen:
                repeated += index >= start
                continue
            if key is not None:
                seen.add(key)
            if index >= start:
                out.append(index)
        if repeated:
            self.fail(
                "modification.duplicate-field", f"{place}: {repeated} entries list a field or widget again"
            )
        return out

    def _field(self, old_item: Any, new_item: Any, prefix: str, inherited: Any, place: str) -> None:
        self.field_count += 1
        if self.field_count > _MAX_FIELDS:
            raise TooComplex("too many form fields to compare")
        old_f, new_f = self.revs.resolve(old_item, True), self.revs.resolve(new_item, False)
        if not isinstance(old_f, generic.DictionaryObject) or not isinstance(new_f, generic.DictionaryObject):
            self.compare_object(place, old_item, new_item, "field-changed")
            return
        if same_ref(old_item, new_item):
            self.revs.judge(new_item)
        name = prefix + str(old_f.get("/T", ""))
        kind = old_f.get("/FT", inherited)
        filling = kind == "/Sig" and "/V" not in old_f and "/V" in new_f
        label = f"form field {name!r}" + (
            f" (object {new_item.idnum})" if isinstance(new_item, generic.IndirectObject) else ""
        )
        default = "signed-field-changed" if kind == "/Sig" and "/V" in old_f else "field-changed"
        skip = {"/Kids"} | ({"/V", "/AP"} if filling else set())
        if filling and _only_locked(old_f, new_f):
            skip.add("/F")  # iText's PdfSigner sets the Locked flag of the field it signs
        for key in sorted((set(old_f) | set(new_f)) - skip):
            self.compare(label, raw(old_f, key), raw(new_f, key), default, (key,))
        if filling:
            later = self._signature_value(new_f, name, "filled")
            if later is None:
                return
            if "/Kids" not in new_f:
                self._filled_widget(old_item, new_item, new_f, label, later)
        if "/Kids" in old_f or "/Kids" in new_f:
            self._kids(old_f, new_f, name, kind, label, default, later if filling else None)

    def _kids(
        self,
        old_f: Any,
        new_f: Any,
        name: str,
        kind: Any,
        label: str,
        default: str,
        later: LaterSignature | None,
    ) -> None:
        resolve = self.revs.resolve
        old_kids, new_kids = resolve(raw(old_f, "/Kids"), True), resolve(raw(new_f, "/Kids"), False)
        if not isinstance(old_kids, generic.ArrayObject) or not isinstance(new_kids, generic.ArrayObject):
            self.compare(label, raw(old_f, "/Kids"), raw(new_f, "/Kids"), default, ("/Kids",))
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
            elif same_ref(old_item, new_item):
                self.revs.judge(new_item)
                for key in sorted((set(old_kid) | set(new_kid)) - {"/AP"}):
                    self.compare(
                        label, raw(old_kid, key), raw(new_kid, key), default, ("/Kids", f"[{index}]", key)
                    )
                self._filled_widget(old_item, new_item, new_kid, label, later)
            else:
                self.fail(
                    "modification.field-changed", f"{label}: widget {index + 1} replaced by another object"
                )
        for index in self._once(new_kids, len(old_kids), f"{label} /Kids"):
            kid = resolve(new_kids.raw_get(index), False)
            if isinstance(kid, generic.DictionaryObject) and "/T" in kid:
                self._new_field(new_kids.raw_get(index), name + ".", kind)
            else:
                self.fail(
                    "modification.annotation-added",
                    f"{label}: a widget was added ({self._at(kid, new_kids.raw_get(index))})",
                )

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
            if kind == "filled":
                self.fail(
                    "modification.timestamp-in-prepared-field",
                    f"signature field {name!r} was prepared for a signer but holds a document timestamp",
                )
            kind = "timestamp"
        if self._sub_fields(new_f):
            self.fail(
                "modification.signature-with-subfields",
                f"signature field {name!r} has a value (/V) and also fields under it (/Kids with /T)",
            )
        if any(other.value == ref_key(value) for other in self.review.signatures):
            self.fail(
                "modification.duplicate-field",
                f"signature field {name!r} shares its value (object {value.idnum}) with another field",
            )
        later = LaterSignature(name, kind, self.revs.revision, value=ref_key(value))
        self.review.signatures.append(later)
        self.review.kinds.add("timestamp" if kind == "timestamp" else "signature")
        return later

    def _filled_widget(
        self, old_item: Any, new_item: Any, widget: Any, label: str, later: LaterSignature
    ) -> None:
        if same_ref(old_item, new_item):
            self.filled_widgets.add(ref_key(new_item))
        self._widget_box(widget, new_item, label, later)

    def _widget_box(
        self, widget: Any, ref: Any, label: str, later: LaterSignature, new: bool = False
    ) -> None:
        """A signed widget: no actions, a four-number /Rect, a plain appearance; its box is noted."""
        actions = sorted(ACTION_KEYS & set(widget))
        if actions and not new:  # a new field's actions and rectangles are reported with the field
            self.fail(
                "modification.action-added",
                f"{label}: the widget carries {', '.join(actions)} ({self._at(widget, ref)})",
            )
        rect = rect_of(widget.get("/Rect"))
        if rect is None:
            if new:
                return
            self.fail(
                "modification.malformed-rect",
                f"{label}: /Rect {short(widget.get('/Rect'))} is not four numbers",
            )
            return
        self._widget_pages(widget, ref, label)
        problem = _appearance_problem(widget, self.revs)
        if problem:
            self.fail("modification.appearance", f"{label}: {problem} ({self._at(widget, ref)})")
        quiet = later.kind == "timestamp" and quiet_appearance(widget, lambda v: self.revs.resolve(v, False))
        if has_area(rect) and "/AP" in widget and not quiet:
            later.boxes.append((self._page_of(widget, ref), rect))

    def _widget_pages(self, widget: Any, ref: Any, label: str) -> None:
        """A signed widget is listed on one page only, the page its /P names (a viewer shows it on every
        page that lists it, while the report and the overlap warning name one)."""
        pages = self.annot_pages.get(ref_key(ref), []) if isinstance(ref, generic.IndirectObject) else []
        if len(pages) > 1:
            self.fail(
                "modification.annotation-on-two-pages",
                f"{label}: the widget is listed on pages {', '.join(map(str, pages))} "
                f"({self._at(widget, ref)})",
            )
        owner = raw(widget, "/P")
        if pages and isinstance(owner, generic.IndirectObject):
            number = self.page_numbers.get(ref_key(owner))
            if number not in pages:
                self.fail(
                    "modification.annotation-page-mismatch",
                    f"{label}: the widget is listed on page {pages[0]} but its /P names "
                    f"{f'page {number}' if number else f'object {owner.idnum}, not a page'}",
                )

    def _new_field(self, item: Any, prefix: str, inherited: Any) -> None:
        new_f = self.revs.resolve(item, False)
        if not isinstance(new_f, generic.DictionaryObject):
            self.fail(
                "modification.new-field", f"a new form field entry that is not a dictionary ({short(item)})"
            )
            return
        name = prefix + str(new_f.get("/T", ""))
        kind = new_f.get("/FT", inherited)
        widgets = self._widgets_of(new_f, item)
        where = "; ".join(self._at(w, r) for w, r in widgets) or "no widget"
        for widget, ref in widgets:
            if isinstance(ref, generic.IndirectObject):
                self.new_widgets.add(ref_key(ref))  # judged here, with the field: not again as an annotation
            if rect_of(widget.get("/Rect")) is None:
                self.fail(
                    "modification.malformed-rect",
                    f"new field {name!r}: /Rect {short(widget.get('/Rect'))} is not four numbers",
                )
        actions = sorted(ACTION_KEYS & set(new_f)) or sorted(
            {k for w, _ in widgets for k in ACTION_KEYS & set(w)}
        )
        if actions:
            self.fail(
                "modification.action-added", f"new field {name!r} carries {', '.join(actions)} ({where})"
            )
        if kind != "/Sig":
            self.fail(
                "modification.new-field",
                f"new {_kind_name(kind)} field {name!r} added after signing ({where})",
            )
            return
        if "/V" not in new_f:
            self.fail(
                "modification.new-field", f"new empty signature field {name!r} added after signing ({where})"
            )
            return
        if not all(self.revs.is_new_object(r) for _, r in widgets if isinstance(r, generic.IndirectObject)):
            self.fail(
                "modification.new-field", f"new signature field {name!r} reuses an existing object as widget"
            )
            return
        later = self._signature_value(new_f, name, "new")
        if later is None:
            return
        for widget, ref in widgets:
            self._widget_box(widget, ref, f"signature field {name!r}", later, new=True)
        self._new_field_shape(new_f, item, widgets, name, later, bool(prefix))

    def _new_field_shape(
        self,
        new_f: Any,
        item: Any,
        widgets: list[tuple[Any, Any]],
        name: str,
        later: LaterSignature,
        nested: bool,
    ) -> None:
        """A new signature field has the shape honest tools write (:mod:`sealkit.pdf.signature_shape`):
        a document timestamp shows nothing, a later seal shows its appearance and nothing else."""
        timestamp = later.kind == "timestamp"
        what = "document timestamp" if timestamp else "new signature field"
        resolve = lambda v: self.revs.resolve(v, False)  # noqa: E731
        for problem in field_problems(new_f, item, widgets, resolve, timestamp=timestamp, nested=nested):
            shown = "visible-timestamp" if timestamp else "appearance"
            reason = shown if problem.display else "new-field"
            if problem.widget is None:
                where = "; ".join(self._at(w, r) for w, r in widgets) or "no widget"
                subject = f"{what} {name!r}"
            else:
                widget, ref = widgets[problem.widget]
                where = self._at(widget, ref)
                subject = f"{what} {name!r}" + (", its widget" if widget is not new_f else "")
            self.fail(f"modification.{reason}", f"{subject}: {problem.text} ({where})")

    def _sub_fields(self, field_dict: Any) -> bool:
        kids = self.revs.resolve(raw(field_dict, "/Kids"), False)
        return isinstance(kids, generic.ArrayObject) and any(
            isinstance(kid := self.revs.resolve(kids.raw_get(i), False), generic.DictionaryObject)
            and "/T" in kid
            for i in range(len(kids))
        )

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


def _only_locked(old: Any, new: Any) -> bool:
    """The annotation flags /F gained the Locked bit (128) and nothing else (both written directly)."""
    before, after = old.raw_get("/F") if "/F" in old else 0, new.raw_get("/F") if "/F" in new else 0
    numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (before, after))
    return numbers and int(after) == int(before) | 128 and int(after) != int(before)


def _kind_name(kind: Any) -> str:
    return {"/Tx": "text", "/Btn": "button", "/Ch": "choice", "/Sig": "signature"}.get(str(kind), "untyped")
