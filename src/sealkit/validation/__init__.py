"""The one place for trust: certificates, paths, time and the SM2 validator.

- the certificate toolkit (:mod:`.certificates`): key match, validity at a time, verify with a certificate;
- algorithms (:mod:`.algorithms`): SM2 detection, readable names, weak digests;
- paths (:mod:`.paths`): :func:`validate_certificate` for every purpose through pyhanko-certvalidator, with
  ETSI EN 319 102-1 indications and the proof-of-existence rules for time;
- contexts (:mod:`.context`): validation data (:class:`Evidence`) and pyhanko-certvalidator contexts;
- the SM2 signature validator (:mod:`.sm2_validator`) every context uses.

It depends on :mod:`sealkit.sm2`, :mod:`sealkit.certs` and :mod:`sealkit.errors` only; ``pdf``, ``seal``,
``envelope`` and ``trust`` build on it.

Exports are imported on first use (:mod:`sealkit.lazy`): a signed bid or a seal check pays only for what it
uses, not for pyHanko's whole validation stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealkit.lazy import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from sealkit.validation.algorithms import (
        digest_label,
        is_sm2_algorithm,
        is_sm2_certificate,
        is_sm2_key,
        is_weak_digest,
        signature_algorithm_name,
    )
    from sealkit.validation.certificates import (
        describe,
        key_matches_certificate,
        normalise_sm2_signature,
        public_key_info_of,
        signer_certificate,
        validity_at,
        validity_period,
        verify_with_certificate,
    )
    from sealkit.validation.context import (
        Evidence,
        TrustAnchor,
        build_validation_context,
        embedded_evidence,
        load_trust_anchors,
        signature_evidence,
    )
    from sealkit.validation.paths import (
        PathValidation,
        Purpose,
        async_validate_certificate,
        validate_certificate,
    )
    from sealkit.validation.sm2_validator import SM2SignatureValidator

_EXPORTS = {
    "Evidence": "context",
    "PathValidation": "paths",
    "Purpose": "paths",
    "SM2SignatureValidator": "sm2_validator",
    "TrustAnchor": "context",
    "async_validate_certificate": "paths",
    "build_validation_context": "context",
    "describe": "certificates",
    "digest_label": "algorithms",
    "embedded_evidence": "context",
    "is_sm2_algorithm": "algorithms",
    "is_sm2_certificate": "algorithms",
    "is_sm2_key": "algorithms",
    "is_weak_digest": "algorithms",
    "key_matches_certificate": "certificates",
    "load_trust_anchors": "context",
    "normalise_sm2_signature": "certificates",
    "public_key_info_of": "certificates",
    "signature_algorithm_name": "algorithms",
    "signature_evidence": "context",
    "signer_certificate": "certificates",
    "validate_certificate": "paths",
    "validity_at": "certificates",
    "validity_period": "certificates",
    "verify_with_certificate": "certificates",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Evidence",
    "PathValidation",
    "Purpose",
    "SM2SignatureValidator",
    "TrustAnchor",
    "async_validate_certificate",
    "build_validation_context",
    "describe",
    "digest_label",
    "embedded_evidence",
    "is_sm2_algorithm",
    "is_sm2_certificate",
    "is_sm2_key",
    "is_weak_digest",
    "key_matches_certificate",
    "load_trust_anchors",
    "normalise_sm2_signature",
    "public_key_info_of",
    "signature_algorithm_name",
    "signature_evidence",
    "signer_certificate",
    "validate_certificate",
    "validity_at",
    "validity_period",
    "verify_with_certificate",
]
