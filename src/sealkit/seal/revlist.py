"""The signed seal revocation list sealkit exchanges between registries (format in docs/FORMAT.md).

::

    SealRevocationList ::= SEQUENCE {
      tbsList      TBSSealRevocationList,
      cert         OCTET STRING,          -- the seal authority's certificate, DER
      signAlgID    OBJECT IDENTIFIER,     -- 1.2.156.10197.1.501 SM2-with-SM3 (RSA/ECDSA-SHA256 accepted)
      signedValue  BIT STRING }           -- signature over DER(tbsList)
    TBSSealRevocationList ::= SEQUENCE {
      version      INTEGER (1),
      issuedAt     GeneralizedTime,
      entries      SEQUENCE OF RevokedSeal,
      nextUpdate   [0] EXPLICIT GeneralizedTime OPTIONAL }  -- the next list is due by then

    RevokedSeal ::= SEQUENCE {
      esID         IA5String,
      revokedAt    GeneralizedTime,
      reason       ENUMERATED { other(0), dissolved(1), merged(2), imprintVoid(3) },
      successor    [0] IMPLICIT UTF8String OPTIONAL,   -- USCC of the successor unit
      note         [1] IMPLICIT UTF8String OPTIONAL }

A seal missing from a list is not revoked as of its issuedAt; once a list's nextUpdate has passed, it no
longer shows that (:attr:`RevocationList.current`). Verification reports both times.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from sealkit.atomic import write_atomic
from sealkit.errors import CertificateError, DecodingError, InvalidInput, VerificationFailed
from sealkit.seal.codes import require_uscc
from sealkit.seal.crypto import cert_digest, check_path, load_certificate, sign_with, signature_problem
from sealkit.seal.revocation import Revocation
from sealkit.timefmt import BEIJING, aware, format_time
from sealkit.ukey.base import PrivateKeyHandle
from sealkit.validation import Purpose, TrustAnchor, key_matches_certificate

LIST_VERSION = 1


class RevocationReason(core.Enumerated):  # type: ignore[misc]
    _map = {0: "other", 1: "dissolved", 2: "merged", 3: "imprint-void"}


class RevokedSeal(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("esID", core.IA5String),
        ("revokedAt", core.GeneralizedTime),
        ("reason", RevocationReason),
        ("successor", core.UTF8String, {"implicit": 0, "optional": True}),
        ("note", core.UTF8String, {"implicit": 1, "optional": True}),
    ]


class RevokedSeals(core.SequenceOf):  # type: ignore[misc]
    _child_spec = RevokedSeal


class TBSSealRevocationList(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("version", core.Integer),
        ("issuedAt", core.GeneralizedTime),
        ("entries", RevokedSeals),
        ("nextUpdate", core.GeneralizedTime, {"explicit": 0, "optional": True}),
    ]


class SealRevocationList(core.Sequence):  # type: ignore[misc]
    _fields = [
        ("tbsList", TBSSealRevocationList),
        ("cert", core.OctetString),
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", core.OctetBitString),
    ]


@dataclass
class RevocationList:
    """A verified revocation list."""

    issued_at: dt.datetime
    authority: asn1_x509.Certificate
    entries: list[Revocation]
    next_update: dt.datetime | None = None

    @property
    def source(self) -> str:
        return "import:" + cert_digest(self.authority.dump())

    def current(self, now: dt.datetime | None = None) -> bool:
        """Whether the list still speaks for seals it does not name: its nextUpdate (if any) is not past."""
        return self.next_update is None or (now or dt.datetime.now(dt.UTC)) <= self.next_update

    def evidence(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """How fresh this list is, for a report."""
        result: dict[str, Any] = {"source": self.source, "issued_at": format_time(self.issued_at)}
        if self.next_update is not None:
            result["next_update"] = format_time(self.next_update)
            result["current"] = self.current(now)
        return result


def make_revocation_list(
    entries: Sequence[Revocation],
    signer: PrivateKeyHandle,
    cert: asn1_x509.Certificate,
    *,
    issued_at: dt.datetime | None = None,
    next_update: dt.datetime | None = None,
    trust: Sequence[TrustAnchor] | None = None,
) -> bytes:
    """The DER of a revocation list of ``entries``, signed by the seal authority's key ``signer``; with
    ``trust`` (the seal-maker anchors) ``cert`` must chain to them for revocation-list signing.
    ``next_update`` is when the next list is due (after it, verifiers no longer take this one's word that a
    seal it does not name is not revoked)."""
    if not key_matches_certificate(cert, signer):
        raise VerificationFailed("the authority certificate does not match the signing key")
    if trust is not None:
        path = check_path(cert, trust, Purpose.REVOCATION_LIST_SIGNING)
        if not path.ok:
            raise CertificateError(f"the authority may not sign revocation lists: {path.message}")
    items = []
    for entry in entries:
        item = RevokedSeal(
            {"esID": entry.es_id, "revokedAt": entry.revoked_at.astimezone(dt.UTC), "reason": entry.reason}
        )
        if entry.successor:
            item["successor"] = entry.successor
        if entry.note:
            item["note"] = entry.note
        items.append(item)
    moment = (issued_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    tbs = TBSSealRevocationList({"version": LIST_VERSION, "issuedAt": moment, "entries": items})
    if next_update is not None:
        due = aware(next_update).astimezone(dt.UTC).replace(microsecond=0)
        if due <= moment:
            raise InvalidInput("the revocation list's next update must come after its issue time")
        tbs["nextUpdate"] = due
    algorithm, signature = sign_with(signer, tbs.dump())
    result = SealRevocationList(
        {"tbsList": tbs, "cert": cert.dump(), "signAlgID": algorithm, "signedValue": signature}
    )
    return bytes(result.dump())


def write_revocation_list(
    path: str | os.PathLike[str],
    entries: Sequence[Revocation],
    signer: PrivateKeyHandle,
    cert: asn1_x509.Certificate,
    *,
    trust: Sequence[TrustAnchor] | None = None,
) -> None:
    """:func:`make_revocation_list`, written atomically to ``path``."""
    write_atomic(path, make_revocation_list(entries, signer, cert, trust=trust))


def load_revocation_list(
    data: bytes, trust: Sequence[TrustAnchor], *, at_time: dt.datetime | None = None
) -> RevocationList:
    """Parse and verify a revocation list: its signature first, then its authority's path to ``trust`` for
    revocation-list signing (intermediates, key usage, validity, revocation through
    :func:`sealkit.validation.validate_certificate`), judged at ``at_time`` if that is a proven time, else
    now — the list's own issuedAt is only a claim. Successor codes must pass GB 32100. Raises
    :class:`VerificationFailed`."""
    try:
        parsed = SealRevocationList.load(bytes(data), strict=True)
        native_tbs = parsed["tbsList"].native
    except (ValueError, TypeError) as exc:
        raise DecodingError(f"not a sealkit revocation list: {exc}") from None
    authority = load_certificate(parsed["cert"].native, "the revocation list's authority certificate")
    problem = signature_problem(
        authority, parsed["signAlgID"].dotted, parsed["tbsList"].dump(), parsed["signedValue"].native
    )
    if problem:
        raise VerificationFailed(f"the revocation list's signature {problem}")
    if not trust:
        raise VerificationFailed(
            "the revocation list's authority is not trusted: no trust anchors were given"
        )
    path = check_path(authority, trust, Purpose.REVOCATION_LIST_SIGNING, at=at_time)
    if not path.ok:
        raise VerificationFailed(f"the revocation list's authority is not trusted: {path.message}")
    if native_tbs["version"] != LIST_VERSION:
        raise DecodingError(f"revocation list version {native_tbs['version']} is not supported")
    source = "import:" + cert_digest(authority.dump())
    entries = []
    for e in native_tbs["entries"]:
        successor = e["successor"]
        if successor is not None:
            try:
                successor = require_uscc(successor, f"the successor of seal {e['esID']} in the list")
            except InvalidInput as exc:
                raise DecodingError(exc.message) from None
        entries.append(
            Revocation(e["esID"], _zoned(e["revokedAt"]), e["reason"], successor, e["note"], source)
        )
    return RevocationList(
        issued_at=_zoned(native_tbs["issuedAt"]),
        authority=authority,
        entries=entries,
        next_update=_zoned(native_tbs["nextUpdate"]) if native_tbs["nextUpdate"] else None,
    )


def _zoned(moment: dt.datetime) -> dt.datetime:
    """A list time; one without a zone is Beijing time (the project's rule)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)
