"""The contract allow-list applied to one incremental update: :func:`review_revision`.

The catalog, the trailer, the validation data and the pages; the form is in
:class:`sealkit.pdf.form_rules.FormRules`. Every object a rule compares on its own (the catalog, the form,
its fields and widgets, the page tree) is *deferred*: reached through a reference from elsewhere it counts
as equal there, and any such object that no rule ended up comparing is compared at the end, so an object
can be neither skipped nor judged by a lenient rule through a side door.
"""

from __future__ import annotations

import weakref
from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.pdf.form_rules import FormRules
from sealkit.pdf.modifications import Revisions, TooComplex
from sealkit.pdf.rule_context import (
    ACTION_KEYS,
    Finding,
    RevisionReview,
    describe,
    raw,
    reason_of,
    ref_key,
    same_ref,
    short,
    tree_refs,
)
from sealkit.pdf.verify_structure import update_syntax_problems

_PAGE_REASONS = {"/Contents": "page-content", "/Resources": "page-resources"}
_DSS_KEYS = frozenset({"/Type", "/VRI", "/Certs", "/OCSPs", "/CRLs"})
_VRI_KEYS = frozenset({"/Type", "/Cert", "/CRL", "/OCSP", "/TS", "/TU"})
_EXTENSION_KEYS = frozenset({"/Type", "/BaseVersion", "/ExtensionLevel", "/URL", "/ExtensionRevision"})
#: /Info entries that every writer updates on every incremental update.
_ROUTINE_INFO = frozenset({"/ModDate", "/Producer"})

_CACHE: weakref.WeakKeyDictionary[Any, dict[int, RevisionReview]] = weakref.WeakKeyDictionary()


def review_revision(reader: Any, revision: int) -> RevisionReview:
    """The review of the update that made ``revision`` (cached per reader)."""
    cached = _CACHE.setdefault(reader, {})
    if revision not in cached:
        review = RevisionReview(revision)
        try:
            for reason, detail in update_syntax_problems(reader, revision):
                review.failures.append(Finding(reason, f"revision {revision + 1}: {detail}"))
            RevisionRules(Revisions(reader, revision), review).run()
        except TooComplex as exc:
            review.failures.append(Finding("modification.too-complex", str(exc)))
        except Exception as exc:  # noqa: BLE001 - a hostile update that cannot be read is a failure
            text = " ".join(str(exc).split())[:160]
            review.failures.append(
                Finding(
                    "modification.unreadable-update", f"revision {revision}: {type(exc).__name__}: {text}"
                )
            )
        cached[revision] = review
    return cached[revision]


class RevisionRules(FormRules):
    """The allow-list applied to one update (see :mod:`sealkit.pdf.verify_policy`)."""

    def run(self) -> None:
        revs = self.revs
        old_trailer, new_trailer = revs.old.trailer_view, revs.new.trailer_view
        old_root = revs.resolve(old_trailer.raw_get("/Root"), True)
        new_root = revs.resolve(new_trailer.raw_get("/Root"), False)
        if not isinstance(old_root, generic.DictionaryObject) or not isinstance(
            new_root, generic.DictionaryObject
        ):
            self.fail("modification.catalog-changed", "the document catalog is missing")
            return
        self._object_streams_rewritten()
        self._defer(old_trailer.raw_get("/Root"), old_root)
        self._index_annotations(new_root)
        if same_ref(old_trailer.raw_get("/Root"), new_trailer.raw_get("/Root")):
            revs.judge(new_trailer.raw_get("/Root"))
        self._form(old_root, new_root)
        self._pages(old_root, new_root)
        self._catalog(old_root, new_root)
        self._trailer(old_trailer, new_trailer)
        for idnum, generation in revs.unjudged():
            ref = generic.IndirectObject(idnum, generation, revs.reader)
            self.compare_object(
                f"object {idnum} (used where it was not expected)", ref, ref, "object-changed"
            )
        self._deferred_stream_data()

    def _object_streams_rewritten(self) -> None:
        """An update may not redefine an object stream that an earlier revision stored objects in.

        pyHanko reads an object stream's members from the *newest* definition of the stream in every
        revision's view, so rewriting the stream (and registering only the stream) changes the signed
        objects in the view of the signed revision too, and a comparison would see no change; viewers show
        the new members. No writer reuses the number of an object stream in an incremental update.
        """
        xrefs = self.revs.reader.xrefs
        used: set[int] = set()
        for revision in range(self.revs.revision):
            section = xrefs.get_xref_data(revision)
            used |= section.obj_streams_used
            if section.hybrid is not None:
                used |= section.hybrid.xref_data.obj_streams_used
        for idnum in sorted({idnum for idnum, _ in self.revs.changed} & used):
            self.fail(
                "modification.object-stream-rewritten",
                f"object stream {idnum}, which holds objects of an earlier revision, was rewritten after "
                "signing: the signed objects in it may read differently now",
            )

    def _deferred_stream_data(self) -> None:
        """The rules compare the catalog, the form, fields, widgets and pages key by key: one that is also
        a stream (a field drawn as a form XObject) has its data compared here."""
        revs = self.revs
        for key in sorted(revs.deferred & revs.changed):
            ref = generic.IndirectObject(*key, revs.reader)
            if not (revs.defined_old(ref) and revs.defined_new(ref)):
                continue
            old, new = revs.resolve(ref, True), revs.resolve(ref, False)
            streams = isinstance(old, generic.StreamObject), isinstance(new, generic.StreamObject)
            if streams == (False, False):
                continue
            if streams != (True, True) or old.encoded_data != new.encoded_data:
                self.fail(
                    "modification.object-changed",
                    f"object {key[0]}, compared as a dictionary by its rule, is also a stream whose data "
                    "changed after signing",
                )

    def _defer(self, root_ref: Any, old_root: Any) -> None:
        """Every object a rule compares on its own, from the older revision: the catalog, the form and its
        fields and widgets, the page tree and its pages."""
        revs = self.revs
        deferred = revs.deferred
        for item in (root_ref, raw(old_root, "/AcroForm"), raw(old_root, "/Pages")):
            if isinstance(item, generic.IndirectObject) and revs.defined_old(item):
                deferred.add(ref_key(item))
        for node_ref in tree_refs(revs, raw(old_root, "/Pages"), "/Kids", lambda node: "/Kids" in node):
            deferred.add(node_ref)
        form = revs.resolve(raw(old_root, "/AcroForm"), True)
        if isinstance(form, generic.DictionaryObject):
            for field_ref in tree_refs(revs, raw(form, "/Fields"), "/Kids", lambda node: True, array=True):
                deferred.add(field_ref)

    # -- the trailer and the catalog -------------------------------------------------------------------

    def _trailer(self, old: Any, new: Any) -> None:
        self._info(raw(old, "/Info"), raw(new, "/Info"))
        self.compare(
            "trailer", raw(old, "/Encrypt"), raw(new, "/Encrypt"), "encryption-changed", ("/Encrypt",)
        )

    def _info(self, old_item: Any, new_item: Any) -> None:
        """/Info: the modification date and producer that a writer stamps on every update are routine (a
        passing note); any other entry changed is a warning."""
        if self.revs.diff(old_item, new_item, ("/Info",)) is None:
            return
        old, new = self.revs.resolve(old_item, True), self.revs.resolve(new_item, False)
        old = old if isinstance(old, generic.DictionaryObject) else generic.DictionaryObject()
        if not isinstance(new, generic.DictionaryObject):
            self.review.kinds.add("metadata")
            self.review.warnings.append(
                ("metadata", "the document information dictionary (/Info) was removed")
            )
            return
        changed = [
            key
            for key in sorted(set(old) | set(new))
            if self.revs.diff(raw(old, key), raw(new, key)) is not None
        ]
        other = [key for key in changed if key not in _ROUTINE_INFO]
        if other:
            self.review.kinds.add("metadata")
            shown = ", ".join(
                f"{key} {short(old.get(key, '(none)'))!r} → {short(new.get(key, '(none)'))!r}"
                for key in other[:4]
            )
            self.review.warnings.append(
                ("metadata", f"document information (/Info) changed after signing: {shown}")
            )
        else:
            self.review.notes.append(
                ("metadata", f"document information: only {' and '.join(changed)} updated")
            )

    def _catalog(self, old: Any, new: Any) -> None:
        for key in sorted(set(old) | set(new)):
            if key in ("/Pages", "/AcroForm"):
                continue  # compared by their own rules
            diff = self.revs.diff(raw(old, key), raw(new, key), ("catalog", key))
            if diff is None:
                continue
            if key == "/DSS":
                self._dss(raw(new, key))
            elif key == "/Metadata":
                self.review.kinds.add("metadata")
                self.review.warnings.append(
                    ("metadata", "the XMP metadata (catalog /Metadata) changed after signing")
                )
            elif key == "/Extensions" and _extensions_ok(self.revs.resolve(raw(new, key), False), self.revs):
                self.review.kinds.add("dss")
            elif key == "/Version" and isinstance(raw(new, key), generic.NameObject):
                continue
            elif key == "/Perms":
                self.fail("modification.permissions-changed", describe("catalog", diff))
            elif key == "/Names" and self._javascript_changed(raw(old, key), raw(new, key)):
                self.fail(
                    "modification.action-added", "catalog /Names /JavaScript: document JavaScript changed"
                )
            else:
                self.fail(reason_of(diff, "catalog-changed"), describe("catalog", diff))

    def _javascript_changed(self, old: Any, new: Any) -> bool:
        resolve = self.revs.resolve
        old_names, new_names = resolve(old, True), resolve(new, False)
        old_js = (
            raw(old_names, "/JavaScript")
            if isinstance(old_names, generic.DictionaryObject)
            else generic.NullObject()
        )
        new_js = (
            raw(new_names, "/JavaScript")
            if isinstance(new_names, generic.DictionaryObject)
            else generic.NullObject()
        )
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

    def _index_annotations(self, new_root: Any) -> None:
        for number, (page_item, page) in enumerate(
            _leaves(self.revs, raw(new_root, "/Pages"), old=False, refs=True), start=1
        ):
            if isinstance(page_item, generic.IndirectObject):
                self.page_numbers.setdefault(ref_key(page_item), number)
            annots = self.revs.resolve(raw(page, "/Annots"), False)
            for item in annots if isinstance(annots, generic.ArrayObject) else []:
                if isinstance(item, generic.IndirectObject):
                    self.annot_page.setdefault(ref_key(item), number)
                    pages = self.annot_pages.setdefault(ref_key(item), [])
                    if number not in pages:
                        pages.append(number)

    def _pages(self, old_root: Any, new_root: Any) -> None:
        old_leaves = list(_leaves(self.revs, raw(old_root, "/Pages"), old=True))
        new_leaves = list(_leaves(self.revs, raw(new_root, "/Pages"), old=False))
        if len(old_leaves) != len(new_leaves):
            reason = "page-added" if len(new_leaves) > len(old_leaves) else "page-removed"
            self.fail(
                f"modification.{reason}", f"page count changed from {len(old_leaves)} to {len(new_leaves)}"
            )
        self._page_nodes(raw(old_root, "/Pages"), raw(new_root, "/Pages"), [0])

    def _page_nodes(self, old_item: Any, new_item: Any, counter: list[int], depth: int = 0) -> None:
        if depth > 64 or counter[0] > 100_000:
            raise TooComplex("the page tree is too deep or has a cycle")
        old, new = self.revs.resolve(old_item, True), self.revs.resolve(new_item, False)
        if not isinstance(old, generic.DictionaryObject) or not isinstance(new, generic.DictionaryObject):
            self.compare_object("page tree", old_item, new_item, "page-changed")
            return
        if same_ref(old_item, new_item):
            self.revs.judge(new_item)
        if "/Kids" not in old and "/Kids" not in new:
            counter[0] += 1
            self._page(old, new, counter[0])
            return
        for key in sorted((set(old) | set(new)) - {"/Kids"}):
            self.compare(
                "page tree node",
                raw(old, key),
                raw(new, key),
                _PAGE_REASONS.get(key, "page-changed"),
                (key,),
            )
        old_kids = self.revs.resolve(raw(old, "/Kids"), True)
        new_kids = self.revs.resolve(raw(new, "/Kids"), False)
        if not isinstance(old_kids, generic.ArrayObject) or not isinstance(new_kids, generic.ArrayObject):
            self.compare("page tree node", raw(old, "/Kids"), raw(new, "/Kids"), "page-changed", ("/Kids",))
            return
        if len(old_kids) != len(new_kids):
            self.fail(
                "modification.page-added" if len(new_kids) > len(old_kids) else "modification.page-removed",
                f"page tree node /Kids: {len(old_kids)} entries became {len(new_kids)}",
            )
        for index in range(min(len(old_kids), len(new_kids))):
            self._page_nodes(old_kids.raw_get(index), new_kids.raw_get(index), counter, depth + 1)

    def _page(self, old: Any, new: Any, number: int) -> None:
        place = f"page {number}"
        for key in sorted((set(old) | set(new)) - {"/Annots"}):
            self.compare(place, raw(old, key), raw(new, key), _PAGE_REASONS.get(key, "page-changed"), (key,))
        old_annots = self.revs.resolve(raw(old, "/Annots"), True)
        new_annots = self.revs.resolve(raw(new, "/Annots"), False)
        old_annots = old_annots if isinstance(old_annots, generic.ArrayObject) else generic.ArrayObject()
        if not isinstance(new_annots, generic.ArrayObject):
            self.compare(place, raw(old, "/Annots"), raw(new, "/Annots"), "annotation-changed", ("/Annots",))
            return
        for index in range(len(old_annots)):
            if index >= len(new_annots):
                self.fail(
                    "modification.annotation-removed",
                    f"{place}: {len(old_annots)} annotations became {len(new_annots)}",
                )
                break
            old_item, new_item = old_annots.raw_get(index), new_annots.raw_get(index)
            if same_ref(old_item, new_item) and ref_key(new_item) in self.filled_widgets:
                continue  # the widget of a field signed in this update, judged with the field
            diff = self.revs.diff(old_item, new_item, ("/Annots", f"[{index}]"))
            if diff is not None:
                annot = self.revs.resolve(new_item, False)
                self.fail(
                    reason_of(diff, "annotation-changed"),
                    describe(place, diff) + f" (now: {self._at(annot, new_item)})",
                )
        for index in range(len(old_annots), len(new_annots)):
            item = new_annots.raw_get(index)
            if isinstance(item, generic.IndirectObject) and ref_key(item) in self.new_widgets:
                continue
            annot = self.revs.resolve(item, False)
            subtype = annot.get("/Subtype", "?") if isinstance(annot, generic.DictionaryObject) else "?"
            actions = ACTION_KEYS & set(annot) if isinstance(annot, generic.DictionaryObject) else set()
            reason = "action-added" if actions else "annotation-added"
            self.fail(
                f"modification.{reason}",
                f"{place}: a {subtype} annotation was added ({self._at(annot, item)})",
            )

    # -- places, for the report -------------------------------------------------------------------------


def _leaves(revs: Revisions, root_item: Any, *, old: bool, refs: bool = False) -> list[Any]:
    """The page dictionaries of the page tree, in order (cycles and depth bounded); with ``refs``, pairs of
    (the reference or value in the parent's /Kids, the page)."""
    out: list[Any] = []
    stack = [(root_item, 0)]
    seen: set[tuple[int, int]] = set()
    while stack and len(out) < 100_000:
        item, depth = stack.pop()
        if isinstance(item, generic.IndirectObject):
            if ref_key(item) in seen:
                continue
            seen.add(ref_key(item))
        node = revs.resolve(item, old)
        if not isinstance(node, generic.DictionaryObject) or depth > 64:
            continue
        if "/Kids" in node:
            kids = revs.resolve(node.raw_get("/Kids"), old)
            if isinstance(kids, generic.ArrayObject):
                stack.extend((kids.raw_get(i), depth + 1) for i in reversed(range(len(kids))))
        else:
            out.append((item, node) if refs else node)
    return out


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
    return all(
        isinstance(revs.resolve(value.raw_get(i), False), generic.StreamObject) for i in range(len(value))
    )
