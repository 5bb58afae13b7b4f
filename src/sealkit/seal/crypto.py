"""Signatures for seals: which algorithm a key signs with, verifying a signature with a certificate's key
(SM2-with-SM3, RSA, ECDSA), normalising the SM2 signature encodings found in the wild, and a small trust check
of a certificate against anchors at a given time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from sealkit import certs
from sealkit.errors import DecodingError, InvalidSignature, UnsupportedAlgorithm
from sealkit.seal.asn1 import SM2_WITH_SM3
from sealkit.ukey.base import KeyKind, PrivateKeyHandle, SignOptions

SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
SM2_SIGN = "1.2.156.10197.1.301.1"
SM2_CURVE = "1.2.156.10197.1.301"

_RSA: dict[str, type[hashes.HashAlgorithm]] = {
    SHA256_WITH_RSA: hashes.SHA256,
    "1.2.840.113549.1.1.12": hashes.SHA384,
    "1.2.840.113549.1.1.13": hashes.SHA512,
}
_ECDSA: dict[str, type[hashes.HashAlgorithm]] = {
    ECDSA_WITH_SHA256: hashes.SHA256,
    "1.2.840.10045.4.3.3": hashes.SHA384,
    "1.2.840.10045.4.3.4": hashes.SHA512,
}


def algorithm_for(handle: PrivateKeyHandle) -> tuple[str, SignOptions]:
    """The signature algorithm OID and sign options for ``handle``'s key kind."""
    if handle.kind is KeyKind.SM2:
        return SM2_WITH_SM3, SignOptions(digest="sm3")
    if handle.kind is KeyKind.RSA:
        return SHA256_WITH_RSA, SignOptions(digest="sha256")
    return ECDSA_WITH_SHA256, SignOptions(digest="sha256")


def sign_with(handle: PrivateKeyHandle, data: bytes) -> tuple[str, bytes]:
    """Sign ``data`` with ``handle``; returns (algorithm OID, signature)."""
    oid, options = algorithm_for(handle)
    return oid, handle.sign(data, options)


def normalise_sm2_signature(sig: bytes) -> bytes:
    """DER ``SEQUENCE{r,s}`` from the encodings seen in files: DER, DER after a stray 00, raw r||s."""
    candidates = [sig]
    if sig[:1] == b"\x00":
        candidates.append(sig[1:])
    for candidate in candidates:
        if candidate[:1] == b"\x30":
            try:
                parsed = core.Sequence.load(candidate, strict=True)
                r, s = parsed[0], parsed[1]
                if len(parsed) == 2 and isinstance(r, core.Integer) and isinstance(s, core.Integer):
                    return _der_sig(r.native, s.native)
            except (ValueError, TypeError, IndexError):
                pass
        if len(candidate) == 64:
            return _der_sig(int.from_bytes(candidate[:32], "big"), int.from_bytes(candidate[32:], "big"))
    raise DecodingError("SM2 signature is neither DER nor a 64-byte r||s")


def _der_sig(r: int, s: int) -> bytes:
    class _Sig(core.Sequence):
        _fields = [("r", core.Integer), ("s", core.Integer)]

    return _Sig({"r": r, "s": s}).dump()


def load_certificate(der: bytes, what: str) -> asn1_x509.Certificate:
    """Parse a DER certificate, naming ``what`` it is in the error."""
    return certs.load_certificate(bytes(der), what=what)


def is_sm2_certificate(cert: asn1_x509.Certificate) -> bool:
    spki = cert.public_key
    if spki.algorithm != "ec":
        return False
    params = spki["algorithm"]["parameters"]
    return params.name == "named" and params.chosen.dotted == SM2_CURVE


def verify_signature(cert: asn1_x509.Certificate, algorithm: str, data: bytes, signature: bytes) -> None:
    """Verify ``signature`` over ``data`` with ``cert``'s public key; raises :class:`InvalidSignature`."""
    if algorithm in (SM2_WITH_SM3, SM2_SIGN) or is_sm2_certificate(cert):
        if algorithm not in (SM2_WITH_SM3, SM2_SIGN):
            raise InvalidSignature(f"algorithm {algorithm} does not match the SM2 certificate")
        from sealkit import sm2

        try:
            sig = normalise_sm2_signature(signature)
        except DecodingError:
            raise InvalidSignature("SM2 signature is malformed") from None
        sm2.load_der_public_key(cert.public_key.dump()).verify(sig, data)
        return
    key = serialization.load_der_public_key(cert.public_key.dump())
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm in _RSA:
            key.verify(signature, data, padding.PKCS1v15(), _RSA[algorithm]())
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm in _ECDSA:
            key.verify(signature, data, ec.ECDSA(_ECDSA[algorithm]()))
        else:
            raise UnsupportedAlgorithm(
                f"signature algorithm {algorithm} with a {cert.public_key.algorithm} key"
            )
    except CryptoInvalidSignature:
        raise InvalidSignature("signature does not verify") from None


def cert_digest(cert_der: bytes) -> str:
    """The SHA-256 (hex) sealkit uses to name a certificate."""
    return hashlib.sha256(cert_der).hexdigest()


def check_trusted(
    cert: asn1_x509.Certificate, trust: Sequence[asn1_x509.Certificate], at_time: dt.datetime
) -> str | None:
    """None if ``cert`` is a trust anchor or issued directly by one, valid at ``at_time``; else the reason."""
    if not _valid_at(cert, at_time):
        return f"certificate {cert.subject.human_friendly} is not valid at {at_time.isoformat()}"
    if not trust:
        return "no trust anchors given"
    for anchor in trust:
        if anchor.dump() == cert.dump():
            return None
    for anchor in trust:
        if anchor.subject != cert.issuer:
            continue
        try:
            verify_signature(
                anchor,
                cert["signature_algorithm"]["algorithm"].dotted,
                cert["tbs_certificate"].dump(),
                cert["signature_value"].native,
            )
        except (InvalidSignature, UnsupportedAlgorithm):
            continue
        if not _valid_at(anchor, at_time):
            return f"trust anchor {anchor.subject.human_friendly} is not valid at {at_time.isoformat()}"
        return None
    return f"certificate {cert.subject.human_friendly} is not issued by a trusted authority"


def _valid_at(cert: asn1_x509.Certificate, at_time: dt.datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= at_time <= validity["not_after"].native)
