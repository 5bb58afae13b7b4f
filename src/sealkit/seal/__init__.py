"""GB/T 38540 electronic seals: seal data, the unit form, seal images, the lifecycle registry, and the hooks
that put seals into PDF signatures and check them there.

Modules: :mod:`~sealkit.seal.asn1` (ASN.1 classes), :mod:`~sealkit.seal.parse` (tolerant reading),
:mod:`~sealkit.seal.make` (making seals), :mod:`~sealkit.seal.verify` (verification in the standard's order),
:mod:`~sealkit.seal.form` (附件3), :mod:`~sealkit.seal.images` (seal imprints),
:mod:`~sealkit.seal.registry` (lifecycle and audit), :mod:`~sealkit.seal.binding` (signing and
verification hooks).
"""

from __future__ import annotations

from sealkit.seal.form import Contact, UnitForm, form_from_dict, load_form
from sealkit.seal.make import SealSpec, make_seal, make_ses_signature
from sealkit.seal.parse import ParsedSeal, ParsedSignature, parse_seal, parse_signature
from sealkit.seal.verify import SealVerification, Step, verify_seal, verify_ses_signature

__all__ = [
    "Contact",
    "ParsedSeal",
    "ParsedSignature",
    "SealSpec",
    "SealVerification",
    "Step",
    "UnitForm",
    "form_from_dict",
    "load_form",
    "make_seal",
    "make_ses_signature",
    "parse_seal",
    "parse_signature",
    "verify_seal",
    "verify_ses_signature",
]
