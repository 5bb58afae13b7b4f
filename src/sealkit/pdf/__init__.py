"""PAdES signing with visible seals, and verification reports that a tampered PDF cannot fool.

Verification: :func:`verify_pdf` returns a :class:`VerificationReport` (one :class:`SignatureVerdict` per
signature, ETSI-style indications); :func:`file_contract` verifies a contract and writes its filing record.
See ``docs/pdf-verification.md``.
"""

from sealkit.pdf.filing import FilingRecord, file_contract, filing_record
from sealkit.pdf.report import Check, Indication, SignatureVerdict, SubIndication, VerificationReport
from sealkit.pdf.sm2_validation import SM2SignatureValidator
from sealkit.pdf.verify import load_certificates, verify_pdf

__all__ = [
    "Check",
    "FilingRecord",
    "Indication",
    "SM2SignatureValidator",
    "SignatureVerdict",
    "SubIndication",
    "VerificationReport",
    "file_contract",
    "filing_record",
    "load_certificates",
    "verify_pdf",
]
