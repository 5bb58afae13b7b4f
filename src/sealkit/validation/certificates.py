"""The certificate toolkit: does this certificate hold this key, is it valid at a time, does a signature
verify with its key, and which of a CMS's certificates is its signer's. Every package asks these questions
here, so each has one answer.

Signature checks reuse :func:`sealkit.sm2.x509.verify_with_public_key` (SM2 with the default ID, RSA PKCS#1
v1.5 and PSS, ECDSA); this module adds the forms found in files: an algorithm given as an OID or a name, and
SM2 signatures as DER, DER behind a stray zero byte, or raw ``r || s``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from asn1crypto import algos, cms, core, keys
from asn1crypto import x509 as asn1_x509

from sealkit.errors import DecodingError, InvalidSignature, UnsupportedAlgorithm
from sealkit.sm2 import x509 as sm2_x509
from sealkit.sm2.signature import der_from_raw
from sealkit.validation.algorithms import is_sm2_algorithm, is_sm2_key

Validity = Literal["valid", "not-yet-valid", "expired"]


class _SM2Signature(core.Sequence):  # type: ignore[misc]
    _fields = [("r", core.Integer), ("s", core.Integer)]


def normalise_sm2_signature(signature: bytes) -> bytes:
    """DER ``SEQUENCE{r, s}`` from the encodings seen in files: DER, DER after a stray 00, raw r||s."""
    candidates = [bytes(signature)]
    if signature[:1] == b"\x00":
        candidates.append(bytes(signature[1:]))
    for candidate in candidates:
        if candidate[:1] == b"\x30":
            try:
                parsed = _SM2Signature.load(candidate, strict=True)
                return bytes(_SM2Signature({"r": parsed["r"].native, "s": parsed["s"].native}).dump())
            except (ValueError, TypeError, KeyError):
                pass
        if len(candidate) == 64:
            return der_from_raw(candidate)
    raise DecodingError("the SM2 signature is neither DER nor a 64-byte r||s")


def _algorithm(algorithm: algos.SignedDigestAlgorithm | str) -> algos.SignedDigestAlgorithm:
    if isinstance(algorithm, algos.SignedDigestAlgorithm):
        return algorithm
    try:
        return algos.SignedDigestAlgorithm({"algorithm": algorithm})
    except (ValueError, TypeError):
        raise UnsupportedAlgorithm(f"unknown signature algorithm {algorithm}") from None


def verify_with_certificate(
    cert: asn1_x509.Certificate | keys.PublicKeyInfo,
    algorithm: algos.SignedDigestAlgorithm | str,
    data: bytes,
    signature: bytes,
) -> None:
    """Verify ``signature`` over ``data`` with the key of ``cert``; raises :class:`InvalidSignature`.

    ``algorithm`` is an asn1crypto ``SignedDigestAlgorithm``, an OID or an asn1crypto name.
    """
    info = cert.public_key if isinstance(cert, asn1_x509.Certificate) else cert
    sig_alg = _algorithm(algorithm)
    if is_sm2_algorithm(sig_alg) or is_sm2_key(info):
        if not (is_sm2_algorithm(sig_alg) and is_sm2_key(info)):
            raise InvalidSignature("the SM2 signature algorithm and the certificate's key do not match")
        try:
            signature = normalise_sm2_signature(signature)
        except DecodingError:
            raise InvalidSignature("the SM2 signature is malformed") from None
        sig_alg = algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})
    sm2_x509.verify_with_public_key(info, sig_alg, bytes(signature), bytes(data))


def public_key_info_of(key: Any) -> keys.PublicKeyInfo:
    """The ``PublicKeyInfo`` of a key handle, an SM2 or ``cryptography`` key, SPKI DER or a certificate."""
    if isinstance(key, asn1_x509.Certificate):
        return key.public_key
    return sm2_x509.public_key_info_of(key)


def key_matches_certificate(cert: asn1_x509.Certificate, key: Any) -> bool:
    """True if ``cert`` certifies ``key`` (a key handle, a public or private key, a PublicKeyInfo)."""
    return bool(cert.public_key.dump() == public_key_info_of(key).dump())


def signer_certificate(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo | None = None
) -> asn1_x509.Certificate | None:
    """The certificate of ``signer_info`` (default: the first signer) among ``signed_data``'s certificates,
    by its issuer and serial number or its subject key identifier; None when it is not there. Serial numbers
    are compared first, so the costly comparison of names runs on one candidate, not on every certificate."""
    signer_info = signer_info if signer_info is not None else signed_data["signer_infos"][0]
    sid = signer_info["sid"]
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if cert.serial_number == wanted["serial_number"].native and cert.issuer == wanted["issuer"]:
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None


def validity_at(cert: asn1_x509.Certificate, when: dt.datetime) -> Validity:
    """Whether ``cert`` is valid at ``when`` (an aware time)."""
    validity = cert["tbs_certificate"]["validity"]
    if when < validity["not_before"].native:
        return "not-yet-valid"
    if when > validity["not_after"].native:
        return "expired"
    return "valid"


def validity_period(cert: asn1_x509.Certificate) -> tuple[dt.datetime, dt.datetime]:
    """``(not_before, not_after)`` of ``cert``."""
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native, validity["not_after"].native


def describe(cert: asn1_x509.Certificate) -> str:
    """A certificate's subject as a person reads it."""
    return str(cert.subject.human_friendly)
