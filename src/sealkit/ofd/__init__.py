"""OFD (GB/T 33190-2016) documents signed with GB/T 38540 electronic seals, as ofdrw writes them.

Signing: :func:`sign_ofd` (SM2 only) adds Signatures.xml, ``Sign_N/Signature.xml`` with SM3 References,
``SignedValue.dat`` (a v4 SES_Signature over Signature.xml), ``Seal.esl`` and StampAnnots placed by page and
rectangle, keyword or as a cross-page seal (:class:`sealkit.pdf.Placement`). Verification: :func:`verify_ofd`
returns the same :class:`~sealkit.pdf.report.VerificationReport` as PDF verification.

Modules: :mod:`~sealkit.ofd.package` (the ZIP, read within limits), :mod:`~sealkit.ofd.xmlparse` (hardened
XML), :mod:`~sealkit.ofd.model` (pages, text positions), :mod:`~sealkit.ofd.signatures` (signature parts),
:mod:`~sealkit.ofd.sign`, :mod:`~sealkit.ofd.verify`, :mod:`~sealkit.ofd.coverage` (what a signature
covers), :mod:`~sealkit.ofd.trust` (paths and timestamps through sealkit's validation core),
:mod:`sealkit.dev.sample_ofd` has a sample contract (for tests and the demo).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealkit.lazy import lazy_exports

if TYPE_CHECKING:  # the names the package exports, for type checkers and readers
    from sealkit.ofd.model import OfdDocument, OfdPage, TextHit, find_text, load_document
    from sealkit.ofd.package import OfdPackage, is_ofd, read_package
    from sealkit.ofd.registered import sign_ofd_for_use
    from sealkit.ofd.sign import OfdSignResult, OfdStamp, require_sm2_key, sign_ofd
    from sealkit.ofd.verify import signed_values, verify_ofd

_EXPORTS = {
    "OfdDocument": "model",
    "OfdPackage": "package",
    "OfdPage": "model",
    "OfdSignResult": "sign",
    "OfdStamp": "sign",
    "TextHit": "model",
    "find_text": "model",
    "is_ofd": "package",
    "load_document": "model",
    "read_package": "package",
    "require_sm2_key": "sign",
    "sign_ofd": "sign",
    "sign_ofd_for_use": "registered",
    "signed_values": "verify",
    "verify_ofd": "verify",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "OfdDocument",
    "OfdPackage",
    "OfdPage",
    "OfdSignResult",
    "OfdStamp",
    "TextHit",
    "find_text",
    "is_ofd",
    "load_document",
    "read_package",
    "require_sm2_key",
    "sign_ofd",
    "sign_ofd_for_use",
    "signed_values",
    "verify_ofd",
]
