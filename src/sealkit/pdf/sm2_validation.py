"""An SM2-aware signature validator for pyhanko-certvalidator.

pyhanko-certvalidator checks every signature it meets (the CMS signer, each certificate of a path, CRLs,
OCSP responses, timestamp tokens) through one :class:`SignatureValidator`. :class:`SM2SignatureValidator`
handles SM2-with-SM3 itself — Z computed with the GM/T 0009 default user ID over the signer's public key,
then e = SM3(Z || M) — and hands every other algorithm to pyHanko's default. Pass it as
``ValidationContext(signature_validator=SM2SignatureValidator())``; :func:`sm2_validation_context` does.

SM2 needs the whole message (Z is prepended before hashing), so a *prehashed* SM2 signature — a CMS
SignerInfo without signed attributes, where only the digest is at hand — is always rejected.
"""

from __future__ import annotations

import importlib
from typing import Any

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

#: OIDs and asn1crypto names that mean "SM2 signature" (after :mod:`sealkit.sm2` registered them).
SM2_SIGNATURE_ALGORITHMS = frozenset({"sm2_sm3", "sm2", "1.2.156.10197.1.501", "1.2.156.10197.1.301.1"})
SM2_CURVE_NAMES = frozenset({"sm2p256v1", "1.2.156.10197.1.301"})
#: The default SM2 user ID of GM/T 0009 (what every Chinese PDF signer uses).
DEFAULT_UID = b"1234567812345678"


def _sm2() -> Any:
    """:mod:`sealkit.sm2`, imported on first use (it registers the SM OIDs with asn1crypto)."""
    return importlib.import_module("sealkit.sm2")


def register_sm_oids() -> bool:
    """Register the SM2/SM3 OIDs with asn1crypto if :mod:`sealkit.sm2` is available; True if it is."""
    try:
        _sm2()
    except ImportError:
        return False
    return True


def is_sm2_algorithm(signature_algorithm: algos.SignedDigestAlgorithm) -> bool:
    """True if ``signature_algorithm`` is SM2-with-SM3 (or GM/T 0010's bare "SM2")."""
    name = signature_algorithm["algorithm"]
    return name.native in SM2_SIGNATURE_ALGORITHMS or name.dotted in SM2_SIGNATURE_ALGORITHMS


def is_sm2_key(public_key_info: keys.PublicKeyInfo) -> bool:
    """True if ``public_key_info`` is an EC key on the SM2 curve."""
    algorithm = public_key_info["algorithm"]
    if algorithm["algorithm"].native != "ec":
        return False
    params = algorithm["parameters"]
    if params.name != "named":
        return False
    curve = params.chosen
    return curve.native in SM2_CURVE_NAMES or curve.dotted in SM2_CURVE_NAMES


class SM2SignatureValidator(DefaultSignatureValidator):
    """pyHanko's default validator, plus SM2-with-SM3 (GB/T 32918.2, default user ID)."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        sm2_algo = is_sm2_algorithm(signature_algorithm)
        sm2_key = is_sm2_key(public_key_info)
        if not sm2_algo and not sm2_key:
            super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        if sm2_algo != sm2_key:
            # An SM2 algorithm with a non-SM2 key, or an SM2 key under another algorithm (e.g. ECDSA).
            raise CryptoInvalidSignature("SM2 algorithm and key do not match")
        if context.prehashed:
            raise CryptoInvalidSignature("SM2 signatures need signed attributes (the whole message)")
        sm2 = _sm2()
        try:
            public_key = sm2.load_der_public_key(public_key_info.dump())
            public_key.verify(signature, signed_data, uid=DEFAULT_UID)
        except CryptoInvalidSignature:
            raise
        except Exception as exc:  # sealkit.errors.InvalidSignature, a malformed key or DER signature
            raise CryptoInvalidSignature(f"SM2 signature does not verify: {exc}") from None


def sm2_validation_context(**kwargs: Any) -> Any:
    """A pyhanko-certvalidator ``ValidationContext`` that checks SM2 as well as RSA/ECDSA."""
    from pyhanko_certvalidator import ValidationContext

    register_sm_oids()
    return ValidationContext(signature_validator=SM2SignatureValidator(), **kwargs)
