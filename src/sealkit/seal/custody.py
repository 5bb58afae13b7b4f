"""Seal custody at the two ends of a use: signing reserves and records the use, verification finds it again.

:func:`seal_use` is what signing with a registry seal goes through (``sealkit.flows.sign_contract``, the OFD
signing of the CLI, the service): it opens the registry *writable*, checks that this signer may use the seal
(:func:`sealkit.seal.binding.usable_seal`) and reserves the use under a live grant before anything is
written (:meth:`sealkit.seal.uses.UseRegister.reserve_use`: a refusal leaves no file and no register entry);
the caller signs, then :meth:`SealUse.record` files the signed document in the register. A signing that
fails or never records is marked ``failed`` in the register, never left looking like a document.

:func:`custody_checks` is the verifier's side, for a PDF verified with a registry: for each sealed
signature, the register entry found by the SHA-256 of the signed revision (or "used outside the register"),
and whether the signer held a grant at the signing time — the proven (timestamp) time when there is one,
else the register's own time, said so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509

from sealkit import timefmt
from sealkit.errors import RegistryError, SealkitError
from sealkit.seal.binding import SealForSigning, usable_seal
from sealkit.seal.crypto import cert_digest
from sealkit.seal.uses import SignedDocument, Use
from sealkit.validation import TrustAnchor

if TYPE_CHECKING:
    from sealkit.config import Config
    from sealkit.seal.lifecycle import SealRegistry

log = logging.getLogger(__name__)


@dataclass
class SealUse:
    """A reserved use of a registry seal: the seal to apply, the reservation, and then its register entry."""

    seal: SealForSigning
    reservation: Use
    registry: SealRegistry
    entry: Use | None = None

    def record(self, document: SignedDocument) -> Use:
        """File the signed ``document`` in the register (the use is then ``done``)."""
        self.entry = self.registry.complete_use(self.reservation.use_id, document)
        return self.entry


@contextmanager
def seal_use(
    seal_id: str,
    signer_cert: asn1_x509.Certificate,
    url: str | None = None,
    *,
    config: Config | None = None,
    purpose: str = "contract",
    actor: str | None = None,
    maker_trust: Sequence[TrustAnchor] | None = None,
) -> Iterator[SealUse]:
    """Reserve a use of ``seal_id`` by ``signer_cert`` for ``purpose`` in the registry ``url`` (default the
    configured one; opened writable); see :func:`reserved_use`."""
    from sealkit.seal.opening import open_registry

    with (
        open_registry(url, config=config, actor=actor) as registry,
        reserved_use(registry, seal_id, signer_cert, purpose, maker_trust=maker_trust) as use,
    ):
        yield use


@contextmanager
def reserved_use(
    registry: SealRegistry,
    seal_id: str,
    signer_cert: asn1_x509.Certificate,
    purpose: str = "contract",
    *,
    maker_trust: Sequence[TrustAnchor] | None = None,
) -> Iterator[SealUse]:
    """Reserve a use of ``seal_id`` by ``signer_cert`` for ``purpose`` in the open ``registry`` (refusals are
    one-line errors, with nothing written); the block signs and calls :meth:`SealUse.record`. A block that
    raises, or ends without recording, marks the use ``failed``."""
    if registry.read_only:
        raise RegistryError(
            f"registry {registry.safe_url} is read-only, but each use of a seal is recorded in it: "
            "sign with a writable registry"
        )
    seal = usable_seal(registry, seal_id, signer_cert, maker_trust=maker_trust)
    use = SealUse(seal, registry.reserve_use(seal_id, signer_cert, purpose), registry)
    try:
        yield use
    except BaseException as exc:
        _fail(registry, use.reservation.use_id, f"signing failed: {type(exc).__name__}: {exc}")
        raise
    if use.entry is None:
        _fail(registry, use.reservation.use_id, "the signing ended without a document")


def _fail(registry: SealRegistry, use_id: str, why: str) -> None:
    try:
        registry.fail_use(use_id, " ".join(why.split()))
    except SealkitError as exc:  # the reservation stays 'reserved': it keeps counting, no document
        log.warning("use %s could not be marked failed: %s", use_id, exc)


def signed_document(
    path: str | Path,
    field: str | None = None,
    stamps: Sequence[Any] = (),
    name: str | None = None,
    revisions: Mapping[str, Mapping[str, str | None]] | None = None,
) -> SignedDocument:
    """The register's record of the signed document at ``path``: its SM3 and SHA-256, the SHA-256 that names
    ``field``'s signature (``revisions``, default :func:`signed_revisions` of a PDF: the revision it covers;
    an OFD's come from :func:`sealkit.ofd.signed_values`), and the first stamp's page and rectangle (mm; an
    OFD stamp's boundary)."""
    from sealkit import sm2

    data = Path(path).read_bytes()
    revisions = signed_revisions(data) if revisions is None else revisions
    revision = revisions.get(field or "", {}).get("revision_sha256") if field else None
    first = stamps[0] if stamps else None
    box = getattr(first, "rect_mm", None) or getattr(first, "boundary_mm", None)  # PDF: rect; OFD: boundary
    return SignedDocument(
        name=name or Path(path).name,
        sm3=bytes(sm2.sm3(data)).hex(),
        sha256=hashlib.sha256(data).hexdigest(),
        revision_sha256=revision,
        field=field,
        page=getattr(first, "page", None),
        rect=(float(box[0]), float(box[1]), float(box[2]), float(box[3])) if box else None,
    )


def signed_revisions(data: bytes) -> dict[str, dict[str, str | None]]:
    """Per signature field of the PDF ``data``: the SHA-256 of the revision its signature covers and of the
    signer's certificate (None when unreadable). Unreadable PDFs give an empty mapping."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    found: dict[str, dict[str, str | None]] = {}
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception:  # noqa: BLE001 - hostile or broken input: nothing to match
        return found
    for embedded in signatures:
        try:
            _, _, start, length = (int(v) for v in embedded.byte_range)
            revision: str | None = hashlib.sha256(data[: start + length]).hexdigest()
        except (TypeError, ValueError):
            revision = None
        try:
            signer: str | None = cert_digest(embedded.signer_cert.dump())
        except Exception:  # noqa: BLE001 - no usable signer certificate in the CMS
            signer = None
        found[str(embedded.field_name)] = {"revision_sha256": revision, "signer_cert_sha256": signer}
    return found


def custody_of(
    registry: SealRegistry, seal: dict[str, Any], revision: Mapping[str, str | None]
) -> dict[str, Any]:
    """The custody facts of one sealed signature: its register entry and the signer's grant at the time."""
    es_id = str(seal.get("es_id") or (seal.get("seal") or {}).get("es_id") or "")
    result: dict[str, Any] = {"register_entry": None, "grant": None}
    digest, signer = revision.get("revision_sha256"), revision.get("signer_cert_sha256")
    entry = registry.use_for_revision(digest) if digest else None
    if entry is not None and (entry.es_id != es_id or entry.signer_sha256 != signer):
        entry = None  # a register entry of another seal or signer is not this use's
    if entry is not None:
        result["register_entry"] = entry.to_dict()
    grants = [g for g in registry.grants(es_id) if g.holder_sha256 == signer]
    purpose = entry.purpose if entry is not None else None
    if seal.get("time_source") == "timestamp":
        proven = seal.get("signing_time") or seal.get("judged_at")  # PDF seal report / OFD seal report
        moment, source = dt.datetime.fromisoformat(str(proven)), "timestamp"
        held = next((g for g in grants if g.problem_at(moment, purpose) is None), None)
    elif entry is not None:  # the grant the registry checked when it reserved this use
        moment, source = entry.reserved_at, "register (the registry's record; no timestamp)"
        held = next((g for g in grants if g.grant_id == entry.grant_id), None)
    else:
        moment, source = dt.datetime.now(dt.UTC), "now (no timestamp, no register entry)"
        held = next((g for g in grants if g.problem_at(moment, purpose) is None), None)
    result["time"], result["time_source"] = timefmt.format_time(moment), source
    if held is not None:
        result["grant"] = held.to_dict()
        result["held_grant"] = True
    elif source.startswith("register") and entry is not None and entry.grant_id is None:
        result["held_grant"] = None  # used when the seal had no grants and none were required
    elif registry.grants(es_id) or registry.grants_required:
        result["held_grant"] = False
        result["grant_problem"] = (
            grants[-1].problem_at(moment, purpose) if grants else "no grant of the seal to this signer"
        )
    else:
        result["held_grant"] = None  # the seal has no grants and the registry does not require them
    return result


def custody_checks(
    report: Any,
    data: bytes,
    registry: SealRegistry,
    revisions: Mapping[str, Mapping[str, str | None]] | None = None,
) -> None:
    """Add the custody facts to every sealed signature of a verification ``report``: ``seal["custody"]``
    and a ``seal-custody`` check that is a warning (never a failure) when something is missing.
    ``revisions`` names each signature as :func:`signed_document` does (default: the PDF's)."""
    revisions = signed_revisions(data) if revisions is None else revisions
    for verdict in report.signatures:
        seal = verdict.seal
        if not seal or not seal.get("es_id"):
            continue
        try:
            facts = custody_of(registry, seal, revisions.get(verdict.field, {}))
        except SealkitError as exc:
            verdict.check("seal-custody", False, f"the use register could not be read: {exc}")
            continue
        seal["custody"] = facts
        entry = facts["register_entry"]
        where = (
            f"register entry {entry['use_id']} ({entry['time']}, {entry['purpose']}, grant {entry['grant']})"
            if entry
            else "used outside the register (no entry for this signed revision)"
        )
        if facts["held_grant"] is True:
            grant = f"signer held grant {facts['grant']['grant_id']} at {facts['time']}"
        elif facts["held_grant"] is False:
            grant = f"signer held no grant at {facts['time']}: {facts['grant_problem']}"
        else:
            grant = "the seal has no grants"
        grant += f" ({facts['time_source'].split(' (')[0]} time)"
        verdict.check("seal-custody", bool(entry) and facts["held_grant"] is not False, f"{where}; {grant}")
