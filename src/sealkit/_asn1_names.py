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
"""

from __future__ import annotations

from typing import Any

from asn1crypto import x509

_ORIGINAL = x509.Name.__eq__


def _equal(self: x509.Name, other: Any) -> bool:
    if isinstance(other, x509.Name) and self.chosen.dump() == other.chosen.dump():
        return True
    return bool(_ORIGINAL(self, other))


def install() -> None:
    """Install the fast path (idempotent)."""
    x509.Name.__eq__ = _equal  # type: ignore[method-assign, assignment]


def installed() -> bool:
    return x509.Name.__eq__ is _equal
