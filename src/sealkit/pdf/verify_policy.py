"""What may change in a contract after it was signed, and naming what did.

A contract is not a form. After a signed revision sealkit accepts only:

- later signatures: filling a prepared (empty) signature field, or adding a new signature field (pyHanko's
  own rules refuse new visible fields after a certification signature), with their widgets and appearances
  — including the appearances of a prepared field's own widget kids (:class:`SigWidgetAppearanceRule`:
  the strips of a cross-page seal reserved before the first signature);
- LTA updates: the DSS (validation data), document timestamps, XMP/Info metadata, object and xref streams.

Anything else — a changed value of any other form field, a new annotation, a page added or changed, an
object freed — fails. :data:`CONTRACT_DIFF_POLICY` is pyHanko's :class:`StandardDiffPolicy` without the
rule that lets any form field change (``GenericFieldModificationRule``) and without in-place changes to a
signature field's existing appearance stream. :func:`describe_changes` names, for a person, what a
rejected update changed.
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.diff_analysis.commons import compare_dicts
from pyhanko.sign.diff_analysis.form_rules_api import (
    FieldComparisonContext,
    FieldComparisonSpec,
    FieldMDPRule,
    FormUpdate,
    FormUpdatingRule,
)
from pyhanko.sign.diff_analysis.policies import StandardDiffPolicy
from pyhanko.sign.diff_analysis.rules.file_structure_rules import (
    CatalogModificationRule,
    ObjectStreamRule,
    XrefStreamRule,
)
from pyhanko.sign.diff_analysis.rules.form_field_rules import (
    DSSCompareRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
)
from pyhanko.sign.diff_analysis.rules.metadata_rules import DocInfoRule, MetadataUpdateRule


class SigWidgetAppearanceRule(FieldMDPRule):
    """Signing a prepared signature field may give *its own* widget kids an appearance, nothing more.

    pyHanko's :class:`SigFieldModificationRule` clears a new ``/AP`` only on the field dictionary itself,
    i.e. on a field merged with its single widget; a field whose widgets are separate ``/Kids`` (pyHanko's
    ``combine_annotation=False``, or a sealkit field with a reserved cross-page seal: one more widget per
    page) changes those kids when it is signed, which pyHanko leaves unexplained. This rule clears exactly
    that, with pyHanko's own appearance check: when the field goes from unsigned to signed, every widget
    kid it already had (same references, same order) may get a new ``/AP`` pointing to new streams, in
    the revisions that change the field itself, and no other key of the kid may change. The kid is
    cleared only where the signed revision referenced it: as the field's kid, from a page's ``/Annots``
    (or the structure tree). New annotations, kids added to the field, kids of a field left unsigned or
    already signed, kids changed later, and kids referenced from anywhere else stay unexplained.
    """

    def apply(self, context: FieldComparisonContext) -> Any:
        from pyhanko.sign.diff_analysis.rules.form_field_rules import _allow_appearance_update

        for fq_name, spec in context.field_specs.items():
            if spec.field_type != "/Sig" or spec.old_field_ref is None or spec.new_field_ref is None:
                continue
            old_field, new_field = spec.old_field, spec.new_field
            if old_field is None or new_field is None or "/V" in old_field or "/V" not in new_field:
                continue
            old_kids, new_kids = _kid_refs(old_field), _kid_refs(new_field)
            if not old_kids or old_kids != new_kids:
                continue
            with_field = _changed_only_with(context, spec.new_field_ref, new_kids)
            for index, (old_ref, new_ref) in enumerate(zip(old_kids, new_kids, strict=True)):
                old_kid, new_kid = old_ref.get_object(), new_ref.get_object()
                if not isinstance(old_kid, generic.DictionaryObject) or "/T" in old_kid:
                    continue  # a child field, not a widget: other rules judge it
                if _key(new_ref) not in with_field:
                    continue  # changed in a revision that did not sign the field: not cleared
                if not isinstance(new_kid, generic.DictionaryObject):
                    raise SuspiciousModification(f"a widget of {fq_name} is no longer a dictionary")
                compare_dicts(old_kid, new_kid, frozenset({"/AP"}))
                kid_path = spec.old_canonical_path + "/Kids" + index if spec.old_canonical_path else None
                kid_spec = FieldComparisonSpec("/Sig", old_ref, new_ref, kid_path)
                for expected in kid_spec.expected_contexts():
                    yield (
                        ModificationLevel.FORM_FILLING,
                        FormUpdate(updated_ref=new_ref, field_name=fq_name, context_checked=expected),
                    )
                for dependency in _allow_appearance_update(old_kid, new_kid, context.old, context.new):
                    yield (
                        ModificationLevel.FORM_FILLING,
                        FormUpdate(updated_ref=dependency, field_name=fq_name),
                    )


def _key(ref: generic.Reference) -> tuple[int, int]:
    return ref.idnum, ref.generation


def _changed_only_with(
    context: FieldComparisonContext, field_ref: generic.Reference, kids: list[generic.Reference]
) -> set[tuple[int, int]]:
    """The kids that no revision after the signed one changed without also changing the field itself.

    pyHanko compares the signed revision with each later one, so a kid given another appearance in a
    later, unsigned update would look like part of the signing; it is not, when the field dictionary
    (which gets /V in the signing revision and may not change afterwards) is not in that revision.
    """
    xrefs = context.new.reader.xrefs
    cleared = {_key(kid) for kid in kids}
    for revision in range(context.old.revision + 1, context.new.revision + 1):
        changed = {_key(ref) for ref in xrefs.explicit_refs_in_revision(revision)}
        if _key(field_ref) not in changed:
            cleared -= changed
    return cleared


def _kid_refs(field: generic.DictionaryObject) -> list[generic.Reference]:
    """The references in the field's /Kids, or [] when it has none or they are not all indirect."""
    try:
        kids = field.raw_get("/Kids")
    except KeyError:
        return []
    if isinstance(kids, generic.IndirectObject):
        return []  # an indirect /Kids array: any change to it is left to the other rules
    if not isinstance(kids, generic.ArrayObject):
        return []
    refs = [kid.reference for kid in kids if isinstance(kid, generic.IndirectObject)]
    return refs if len(refs) == len(kids) else []


CONTRACT_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(),
            SigFieldModificationRule(allow_in_place_appearance_stream_changes=False),
            SigWidgetAppearanceRule(),
        ],
    ),
    reject_object_freeing=True,
    ignore_orphaned_objects=True,
    ignore_identical_objects=True,
)

#: pyHanko's modification levels as the report spells them.
MODIFICATION_NAMES = {
    ModificationLevel.NONE: "none",
    ModificationLevel.LTA_UPDATES: "lta-updates",
    ModificationLevel.FORM_FILLING: "form-filling",
    ModificationLevel.ANNOTATIONS: "annotations",
    ModificationLevel.OTHER: "other",
}


def _pages(root: Any) -> list[Any]:
    pages: list[Any] = []
    stack = [root["/Pages"]]
    seen = 0
    while stack and seen < 100_000:
        seen += 1
        node = stack.pop().get_object()
        if "/Kids" in node:
            stack.extend(reversed(list(node["/Kids"])))
        else:
            pages.append(node)
    return pages


def _fingerprint(obj: Any) -> str:
    """A cheap identity of a (possibly indirect) object: its reference, or its repr."""
    if isinstance(obj, generic.IndirectObject):
        return repr(obj.reference)
    return repr(obj)[:200]


def _field_values(root: Any) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        fields = list(root["/AcroForm"]["/Fields"])
    except KeyError:
        return values
    stack = [("", f) for f in fields]
    while stack and len(values) < 10_000:
        prefix, ref = stack.pop()
        node = ref.get_object()
        name = prefix + str(node.get("/T", ""))
        if "/Kids" in node:
            stack.extend((name + ".", k) for k in node["/Kids"])
        if node.get("/FT") != "/Sig" and "/V" in node:
            values[name] = repr(node["/V"])[:200]
    return values


def describe_changes(reader: Any, signed_revision: int) -> list[str]:
    """Plain-language list of what changed between ``signed_revision`` and the last revision."""
    last = reader.xrefs.total_revisions - 1
    if last <= signed_revision:
        return []
    try:
        old = reader.get_historical_resolver(signed_revision).root
        new = reader.get_historical_resolver(last).root
        old_pages, new_pages = _pages(old), _pages(new)
        changes = []
        if len(new_pages) != len(old_pages):
            changes.append(f"page count changed from {len(old_pages)} to {len(new_pages)}")
        for number, (a, b) in enumerate(zip(old_pages, new_pages, strict=False), start=1):
            if _fingerprint(a.raw_get("/Contents")) != _fingerprint(b.raw_get("/Contents")):
                changes.append(f"content of page {number} replaced")
            annots_a = len(a["/Annots"]) if "/Annots" in a else 0
            annots_b = len(b["/Annots"]) if "/Annots" in b else 0
            if annots_b != annots_a:
                changes.append(f"page {number}: annotations {annots_a} → {annots_b}")
        old_values, new_values = _field_values(old), _field_values(new)
        for name in sorted(set(old_values) | set(new_values)):
            if old_values.get(name) != new_values.get(name):
                changes.append(f"value of form field {name!r} changed")
        changed = set()
        for revision in range(signed_revision + 1, last + 1):
            changed |= {f"{r.idnum} {r.generation}" for r in reader.xrefs.explicit_refs_in_revision(revision)}
        if changed and not changes:
            listed = ", ".join(sorted(changed)[:8])
            changes.append(f"objects rewritten after signing: {listed}{' …' if len(changed) > 8 else ''}")
        return changes
    except Exception as exc:  # noqa: BLE001 - naming the changes is best effort; the verdict does not depend on it
        return [f"the later revisions could not be compared ({type(exc).__name__})"]
