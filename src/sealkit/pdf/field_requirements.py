"""What a signature must carry: the seal a prepared field requires, and the verifier's ``require_seal``.

A visible seal picture proves nothing: anyone holding *some* trusted certificate can sign behind another
party's picture. Only the signature's GB/T 38540 electronic seal (sealkit's CMS signed attribute, checked
by the seal checker: its maker, its holders, its unit) says who sealed. So a contract says, before anyone
signs, which fields must be *sealed*, and by which unit; :func:`sealkit.pdf.prepare_fields` writes it into
the catalog's private data, next to the signing order::

    /PieceInfo << /Sealkit << /LastModified (D:…) /Private <<
        /SigningOrder [(供应商) (采购人)]
        /Fields [ << /T (供应商) /Seal true >>
                  << /T (采购人) /Seal true /Unit (12370102MB0000042B) >> ] >> >> >>

``/T`` is the field's name (a text string), ``/Seal true`` requires an electronic seal, ``/Seal false``
lets the field take a signature without one (a personal signature, 签字), ``/Unit`` (only with a seal)
requires the seal of that unit: the unified social credit code in the seal's unit extension. Written
before the first signature, the requirements are covered by every signature, and changing, removing or
adding them later is a change of the catalog that the modification rules report.

The verifier reads them from the revision each signature signed (:func:`seal_requirement_checks`).
When any listed field requires a seal, so does a signature in a field that is not listed (else a forger
would sign beside the field). ``verify_pdf(require_seal=True)`` requires a seal of every signature
(document timestamps excepted), prepared or not. A signature without the required seal, or with another
unit's, fails: ``sig-constraints.seal-required`` / ``sig-constraints.seal-unit`` (TOTAL-FAILED,
SIG_CONSTRAINTS_FAILURE); a required seal that no seal checker verified is ``trust.seal-not-checked``
(INDETERMINATE); requirements sealkit cannot read fail every signature
(``sig-constraints.requirements-unreadable``). The signing side refuses up front
(:func:`check_signing_requirement`), so sealkit never writes a signature that would then fail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from sealkit.errors import FieldRequirementError, InvalidInput, SealkitError
from sealkit.pdf.report import SignatureVerdict
from sealkit.seal.codes import uscc_problem
from sealkit.seal.parse import ParsedSeal

#: The catalog's /PieceInfo entry holding sealkit's private data (the signing order, the requirements).
PIECE_KEY = "/Sealkit"
REQUIRED = "sig-constraints.seal-required"
WRONG_UNIT = "sig-constraints.seal-unit"
UNREADABLE = "sig-constraints.requirements-unreadable"
CHANGED = "sig-constraints.requirements-changed"
NOT_CHECKED = "trust.seal-not-checked"


@dataclass(frozen=True)
class FieldRequirement:
    """What the signature in one field must carry: an electronic seal, and of which unit (its USCC)."""

    seal: bool = True
    unit: str | None = None


@dataclass(frozen=True)
class FieldRequirements:
    """The requirements a document declares, by field name (``problem``: why they cannot be read)."""

    fields: Mapping[str, FieldRequirement]
    problem: str | None = None

    def for_field(self, name: str) -> FieldRequirement | None:
        """The listed field's requirement; for a field not listed, a seal when any listed field needs one."""
        if name in self.fields:
            return self.fields[name]
        return FieldRequirement() if any(r.seal for r in self.fields.values()) else None

    def subject(self, name: str) -> str:
        """How a report names the field whose requirement applies."""
        return f"field {name!r}" + ("" if name in self.fields else " (not a prepared field)")


def _private(root: Any) -> tuple[Any, str | None]:
    """The catalog's ``/PieceInfo /Sealkit /Private`` dictionary (None when the catalog has none), and why
    it cannot be read when one of the three levels is there but is no dictionary."""
    level: Any = root
    for key in ("/PieceInfo", PIECE_KEY, "/Private"):
        if key not in level:
            return None, None
        level = level[key]
        if not isinstance(level, generic.DictionaryObject):
            return None, f"{key} is not a dictionary"
    return level, None


def private_dict(root: Any) -> Any:
    """The catalog's ``/PieceInfo /Sealkit /Private`` dictionary, or None."""
    return _private(root)[0]


def read_requirements(root: Any) -> FieldRequirements | None:
    """The field requirements stored in the catalog ``root`` (of any revision), or None when there are
    none. Entries sealkit cannot read make ``problem`` say so (never silently no requirement): so does a
    ``/PieceInfo``, ``/Sealkit`` or ``/Private`` that is not a dictionary (a forger's way to drop them)."""
    private, problem = _private(root)
    if problem is not None:
        return FieldRequirements({}, f"the field requirements cannot be read: {problem}")
    if private is None or "/Fields" not in private:
        return None
    try:
        return FieldRequirements(_parse(private["/Fields"]))
    except (InvalidInput, KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = exc.args[0] if isinstance(exc, InvalidInput) else "not an array of field dictionaries"
        return FieldRequirements({}, f"the field requirements cannot be read: {detail}")


def _parse(entries: Any) -> dict[str, FieldRequirement]:
    if not isinstance(entries, generic.ArrayObject):
        raise InvalidInput("/Fields is not an array")
    found: dict[str, FieldRequirement] = {}
    for entry in entries:
        entry = entry.get_object()
        name, seal, unit = entry["/T"], entry.get("/Seal", generic.BooleanObject(True)), entry.get("/Unit")
        if not isinstance(name, generic.TextStringObject) or not isinstance(seal, generic.BooleanObject):
            raise InvalidInput("an entry has no text /T or a /Seal that is not true or false")
        if str(name) in found:
            raise InvalidInput(f"field {str(name)!r} is listed twice")
        if unit is not None:
            if not isinstance(unit, generic.TextStringObject) or uscc_problem(str(unit)) or not seal:
                raise InvalidInput(f"field {str(name)!r} names a unit that is not a valid USCC")
            unit = str(unit)
        found[str(name)] = FieldRequirement(bool(seal), unit)
    return found


def requirement_entries(requirements: Mapping[str, FieldRequirement]) -> generic.ArrayObject:
    """The ``/Fields`` array that records ``requirements`` (field name → requirement)."""
    entries = generic.ArrayObject()
    for name, requirement in requirements.items():
        entry = generic.DictionaryObject(  # type: ignore[no-untyped-call]
            {
                pdf_name("/T"): generic.TextStringObject(name),
                pdf_name("/Seal"): generic.BooleanObject(requirement.seal),
            }
        )
        if requirement.unit is not None:
            entry[pdf_name("/Unit")] = generic.TextStringObject(requirement.unit)
        entries.append(entry)
    return entries


def requirement_problem(
    subject: str, requirement: FieldRequirement, seal: ParsedSeal | None, carrier: str = "the signature"
) -> tuple[str, str] | None:
    """(reason, sentence) when ``seal`` (None: ``carrier`` carries none) does not meet ``requirement``
    of ``subject`` ("field '采购人'", "the verification policy"); None when it does."""
    if requirement.seal and seal is None:
        return REQUIRED, f"{subject} requires an electronic seal; {carrier} carries none"
    if requirement.unit is not None and seal is not None:
        from sealkit.seal.units import seal_unit

        unit = seal_unit(seal)
        if unit.uscc != requirement.unit:
            theirs = unit.uscc or (f"{unit.name} (no unit code in the seal)" if unit.name else "unknown")
            return WRONG_UNIT, (
                f"{subject} requires a seal of unit {requirement.unit}; the signature carries seal "
                f"{seal.es_id} ({seal.name}) of unit {theirs}"
            )
    return None


def check_signing_requirement(root: Any, field: str, attributes: Iterable[cms.CMSAttribute]) -> None:
    """Refuse (:class:`FieldRequirementError`) to sign ``field`` of the document whose catalog is ``root``
    with signed ``attributes`` that do not carry the seal the field requires: sealkit never writes what
    its verifier would fail."""
    from sealkit.seal.attribute import attributes_seal

    requirements = read_requirements(root)
    if requirements is None:
        return
    if requirements.problem is not None:
        raise FieldRequirementError(f"{requirements.problem}: prepare the document again")
    requirement = requirements.for_field(field)
    if requirement is None:
        return
    problem = requirement_problem(requirements.subject(field), requirement, attributes_seal(attributes))
    if problem is not None:
        hint = "sign with --seal SEAL-ID, a registry seal" + (
            f" of unit {requirement.unit}" if requirement.unit else ""
        )
        raise FieldRequirementError(f"{problem[1]}: {hint}")


def seal_requirement_checks(
    verdict: SignatureVerdict,
    reader: Any,
    embedded: Any,
    field: str,
    *,
    require_seal: bool,
    seal_checked: bool,
    document_timestamp: bool = False,
) -> None:
    """Record the ``seal-required`` check of the signature ``embedded`` (a pyHanko EmbeddedPdfSignature)
    in ``field``: the requirements of the revision it signed, and ``require_seal`` (the verification
    policy). ``seal_checked``: a seal checker judged its seal. A ``document_timestamp`` proves a time, not a
    party: only a field prepared for a seal applies to it (it never carries one), not the policy."""
    from sealkit.seal.attribute import carried_seal

    revision = embedded.signed_revision
    try:
        root = reader.root if revision is None else reader.get_historical_resolver(revision).root
        requirements = read_requirements(root)
    except Exception:  # noqa: BLE001 - an unreadable signed catalog: the signature's own checks say so
        logging.getLogger(__name__).debug("signed catalog unreadable", exc_info=True)
        requirements = FieldRequirements({}, "the signed catalog cannot be read")
    if requirements is not None and requirements.problem is not None:
        verdict.check("seal-required", False, requirements.problem, UNREADABLE)
        return
    if revision is not None:
        changed = _history_problem(reader, revision, requirements)
        if changed is not None:
            verdict.check("seal-required", False, changed, CHANGED)
            return
    checks: list[tuple[str, FieldRequirement]] = []
    listed = requirements.for_field(field) if requirements is not None else None
    if document_timestamp and requirements is not None and field not in requirements.fields:
        listed = None
    if requirements is not None and listed is not None and (listed.seal or listed.unit):
        checks.append((requirements.subject(field), listed))
    if require_seal and not document_timestamp:
        checks.append(("the verification policy (require_seal)", FieldRequirement()))
    if not checks:
        return
    try:
        seal = carried_seal(embedded.signed_data)
    except (SealkitError, ValueError, TypeError, KeyError, IndexError):
        seal = None  # an unreadable seal attribute carries no seal (seal-image says it cannot be read)
    carrier = "the document timestamp" if document_timestamp else "the signature"
    failed = False
    for subject, requirement in checks:
        problem = requirement_problem(subject, requirement, seal, carrier)
        if problem is not None:
            verdict.check("seal-required", False, problem[1], problem[0])
            failed = True
    if failed or seal is None:
        return
    units = sorted({r.unit for _, r in checks if r.unit})
    what = f"seal {seal.es_id} ({seal.name})" + (f" of unit {units[0]}" if units else "")
    subjects = " and ".join(subject for subject, _ in checks)
    if not seal_checked:
        verdict.check(
            "seal-required",
            False,
            f"{subjects} requires an electronic seal: the signature carries {what}, but no seal checker "
            "verified it (verify with the seal-maker anchors)",
            NOT_CHECKED,
        )
        return
    verdict.check(
        "seal-required", True, f"{subjects} requires an electronic seal: the signature carries {what}"
    )


def _history_problem(reader: Any, signed: int, requirements: FieldRequirements | None) -> str | None:
    """Why the requirements of the signed revision cannot be trusted: requirements written before it
    (while nobody had signed, so anyone could) were removed or changed by the time of this signature — a
    first signer could otherwise drop the field's requirement in the very update it signs — or they name a
    field the signed document does not have (a field renamed to a look-alike). Requirements may only be
    added (preparing in two steps)."""
    from pyhanko.sign.fields import enumerate_sig_fields

    established: dict[str, FieldRequirement] = {}
    since = 0
    for revision in range(signed + 1):
        try:
            current = read_requirements(reader.get_historical_resolver(revision).root)
        except Exception:  # noqa: BLE001 - an unreadable old catalog: the structure checks judge it
            logging.getLogger(__name__).debug("catalog of revision %d unreadable", revision, exc_info=True)
            continue
        fields = current.fields if current is not None and current.problem is None else {}
        for name, requirement in established.items():
            if fields.get(name) != requirement:
                what = "removed" if name not in fields else "changed"
                return (
                    f"the requirement of field {name!r}, written in revision {since + 1}, was {what} in "
                    f"revision {revision + 1}, before this signature"
                )
        if fields and not established:
            since = revision
        established = dict(fields)
    if requirements is None or not requirements.fields:
        return None
    try:
        present = {name for name, _, _ in enumerate_sig_fields(reader.get_historical_resolver(signed))}
    except Exception:  # noqa: BLE001 - an unreadable form: the form checks say so
        return None
    missing = sorted(set(requirements.fields) - present)
    if missing:
        return f"the requirements name field {missing[0]!r}, which the signed document does not have"
    return None


__all__ = [
    "PIECE_KEY",
    "FieldRequirement",
    "FieldRequirements",
    "check_signing_requirement",
    "read_requirements",
    "requirement_entries",
    "requirement_problem",
    "seal_requirement_checks",
]
