"""A fast path for asn1crypto's ``Name`` equality: identical encodings are equal names.

asn1crypto compares X.509 names as RFC 5280 §7.1 asks — every attribute value through LDAP string
preparation (NFKC, case folding, whitespace rules) — even when the two names are the same bytes, which is
nearly always: a certificate's issuer against its issuer's subject, a SignerInfo's issuerAndSerialNumber or an
ESSCertIDv2's issuerSerial against the certificate it names. That preparation was the largest single cost of
verifying a contract's signatures (≈ 15 % of ``verify_pdf``, inside pyHanko and pyhanko-certvalidator).

:func:`install` (run by ``import sealkit``) makes ``Name.__eq__`` answer True at once for two names whose
RDNSequence has the same DER and hands every other pair to asn1crypto's own comparison, so the answer never
changes: equal bytes are equal under RFC 5280 too, and differently encoded names are still compared by its
rules. The RDNSequence, not the whole ``Name``, is compared because a name inside a GeneralName (an
ESSCertIDv2's issuerSerial, pyHanko checks it twice per signature) carries the explicit ``[4]`` tag of
``directoryName`` in its own encoding: the same name, other bytes.

``Name.hashable`` (the prepared form pyhanko-certvalidator keys its certificate registry and trust anchors
by, about 30 times per signature) runs the same preparation on every call. :func:`install` remembers it by
the RDNSequence's DER (:data:`_HASHABLE`, bounded): a pure function of those bytes, so the answer never
changes either, and a name that cannot be prepared raises as before (failures are not kept).
"""

from __future__ import annotations

from typing import Any

from asn1crypto import x509

_ORIGINAL = x509.Name.__eq__
_ORIGINAL_HASHABLE = x509.Name.hashable
#: Name.hashable by the DER of the name's RDNSequence (cleared when full).
_HASHABLE: dict[bytes, str] = {}
_MAX_HASHABLE = 4096


def _equal(self: x509.Name, other: Any) -> bool:
    if isinstance(other, x509.Name) and self.chosen.dump() == other.chosen.dump():
        return True
    return bool(_ORIGINAL(self, other))


def _hashable(self: x509.Name) -> str:
    key = self.chosen.dump()
    value = _HASHABLE.get(key)
    if value is None:
        value = _ORIGINAL_HASHABLE.fget(self)  # type: ignore[attr-defined]
        if len(_HASHABLE) >= _MAX_HASHABLE:
            _HASHABLE.clear()
        _HASHABLE[key] = value
    return value


def install() -> None:
    """Install the fast paths (idempotent)."""
    x509.Name.__eq__ = _equal  # type: ignore[method-assign, assignment]
    x509.Name.hashable = property(_hashable)  # type: ignore[method-assign, assignment]


def installed() -> bool:
    return x509.Name.__eq__ is _equal and x509.Name.hashable.fget is _hashable  # type: ignore[attr-defined]
