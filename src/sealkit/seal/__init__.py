"""GB/T 38540 electronic seals: seal data, the unit form, seal images, the lifecycle registry, and the hooks
that put seals into PDF signatures and check them there.

Modules: :mod:`~sealkit.seal.asn1` (ASN.1 classes), :mod:`~sealkit.seal.parse` (tolerant reading),
:mod:`~sealkit.seal.make` (making seals), :mod:`~sealkit.seal.verify` (verification in the standard's order),
:mod:`~sealkit.seal.form` (附件3), :mod:`~sealkit.seal.images` (seal imprints),
:mod:`~sealkit.seal.lifecycle` and :mod:`~sealkit.seal.registry` (lifecycle, audit chain),
:mod:`~sealkit.seal.revlist` (signed revocation lists), :mod:`~sealkit.seal.binding` (signing and
verification hooks).
"""

from __future__ import annotations

from sealkit.seal.audit import AuditReport
from sealkit.seal.binding import (
    SEAL_ATTRIBUTE_OID,
    SealChecker,
    SealForSigning,
    check_seal_in_signature,
    make_seal_checker,
    parse_ses_signature,
    seal_signed_attribute,
    usable_seal,
)
from sealkit.seal.form import Contact, UnitForm, form_from_dict, load_form
from sealkit.seal.images import KINDS as IMAGE_KINDS
from sealkit.seal.images import SealImage, image_size_mm, imprint_from_scan, render_seal
from sealkit.seal.lifecycle import REASONS, STATUSES, Revocation, SealRecord, SealRegistry
from sealkit.seal.make import SealSpec, make_seal, make_ses_signature
from sealkit.seal.parse import ParsedSeal, ParsedSignature, parse_seal, parse_signature
from sealkit.seal.revlist import (
    RevocationList,
    load_revocation_list,
    make_revocation_list,
    write_revocation_list,
)
from sealkit.seal.verify import SealVerification, Step, verify_seal, verify_ses_signature

__all__ = [
    "SealChecker",
    "make_seal_checker",
    "IMAGE_KINDS",
    "REASONS",
    "SEAL_ATTRIBUTE_OID",
    "STATUSES",
    "AuditReport",
    "Contact",
    "ParsedSeal",
    "ParsedSignature",
    "Revocation",
    "RevocationList",
    "SealForSigning",
    "SealImage",
    "SealRecord",
    "SealRegistry",
    "SealSpec",
    "SealVerification",
    "Step",
    "UnitForm",
    "check_seal_in_signature",
    "form_from_dict",
    "image_size_mm",
    "imprint_from_scan",
    "load_form",
    "load_revocation_list",
    "make_revocation_list",
    "make_seal",
    "make_ses_signature",
    "parse_seal",
    "parse_signature",
    "parse_ses_signature",
    "render_seal",
    "seal_signed_attribute",
    "usable_seal",
    "verify_seal",
    "verify_ses_signature",
    "write_revocation_list",
]
