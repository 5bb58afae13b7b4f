"""What may change in a contract after it was signed, and naming what did.

A contract is not a form. After a signed revision sealkit accepts only:

- later signatures: filling a prepared (empty) signature field, or adding a new signature field (pyHanko's
  own rules refuse new visible fields after a certification signature), with their widgets and appearances;
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
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.diff_analysis.form_rules_api import FormUpdatingRule
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
