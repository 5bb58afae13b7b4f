"""An SM2-aware signature validator for pyhanko-certvalidator (the one SM2 check every path validation uses).

pyhanko-certvalidator checks every signature it meets (the CMS signer, each certificate of a path, CRLs,
OCSP responses, timestamp tokens) through one :class:`SignatureValidator`. :class:`SM2SignatureValidator`
handles SM2-with-SM3 itself — Z computed with the GM/T 0009 default user ID over the signer's public key,
then e = SM3(Z || M) — and hands every other algorithm to pyHanko's default. Pass it as
``ValidationContext(signature_validator=SM2SignatureValidator())``;
:func:`sealkit.validation.build_validation_context` does.

SM2 needs the whole message (Z is prepended before hashing), so a *prehashed* SM2 signature — a CMS
SignerInfo without signed attributes, where only the digest is at hand — is always rejected.
"""

from __future__ import annotations

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

from sealkit import sm2
from sealkit.validation.algorithms import is_sm2_algorithm, is_sm2_key


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
        try:
            public_key = sm2.load_der_public_key(public_key_info.dump())
            public_key.verify(signature, signed_data, uid=sm2.DEFAULT_UID)
        except CryptoInvalidSignature:
            raise
        except Exception as exc:  # sealkit.errors.InvalidSignature, a malformed key or DER signature
            raise CryptoInvalidSignature(f"SM2 signature does not verify: {exc}") from None
