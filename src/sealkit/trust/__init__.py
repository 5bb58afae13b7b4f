"""Trusted time and revocation: RFC 3161 timestamps, OCSP/CRL evidence, long-term validation (PAdES LT/LTA).

- :func:`make_timestamper` — an RFC 3161 client for ``sealkit.pdf.sign_pdf(timestamper=…)`` (B-T);
- :func:`build_validation_context`, :func:`embedded_evidence` — offline (embedded DSS data) or online
  validation contexts, optionally at a point in time, that check SM2 as well as RSA/ECDSA;
- :func:`evaluate_signature` — a signature judged at its trusted time, with the report's ``timestamp`` and
  ``revocation`` JSON (:meth:`TimeEvaluation.to_json`);
- :func:`add_validation_info`, :func:`ltv_update` — B-LT/B-LTA and the periodic archive-timestamp refresh;
- :func:`sign_timestamped` — sign with a signature timestamp (B-T), or straight to B-LTA (``ltv=True``).

See ``docs/long-term-validation.md``.
"""

from sealkit.trust.ltv import LtvResult, add_validation_info, ltv_context, ltv_update
from sealkit.trust.signing import TimestampedSignResult, sign_timestamped
from sealkit.trust.timestamps import TsaClient, make_timestamper
from sealkit.trust.verify import (
    RevocationInfo,
    TimeEvaluation,
    TimestampInfo,
    async_evaluate_signature,
    evaluate_signature,
    revocation_report,
    timestamp_info,
)
from sealkit.validation.context import (
    Evidence,
    build_validation_context,
    embedded_evidence,
    load_trust_anchors,
    signature_evidence,
)

__all__ = [
    "Evidence",
    "LtvResult",
    "RevocationInfo",
    "TimeEvaluation",
    "TimestampInfo",
    "TimestampedSignResult",
    "TsaClient",
    "add_validation_info",
    "async_evaluate_signature",
    "build_validation_context",
    "embedded_evidence",
    "evaluate_signature",
    "load_trust_anchors",
    "ltv_context",
    "ltv_update",
    "make_timestamper",
    "revocation_report",
    "sign_timestamped",
    "signature_evidence",
    "timestamp_info",
]
