"""Which unit a seal belongs to, and whether a certificate belongs to that unit.

A seal sealkit makes carries its unit in ``extDatas`` (:data:`UNIT_EXTENSION_OID`: ``SEQUENCE { uscc
PrintableString, name UTF8String }``, signed by the maker with the rest of the seal). For a unit seal made
elsewhere the unit is read from the seal's name: a unit seal is named "<unit name><purpose>" (公章,
合同专用章, 电子签章, 公章（电子） …), so the unit is the name without a known purpose; a name with no known
purpose may be the unit's name alone (the round official seal's arc), and only a signer whose O is exactly
that name belongs to it — anyone else gets ``seal.unit-unknown``: sealkit cannot tell the unit, so it does
not pass the seal (fail closed).

A certificate belongs to a unit when its subject carries the unit's unified social credit code as a *whole
attribute value* in organizationIdentifier, serialNumber, OU or CN — bare, behind a prefix Chinese CAs
write (``NTRCN-``, ``USCC:``, ``统一社会信用代码：``), or as one ``@``-separated part (``经办人@<code>``) —
or when its O is the unit's name. The code is compared as GB 32100 writes it, upper-case ASCII: CAs copy it
from the business licence, and organizationIdentifier and serialNumber are PrintableString (no full-width
characters), so a lower-case or full-width code only comes from text a subscriber typed. An O that names
another organisation outweighs a code in OU or CN (free text at many CAs, which the subscriber may fill): the
holder is then not a member. A code in organizationIdentifier or serialNumber is the CA's checked registration
identifier and outweighs the O (which may be a short or former name).
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
            "合同章", "电子签章", "电子公章", "电子印章", "电子合同章", "签章",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
#: A trailing marker that the seal is the electronic form of a physical one: 公章（电子）, 合同专用章(电子).
_ELECTRONIC = ("(电子)", "(电子版)")
#: How Chinese CAs write the code in an attribute: bare, or behind one of these prefixes.
_CODE_FORM = re.compile(
    r"(?:(?:NTRCN|USCC|统一社会信用代码|社会信用代码)\s*[-:]\s*)?(?P<code>.*)", re.IGNORECASE
)
#: Attributes a CA fills from the unit's registration, and free-text attributes a subscriber may fill.
_REGISTRATION_FIELDS = ("organization_identifier", "serial_number")
_FREE_TEXT_FIELDS = ("organizational_unit_name", "common_name")


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
    #: "seal" (sealkit's extension), "name" (the seal's name without its purpose), "whole-name" (a unit
    #: seal's name with no known purpose: perhaps the unit's name alone), "unreadable" (sealkit's extension
    #: does not decode) or "none" (a personal seal: no unit)
    source: str
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
                return SealUnit(None, None, "unreadable")
    if seal.seal_type == SEAL_TYPE_UNIT:
        name = _normal(seal.name)
        for marker in _ELECTRONIC:
            name = name.removesuffix(marker)
        for purpose in PURPOSES:
            if name.endswith(purpose) and len(name) > len(purpose):
                return SealUnit(None, name[: -len(purpose)], "name")
        return SealUnit(None, name or None, "whole-name")
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


def _code_in(value: str, uscc: str) -> bool:
    """Whether ``value`` is ``uscc`` — bare or behind a CA's prefix — or has it as one ``@``-separated
    part. Only surrounding spaces are ignored; the code itself must be exact."""
    for part in value.split("@"):
        match = _CODE_FORM.fullmatch(part.strip().replace("：", ":"))
        if match and match["code"].strip() == uscc:
            return True
    return False


def carries_code(
    cert: asn1_x509.Certificate,
    uscc: str,
    fields: Sequence[str] = _REGISTRATION_FIELDS + _FREE_TEXT_FIELDS,
) -> bool:
    """True if one of ``fields`` of the subject of ``cert`` (by default every attribute CAs use for it) is
    the code ``uscc``."""
    return any(_code_in(value, uscc) for field in fields for value in _values(cert, field))


def membership_problem(cert: asn1_x509.Certificate, unit: SealUnit) -> str | None:
    """None if ``cert`` belongs to ``unit``; else why not (one line). A unit known by nothing is a problem."""
    subject = str(cert.subject.human_friendly)
    organisations = [o for o in _values(cert, "organization_name") if _normal(o)]
    if unit.name and any(_normal(o) == _normal(unit.name) for o in organisations):
        return None
    if not (unit.uscc or unit.name):
        return f"{subject}: the seal names no unit to compare with"
    if unit.uscc and carries_code(cert, unit.uscc, _REGISTRATION_FIELDS):
        return None
    if unit.uscc and carries_code(cert, unit.uscc, _FREE_TEXT_FIELDS):
        if not organisations:
            return None
        return (
            f"{subject} does not belong to {unit.name or unit.uscc}: its subject carries the code "
            f"{unit.uscc}, but its O names another organisation ({organisations[0]})"
        )
    wanted = [f"the code {unit.uscc}"] if unit.uscc else []
    wanted += [f"O={unit.name}"] if unit.name else []
    carries = ("neither " + " nor ".join(wanted)) if len(wanted) > 1 else f"not {wanted[0]}"
    return f"{subject} does not belong to {unit.name or unit.uscc}: its subject has {carries}"
