"""PAdES signing with visible seals, the multi-party flow, and verification a tampered PDF cannot fool.

Signing: :func:`sign_pdf` with a :class:`SealAppearance` placed by :class:`Placement` (page rectangle,
keyword, cross-page seal), :func:`prepare_fields` for every party's field and the signing order,
:func:`clean_imprint` for scanned seals. See ``docs/pdf-signing.md`` (test contracts:
:mod:`sealkit.dev.sample_contract`).

Verification: :func:`verify_pdf` returns a :class:`VerificationReport` (one :class:`SignatureVerdict` per
signature, ETSI-style indications); :func:`file_contract` verifies a contract and writes its filing record.
See ``docs/pdf-verification.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealkit.lazy import lazy_exports

if TYPE_CHECKING:  # the names the package exports, for type checkers and readers
    from sealkit.certs import load_certificate, load_certificates
    from sealkit.pdf.appearance import (
        SealAppearance,
        clean_imprint,
        slice_strips,
    )
    from sealkit.pdf.fields import (
        FieldSpec,
        PreparedField,
        PrepareResult,
        next_unsigned_field,
        prepare_fields,
        read_signing_order,
    )
    from sealkit.pdf.filing import (
        FilingRecord,
        file_contract,
        filing_record,
        write_filing_record,
    )
    from sealkit.pdf.placement import (
        Placement,
        TextHit,
        find_text,
    )
    from sealkit.pdf.report import (
        Check,
        Indication,
        SignatureVerdict,
        SubIndication,
        VerificationReport,
    )
    from sealkit.pdf.sign import (
        SignResult,
        StampedBox,
        sign_pdf,
    )
    from sealkit.pdf.verify import (
        verify_pdf,
    )

_EXPORTS = {
    "Check": "report",
    "FieldSpec": "fields",
    "FilingRecord": "filing",
    "Indication": "report",
    "Placement": "placement",
    "PrepareResult": "fields",
    "PreparedField": "fields",
    "SealAppearance": "appearance",
    "SignResult": "sign",
    "SignatureVerdict": "report",
    "StampedBox": "sign",
    "SubIndication": "report",
    "TextHit": "placement",
    "VerificationReport": "report",
    "clean_imprint": "appearance",
    "file_contract": "filing",
    "filing_record": "filing",
    "find_text": "placement",
    "load_certificate": "sign",
    "load_certificates": "verify",
    "prepare_fields": "fields",
    "next_unsigned_field": "fields",
    "read_signing_order": "fields",
    "sign_pdf": "sign",
    "slice_strips": "appearance",
    "verify_pdf": "verify",
    "write_filing_record": "filing",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Check",
    "FieldSpec",
    "FilingRecord",
    "Indication",
    "Placement",
    "PrepareResult",
    "PreparedField",
    "SealAppearance",
    "SignResult",
    "SignatureVerdict",
    "StampedBox",
    "SubIndication",
    "TextHit",
    "VerificationReport",
    "clean_imprint",
    "file_contract",
    "filing_record",
    "write_filing_record",
    "find_text",
    "load_certificate",
    "load_certificates",
    "prepare_fields",
    "next_unsigned_field",
    "read_signing_order",
    "sign_pdf",
    "slice_strips",
    "verify_pdf",
]
