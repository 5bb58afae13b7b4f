"""sealkit's CMS signed attribute that carries a signature's SESeal: its OID and ASN.1 type (registered with
asn1crypto on import, so signed attributes that carry it always parse the same way), and where to find it.

Kept apart from :mod:`sealkit.seal.binding` so that a verifier can register it and see whether a signature
carries a seal without importing seal verification (and the key and registry layers behind it) for
signatures that carry none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asn1crypto import cms, core

from sealkit.errors import DecodingError
from sealkit.seal.parse import ParsedSeal, parse_seal

#: sealkit's CMS attribute "SESeal of this signature" (2.25 + a UUID generated once, fixed forever).
SEAL_ATTRIBUTE_OID = "2.25.109443087748674403689896080194582711289"
SEAL_ATTRIBUTE_NAME = "sealkit_seseal"


class SetOfSESealDer(core.SetOf):
    _child_spec = core.OctetString


def _register() -> None:
    """Teach asn1crypto the attribute, so signed attributes carrying it parse (idempotent)."""
    type_map = cms.CMSAttributeType._map
    assert type_map is not None
    type_map[SEAL_ATTRIBUTE_OID] = SEAL_ATTRIBUTE_NAME
    if cms.CMSAttributeType._reverse_map is not None:
        cms.CMSAttributeType._reverse_map[SEAL_ATTRIBUTE_NAME] = SEAL_ATTRIBUTE_OID
    cms.CMSAttribute._oid_specs[SEAL_ATTRIBUTE_NAME] = SetOfSESealDer


_register()


def seal_values(signed_data: cms.SignedData) -> list[Any]:
    """The values of the seal attribute in the first signer's signed attributes (empty: no seal)."""
    attrs = signed_data["signer_infos"][0]["signed_attrs"]
    return [a["values"] for a in attrs if a["type"].dotted == SEAL_ATTRIBUTE_OID] if attrs else []


def carried_seal(signed_data: cms.SignedData) -> ParsedSeal | None:
    """The SESeal the (first) signer's signed attributes carry, parsed; None when there is none.
    Raises :class:`~sealkit.errors.DecodingError` for an attribute that is not a readable seal."""
    return _parsed(seal_values(signed_data))


def attributes_seal(attributes: Iterable[cms.CMSAttribute]) -> ParsedSeal | None:
    """The SESeal among signed ``attributes`` about to be signed (a signer's ``extra_signed_attributes``),
    parsed; None when there is none. Raises :class:`~sealkit.errors.DecodingError` as
    :func:`carried_seal` does."""
    return _parsed([a["values"] for a in attributes if a["type"].dotted == SEAL_ATTRIBUTE_OID])


def _parsed(values: list[Any]) -> ParsedSeal | None:
    if not values:
        return None
    try:
        seal_der = bytes(values[0][0].native)
    except (ValueError, TypeError, IndexError) as exc:
        raise DecodingError(f"seal attribute unreadable: {exc}") from None
    return parse_seal(seal_der)
