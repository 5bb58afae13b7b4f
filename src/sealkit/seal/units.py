"""Which unit a seal belongs to, and whether a certificate belongs to that unit.

A seal sealkit makes carries its unit in ``extDatas`` (:data:`UNIT_EXTENSION_OID`: ``SEQUENCE { uscc
PrintableString, name UTF8String }``, signed by the maker with the rest of the seal). For a seal made
elsewhere the unit is read from the seal's name: a unit seal is named "<unit name><purpose>" (公章,
合同专用章 …), so the unit is the name without a known purpose.

A certificate belongs to a unit when its subject carries the unit's unified social credit code — in
organizationIdentifier, serialNumber, OU or CN, as Chinese CAs write it, possibly behind a prefix such as
``USCC:`` or ``NTRCN-`` — or when its O is the unit's name. The code must stand as a whole token: a code
that is only part of a longer string of letters and digits does not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from sealkit.seal.asn1 import SEAL_TYPE_UNIT
from sealkit.seal.parse import ParsedSeal

#: sealkit's SESeal extension "the unit of this seal" (2.25 + a UUID generated once, fixed forever).
UNIT_EXTENSION_OID = "2.25.152216621372732623972284965361944380103"

#: The purposes a unit seal's name ends with (longest first, so 合同专用章 wins over 专用章).
PURPOSES = tuple(
    sorted(
        (
            "公章", "合同专用章", "财务专用章", "发票专用章", "业务专用章", "人事专用章", "投标专用章",
            "采购专用章", "招标专用章", "行政专用章", "法人章", "专用章", "印章", "行政章", "党委章",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
_SUBJECT_CODE_FIELDS = ("organization_identifier", "serial_number", "organizational_unit_name", "common_name")


class _Digests(core.SequenceOf):
    _child_spec = core.OctetString


class UnitInfo(core.Sequence):
    _fields = [
        ("uscc", core.PrintableString),
        ("name", core.UTF8String),
        # SHA-256 of holder certificates the registrar allowed although they do not belong to the unit.
        ("allowedHolders", _Digests, {"implicit": 0, "optional": True}),
    ]


@dataclass(frozen=True)
class SealUnit:
    """A seal's unit: its code (None when only the name is known), its name, and where that came from."""

    uscc: str | None
    name: str | None
    source: str  # "seal" (sealkit's extension), "name" (read from the seal's name) or "none"
    allowed_holders: frozenset[str] = frozenset()  # SHA-256 (hex) of holders allowed by an override


def unit_extension(uscc: str, name: str, allowed_holders: Sequence[bytes] = ()) -> tuple[str, bool, bytes]:
    """The ``extDatas`` entry recording the seal's unit (for :class:`sealkit.seal.make.SealSpec`), with the
    SHA-256 digests of holder certificates allowed by an explicit override."""
    info = UnitInfo({"uscc": uscc, "name": name})
    if allowed_holders:
        info["allowedHolders"] = [bytes(d) for d in allowed_holders]
    return UNIT_EXTENSION_OID, False, info.dump()


def seal_unit(seal: ParsedSeal) -> SealUnit:
    """The unit ``seal`` belongs to, as far as the seal itself tells."""
    for oid, _critical, value in seal.extensions:
        if oid == UNIT_EXTENSION_OID:
            try:
                info = UnitInfo.load(bytes(value), strict=True)
                allowed = frozenset(d.hex() for d in (info["allowedHolders"].native or []))
                return SealUnit(str(info["uscc"].native), str(info["name"].native), "seal", allowed)
            except (ValueError, TypeError):
                return SealUnit(None, None, "none")
    if seal.seal_type == SEAL_TYPE_UNIT:
        name = _normal(seal.name)
        for purpose in PURPOSES:
            if name.endswith(purpose) and len(name) > len(purpose):
                return SealUnit(None, name[: -len(purpose)], "name")
    return SealUnit(None, None, "none")


def _normal(text: str) -> str:
    """NFKC (full-width brackets and digits as ASCII), without spaces."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _values(cert: asn1_x509.Certificate, field: str) -> list[str]:
    values: list[str] = []
    for rdn in cert.subject.chosen:
        for attribute in rdn:
            if attribute["type"].native == field:
                value = attribute["value"].native
                values.append(value if isinstance(value, str) else str(value))
    return values


def carries_code(cert: asn1_x509.Certificate, uscc: str) -> bool:
    """True if the subject of ``cert`` names ``uscc`` as a whole token in one of the fields CAs use."""
    token = re.compile(rf"(?<![0-9A-Z]){re.escape(uscc.upper())}(?![0-9A-Z])")
    return any(
        token.search(_normal(value).upper())
        for field in _SUBJECT_CODE_FIELDS
        for value in _values(cert, field)
    )


def membership_problem(cert: asn1_x509.Certificate, unit: SealUnit) -> str | None:
    """None if ``cert`` belongs to ``unit``; else why not (one line). A unit known by nothing is a problem."""
    subject = str(cert.subject.human_friendly)
    if unit.uscc and carries_code(cert, unit.uscc):
        return None
    if unit.name and any(_normal(o) == _normal(unit.name) for o in _values(cert, "organization_name")):
        return None
    if not (unit.uscc or unit.name):
        return f"{subject}: the seal names no unit to compare with"
    wanted = [f"the code {unit.uscc}"] if unit.uscc else []
    wanted += [f"O={unit.name}"] if unit.name else []
    carries = ("neither " + " nor ".join(wanted)) if len(wanted) > 1 else f"not {wanted[0]}"
    return f"{subject} does not belong to {unit.name or unit.uscc}: its subject has {carries}"
