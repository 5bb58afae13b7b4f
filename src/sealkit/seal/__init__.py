"""GB/T 38540 electronic seals: seal data, the unit form, seal images, the lifecycle registry, and the hooks
that put seals into PDF signatures and check them there.

Modules: :mod:`~sealkit.seal.asn1` (ASN.1 classes), :mod:`~sealkit.seal.parse` (tolerant reading),
:mod:`~sealkit.seal.make` (making seals), :mod:`~sealkit.seal.verify` (verification in the standard's order),
:mod:`~sealkit.seal.form` (附件3), :mod:`~sealkit.seal.images` (seal imprints),
:mod:`~sealkit.seal.lifecycle` and :mod:`~sealkit.seal.registry` (lifecycle, audit chain and its signed head),
:mod:`~sealkit.seal.units` (which unit a seal and a certificate belong to),
:mod:`~sealkit.seal.revlist` (signed revocation lists), :mod:`~sealkit.seal.binding` (signing and
verification hooks), custody: :mod:`~sealkit.seal.grants` (用印授权), :mod:`~sealkit.seal.uses` (用印登记),
:mod:`~sealkit.seal.roles` (administrators), :mod:`~sealkit.seal.custody` (a use from reservation to register,
and what verification reports of it), :mod:`~sealkit.seal.opening` (opening the configured registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealkit.lazy import lazy_exports

if TYPE_CHECKING:  # the names the package exports, for type checkers and readers
    from sealkit.seal.attribute import SEAL_ATTRIBUTE_OID
    from sealkit.seal.audit import (
        AuditReport,
    )
    from sealkit.seal.binding import (
        SealChecker,
        SealForSigning,
        check_seal_in_signature,
        make_seal_checker,
        parse_ses_signature,
        revocation_lookup,
        seal_signed_attribute,
        usable_seal,
    )
    from sealkit.seal.custody import SealUse, custody_checks, reserved_use, seal_use, signed_document
    from sealkit.seal.form import (
        Contact,
        UnitForm,
        form_from_dict,
        load_form,
    )
    from sealkit.seal.grants import PURPOSES as GRANT_PURPOSES
    from sealkit.seal.grants import Grant, GrantRequest
    from sealkit.seal.images import (
        KINDS as IMAGE_KINDS,
    )
    from sealkit.seal.images import (
        SealImage,
        image_size_mm,
        imprint_from_scan,
        render_seal,
    )
    from sealkit.seal.lifecycle import (
        REASONS,
        STATUSES,
        SealRecord,
        SealRegistry,
    )
    from sealkit.seal.make import (
        SealSpec,
        make_seal,
        make_ses_signature,
    )
    from sealkit.seal.opening import open_registry
    from sealkit.seal.parse import (
        ParsedSeal,
        ParsedSignature,
        parse_seal,
        parse_signature,
    )
    from sealkit.seal.registry import HeadSigner
    from sealkit.seal.revlist import (
        RevocationList,
        load_revocation_list,
        make_revocation_list,
        write_revocation_list,
    )
    from sealkit.seal.revocation import Revocation
    from sealkit.seal.roles import AdminKey
    from sealkit.seal.units import SealUnit, seal_unit
    from sealkit.seal.uses import CSV_FIELDS as USE_CSV_FIELDS
    from sealkit.seal.uses import SignedDocument, Use
    from sealkit.seal.verify import (
        SealVerification,
        Step,
        verify_seal,
        verify_ses_signature,
    )

_EXPORTS = {
    "AdminKey": "roles",
    "GRANT_PURPOSES": "grants:PURPOSES",
    "Grant": "grants",
    "GrantRequest": "grants",
    "SealUse": "custody",
    "SignedDocument": "uses",
    "USE_CSV_FIELDS": "uses:CSV_FIELDS",
    "Use": "uses",
    "custody_checks": "custody",
    "reserved_use": "custody",
    "seal_use": "custody",
    "signed_document": "custody",
    "AuditReport": "audit",
    "Contact": "form",
    "HeadSigner": "registry",
    "SealUnit": "units",
    "open_registry": "opening",
    "seal_unit": "units",
    "IMAGE_KINDS": "images:KINDS",
    "ParsedSeal": "parse",
    "ParsedSignature": "parse",
    "REASONS": "lifecycle",
    "Revocation": "revocation",
    "RevocationList": "revlist",
    "SEAL_ATTRIBUTE_OID": "attribute",
    "STATUSES": "lifecycle",
    "SealChecker": "binding",
    "SealForSigning": "binding",
    "SealImage": "images",
    "SealRecord": "lifecycle",
    "SealRegistry": "lifecycle",
    "SealSpec": "make",
    "SealVerification": "verify",
    "Step": "verify",
    "UnitForm": "form",
    "check_seal_in_signature": "binding",
    "form_from_dict": "form",
    "image_size_mm": "images",
    "imprint_from_scan": "images",
    "load_form": "form",
    "load_revocation_list": "revlist",
    "make_revocation_list": "revlist",
    "make_seal": "make",
    "make_seal_checker": "binding",
    "make_ses_signature": "make",
    "parse_seal": "parse",
    "parse_ses_signature": "binding",
    "parse_signature": "parse",
    "render_seal": "images",
    "revocation_lookup": "binding",
    "seal_signed_attribute": "binding",
    "usable_seal": "binding",
    "verify_seal": "verify",
    "verify_ses_signature": "verify",
    "write_revocation_list": "revlist",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "AdminKey",
    "GRANT_PURPOSES",
    "Grant",
    "GrantRequest",
    "SealUse",
    "SignedDocument",
    "USE_CSV_FIELDS",
    "Use",
    "custody_checks",
    "reserved_use",
    "seal_use",
    "signed_document",
    "HeadSigner",
    "SealUnit",
    "open_registry",
    "seal_unit",
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
    "revocation_lookup",
    "seal_signed_attribute",
    "usable_seal",
    "verify_seal",
    "verify_ses_signature",
    "write_revocation_list",
]
