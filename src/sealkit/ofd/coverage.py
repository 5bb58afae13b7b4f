"""What an OFD signature covers in its package, as the verifier checks it (used by :mod:`sealkit.ofd.verify`).

Every Reference's file must be present with its SM3 digest; Seal.esl must be the seal inside SignedValue.dat;
and a file that no Reference covers is accepted only if it is this signature's own Signature.xml or
SignedValue.dat, the signature list left open by a non-final signature, or a part of another listed
signature — anything else was added or replaced after signing. Signature parts that the list does not name
mean a signature was removed from it. StampAnnots must be on pages that exist.
"""

from __future__ import annotations

from sealkit import sm2
from sealkit.errors import OfdError
from sealkit.ofd.model import OfdDocument
from sealkit.ofd.package import OfdPackage, to_member
from sealkit.ofd.signatures import SignatureRecord, SignatureXml, parse_signature_xml
from sealkit.pdf.report import SignatureVerdict


def unlisted_signatures(package: OfdPackage, records: list[SignatureRecord]) -> list[str]:
    """Signature.xml parts in the package that the signature list does not name."""
    listed = {to_member(r.base_loc) for r in records}
    return [
        "/" + name
        for name in package.files
        if name.rpartition("/")[2] == "Signature.xml" and name not in listed
    ]


def signature_files(package: OfdPackage, record: SignatureRecord) -> set[str]:
    """The files a signature consists of (its Signature.xml, SignedValue.dat and Seal.esl), if readable."""
    files = {record.base_loc}
    try:
        sig = parse_signature_xml(package.read(record.base_loc), record.base_loc)
    except OfdError:
        return files
    files.add(sig.signed_value_path)
    if sig.seal_path:
        files.add(sig.seal_path)
    return files


def check_package(
    document: OfdDocument,
    records: list[SignatureRecord],
    record: SignatureRecord,
    sig: SignatureXml,
    seal_der: bytes,
    verdict: SignatureVerdict,
) -> None:
    """References (each file present with its SM3), Seal.esl against the seal in SignedValue.dat, coverage."""
    package = document.package
    files = package.files
    missing, changed = [], []
    for path, expected in sig.references.items():
        content = files.get(to_member(path))
        if content is None:
            missing.append(path)
        elif bytes(sm2.sm3(content)) != expected:
            changed.append(path)
    if missing:
        verdict.check(
            "references",
            False,
            f"referenced files missing: {', '.join(missing[:4])}",
            "integrity.missing-file",
        )
    if changed:
        verdict.check(
            "references",
            False,
            f"changed after signing: {', '.join(changed[:4])}",
            "integrity.reference-mismatch",
        )
    if not missing and not changed:
        verdict.check("references", True, f"{len(sig.references)} files match their SM3 digests")
    verdict.intact = verdict.intact and not missing and not changed
    if sig.seal_path is not None:
        seal_file = files.get(to_member(sig.seal_path))
        same = seal_file == seal_der
        verdict.check(
            "seal-file",
            same,
            f"{sig.seal_path} " + ("is" if same else "is not") + " the seal inside SignedValue.dat",
            "integrity.seal-file",
        )
    _coverage(document, records, record, sig, verdict)


def _coverage(
    document: OfdDocument,
    records: list[SignatureRecord],
    record: SignatureRecord,
    sig: SignatureXml,
    verdict: SignatureVerdict,
) -> None:
    package = document.package
    covered = {to_member(p) for p in sig.references}
    signatures_path = document.signatures_path
    own = {to_member(record.base_loc), to_member(sig.signed_value_path)}
    others: set[str] = set()
    for other in records:
        if other.id != record.id:
            others |= {to_member(p) for p in signature_files(package, other)}
    list_open = signatures_path is not None and to_member(signatures_path) not in covered
    allowed = own | others | ({to_member(signatures_path)} if list_open and signatures_path else set())
    uncovered = [name for name in package.files if name not in covered and name not in allowed]
    later = [name for name in package.files if name in others and name not in covered]
    verdict.coverage = "entire-revision" if list_open else "entire-file"
    if uncovered:
        verdict.modification = "other"
        verdict.check(
            "coverage",
            False,
            "files no Reference covers (added or replaced after signing): "
            + ", ".join("/" + n for n in uncovered[:6]),
            "modification.uncovered-file",
        )
        return
    verdict.modification = "form-filling" if later else "none"
    detail = "every file of the package" + (" but the signature list (open for more)" if list_open else "")
    verdict.check("coverage", True, detail + ("; later signatures added" if later else ""))


def check_stamps(document: OfdDocument, sig: SignatureXml, verdict: SignatureVerdict) -> None:
    """StampAnnots on pages that exist (a signature without one is shown nowhere: a warning)."""
    if not sig.stamps:
        verdict.check("seal-image", False, "no StampAnnot: the seal is not shown on any page")
        return
    bad = [s.id for s in sig.stamps if document.page_by_id(s.page_ref) is None]
    if bad:
        verdict.check(
            "seal-image",
            False,
            f"StampAnnot {', '.join(bad)} on a page that does not exist",
            "format.stamp-page",
        )
        return
    pages = sorted({document.page_by_id(s.page_ref).number for s in sig.stamps})  # type: ignore[union-attr]
    verdict.check(
        "seal-image", True, f"{len(sig.stamps)} StampAnnot(s) on page(s) " + ", ".join(str(p) for p in pages)
    )
