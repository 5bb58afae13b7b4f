"""The vocabulary of the modification rules: findings, later signatures, and the base of the rule classes.

:class:`RuleContext` holds one update's :class:`~sealkit.pdf.modifications.Revisions` and its
:class:`RevisionReview`, compares values and records each difference once, with the places it was reached
from (a changed font used by the form and by three pages is one finding). The rules themselves are in
:mod:`sealkit.pdf.form_rules` and :mod:`sealkit.pdf.revision_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pyhanko.pdf_utils import generic

from sealkit.pdf.modifications import Difference, Revisions, rect_of, show_rect

ACTION_KEYS = frozenset({"/AA", "/A", "/OpenAction", "/JavaScript", "/JS"})


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
    boxes: list[tuple[int | None, tuple[float, float, float, float]]] = dc_field(default_factory=list)

    def where(self) -> str:
        if not self.boxes:
            return "invisible"
        return "; ".join(f"page {page or '?'} {show_rect(rect)}" for page, rect in self.boxes)


@dataclass
class RevisionReview:
    """What one incremental update did, judged against the allow-list (independent of any signature)."""

    revision: int
    failures: list[Finding] = dc_field(default_factory=list)
    warnings: list[tuple[str, str]] = dc_field(default_factory=list)  # (check name, text)
    notes: list[tuple[str, str]] = dc_field(default_factory=list)  # passing checks: (check name, text)
    signatures: list[LaterSignature] = dc_field(default_factory=list)
    kinds: set[str] = dc_field(default_factory=set)  # "signature", "timestamp", "dss", "metadata"


def reason_of(diff: Difference, default: str) -> str:
    if diff.forward is not None:
        return "modification.forward-reference"
    if diff.keys() & ACTION_KEYS:
        return "modification.action-added"
    return "modification." + default


def describe(place: str, diff: Difference) -> str:
    if diff.forward is not None:
        path = " ".join(diff.path)
        return (
            f"{place}{' ' + path if path else ''}: object {diff.forward} was referred to but not defined "
            "when signed; it was defined after signing"
        )
    return f"{place}: {diff.where()}: {diff.what}"


class RuleContext:
    """One update under review: comparing, recording findings, naming places."""

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
            self.review.failures[index] = Finding(
                first.reason, first.detail.split(" (also under: ")[0] + f" (also under: {', '.join(places)})"
            )
            return False
        self.seen[key] = (len(self.review.failures), [])
        self.fail(reason_of(diff, default), describe(place, diff))
        return False

    def compare(self, place: str, old: Any, new: Any, default: str, path: tuple[str, ...] = ()) -> bool:
        """Compare two values (objects that a rule judges on its own count as equal here)."""
        return self._found(place, self.revs.diff(old, new, path), default)

    def compare_object(
        self, place: str, old: Any, new: Any, default: str, path: tuple[str, ...] = ()
    ) -> bool:
        """Compare an object that this rule judges itself (a widget, a field that is not a dictionary…)."""
        return self._found(place, self.revs.diff_object(old, new, path), default)

    def _page_of(self, widget: Any, ref: Any) -> int | None:
        if isinstance(ref, generic.IndirectObject) and ref_key(ref) in self.annot_page:
            return self.annot_page[ref_key(ref)]
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
            parts.append(show_rect(rect) if rect else f"/Rect {short(annot.get('/Rect'))}")
        return ", ".join(parts) or "not on a page"


def tree_refs(
    revs: Revisions, top: Any, kids_key: str, descend: Any, array: bool = False
) -> set[tuple[int, int]]:
    """The references of a tree's nodes in the older revision (page tree, field tree), bounded."""
    found: set[tuple[int, int]] = set()
    start = revs.resolve(top, True) if array else generic.ArrayObject([top])
    stack = [start.raw_get(i) for i in range(len(start))] if isinstance(start, generic.ArrayObject) else []
    while stack and len(found) < 200_000:
        item = stack.pop()
        if (
            not isinstance(item, generic.IndirectObject)
            or ref_key(item) in found
            or not revs.defined_old(item)
        ):
            continue
        found.add(ref_key(item))
        node = revs.resolve(item, True)
        if isinstance(node, generic.DictionaryObject) and descend(node) and kids_key in node:
            kids = revs.resolve(node.raw_get(kids_key), True)
            if isinstance(kids, generic.ArrayObject):
                stack.extend(kids.raw_get(i) for i in range(len(kids)))
    return found


def raw(container: Any, key: str) -> Any:
    """The raw value under ``key`` (a reference stays a reference), or null when absent."""
    try:
        return container.raw_get(key)
    except (KeyError, AttributeError):
        return generic.NullObject()


def same_ref(a: Any, b: Any) -> bool:
    return (
        isinstance(a, generic.IndirectObject)
        and isinstance(b, generic.IndirectObject)
        and ref_key(a) == ref_key(b)
    )


def ref_key(ref: Any) -> tuple[int, int]:
    return int(ref.idnum), int(ref.generation)


def short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"
