"""Tolerant reading of SESeal and SES_Signature (v4 and v1) into plain dataclasses.

Accepted deviations from the standards, all seen in files in the wild: GeneralizedTime where UTCTime is
specified (and the reverse), OCTET STRING where BIT STRING is specified, a ``timeStamp`` without its ``[0]``
tag, SM2 signatures with a leading 00 or as raw r||s, times without a zone (read as Beijing time, the
project's rule). The bytes each signature covers are taken from the input as it is (never re-encoded), so a
tolerant parse cannot change what is verified. Anything else is a :class:`~sealkit.errors.DecodingError`
naming the field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import core, parser

from sealkit.errors import DecodingError
from sealkit.seal.asn1 import CERT_LIST_CERTS, CERT_LIST_DIGESTS
from sealkit.timefmt import BEIJING


@dataclass
class ParsedSeal:
    """An electronic seal as read from a file (either version)."""

    version: int  # 4 (GB/T 38540) or 1 (GM/T 0031)
    header_id: str
    vid: str
    es_id: str
    seal_type: int
    name: str
    cert_list_type: int
    certs: list[bytes]  # holders' certificates (certListType 1)
    cert_digests: list[tuple[str, bytes]]  # (algorithm, digest) (certListType 2)
    create_date: dt.datetime
    valid_start: dt.datetime
    valid_end: dt.datetime
    picture_type: str
    picture: bytes
    width_mm: int
    height_mm: int
    maker_cert: bytes
    sign_alg: str
    signed_value: bytes
    signed_bytes: bytes  # exactly what the maker signed
    der: bytes
    extensions: list[tuple[str, bool, bytes]] = field(default_factory=list)


@dataclass
class ParsedSignature:
    """An SES_Signature as read from a file (either version)."""

    version: int
    seal: ParsedSeal
    time_info: dt.datetime | None  # None when v1 carries a timestamp token instead of a time
    time_info_raw: bytes
    data_hash: bytes
    property_info: str
    signer_cert: bytes
    sign_alg: str
    signature: bytes
    signed_bytes: bytes
    timestamp: bytes | None
    der: bytes


@dataclass
class _Tagged:
    """A child with a non-universal tag, as :func:`asn1crypto.parser.parse` splits it."""

    class_: int
    method: int
    tag: int
    header: bytes
    contents: bytes


def _load_seq(data: bytes, what: str) -> core.Sequence:
    try:
        value = core.Sequence.load(bytes(data))
        len(value)
    except (ValueError, TypeError) as exc:
        raise DecodingError(f"{what} is not a DER SEQUENCE: {exc}") from None
    if not isinstance(value, core.Sequence):
        raise DecodingError(f"{what} is not a DER SEQUENCE")
    return value


def _items(seq: core.Asn1Value, what: str, minimum: int) -> list[Any]:
    """The children of a SEQUENCE: universal ones as asn1crypto values, tagged ones as :class:`_Tagged`."""
    contents, items, pos = seq.contents or b"", [], 0
    try:
        while pos < len(contents):
            size = parser.peek(contents[pos:])
            chunk = contents[pos : pos + size]
            items.append(core.load(chunk) if chunk[0] >> 6 == 0 else _Tagged(*parser.parse(chunk)[:5]))
            pos += size
    except (ValueError, TypeError) as exc:
        raise DecodingError(f"{what}: {exc}") from None
    if len(items) < minimum:
        raise DecodingError(f"{what} has {len(items)} fields, expected at least {minimum}")
    return items


def _expect(value: Any, types: tuple[type, ...], what: str) -> Any:
    if not isinstance(value, types):
        raise DecodingError(f"{what} has the wrong type ({type(value).__name__})")
    return value


def _text(value: Any, what: str) -> str:
    types = (core.IA5String, core.UTF8String, core.PrintableString, core.VisibleString, core.BMPString)
    return str(_expect(value, types, what).native)


def _int(value: Any, what: str) -> int:
    return int(_expect(value, (core.Integer,), what).native)


def _oid(value: Any, what: str) -> str:
    return str(_expect(value, (core.ObjectIdentifier,), what).dotted)


def _bits(value: Any, what: str) -> bytes:
    """BIT STRING contents, or an OCTET STRING in its place."""
    if isinstance(value, core.OctetString):
        return bytes(value.native)
    if isinstance(value, core.BitString):
        contents = value.contents or b""
        if contents[:1] != b"\x00":
            raise DecodingError(f"{what}: BIT STRING with unused bits")
        return bytes(contents[1:])
    raise DecodingError(f"{what} is neither BIT STRING nor OCTET STRING")


def _octets(value: Any, what: str) -> bytes:
    if isinstance(value, core.OctetString):
        return bytes(value.native)
    return _bits(value, what)


def _time(value: Any, what: str) -> dt.datetime:
    """A seal time; one written without a zone (a GeneralizedTime without ``Z``, as Chinese seal systems
    write local time) is Beijing time — always UTC+8, whatever zone the display uses."""
    try:
        moment = _expect(value, (core.GeneralizedTime, core.UTCTime), what).native
    except ValueError as exc:
        raise DecodingError(f"{what} is not a time: {exc}") from None
    if not isinstance(moment, dt.datetime):
        raise DecodingError(f"{what} is not a time")
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def parse_seal(data: bytes) -> ParsedSeal:
    """Read an SESeal (v4 or v1) tolerantly."""
    data = bytes(data)
    seal = _load_seq(data, "SESeal")
    items = _items(seal, "SESeal", 2)
    info = _expect(items[0], (core.Sequence,), "SES_SealInfo")
    if len(items) == 2:  # v1: {esealInfo, signInfo{cert, signatureAlgorithm, signData}}
        sign_info = _items(_expect(items[1], (core.Sequence,), "SES_SignInfo"), "SES_SignInfo", 3)
        maker_cert, sign_alg_value, signed_value_obj = sign_info[0], sign_info[1], sign_info[2]
        body = info.dump() + maker_cert.dump() + sign_alg_value.dump()
        signed_bytes = core.Sequence.load(b"\x30" + _der_length(len(body)) + body).dump()
    elif len(items) == 4:
        maker_cert, sign_alg_value, signed_value_obj = items[1], items[2], items[3]
        signed_bytes = info.dump()
    else:
        raise DecodingError(f"SESeal has {len(items)} fields: neither v4 (4) nor v1 (2)")
    fields = _items(info, "SES_SealInfo", 4)
    header = _items(_expect(fields[0], (core.Sequence,), "SES_Header"), "SES_Header", 3)
    version = _int(header[1], "SES_Header.version")
    if (version == 1) != (len(items) == 2):
        raise DecodingError(f"SES_Header.version {version} does not match the SESeal layout")
    prop = _items(_expect(fields[2], (core.Sequence,), "SES_ESPropertyInfo"), "SES_ESPropertyInfo", 6)
    if len(items) == 2:
        cert_list_type, cert_list, dates = CERT_LIST_CERTS, prop[2], prop[3:6]
    else:
        if len(prop) < 7:
            raise DecodingError("SES_ESPropertyInfo has fewer than 7 fields")
        cert_list_type, cert_list, dates = _int(prop[2], "certListType"), prop[3], prop[4:7]
    certs, digests = _cert_list(cert_list, cert_list_type)
    picture = _items(_expect(fields[3], (core.Sequence,), "SES_ESPictrueInfo"), "SES_ESPictrueInfo", 4)
    extensions = _extensions(fields[4]) if len(fields) > 4 else []
    return ParsedSeal(
        version=version,
        header_id=_text(header[0], "SES_Header.ID"),
        vid=_text(header[2], "SES_Header.Vid"),
        es_id=_text(fields[1], "esID"),
        seal_type=_int(prop[0], "property.type"),
        name=_text(prop[1], "property.name"),
        cert_list_type=cert_list_type,
        certs=certs,
        cert_digests=digests,
        create_date=_time(dates[0], "createDate"),
        valid_start=_time(dates[1], "validStart"),
        valid_end=_time(dates[2], "validEnd"),
        picture_type=_text(picture[0], "picture.type"),
        picture=_octets(picture[1], "picture.data"),
        width_mm=_int(picture[2], "picture.width"),
        height_mm=_int(picture[3], "picture.height"),
        maker_cert=_octets(maker_cert, "SESeal.cert"),
        sign_alg=_oid(sign_alg_value, "SESeal.signAlgID"),
        signed_value=_bits(signed_value_obj, "SESeal.signedValue"),
        signed_bytes=signed_bytes,
        der=data,
        extensions=extensions,
    )


def _cert_list(value: Any, list_type: int) -> tuple[list[bytes], list[tuple[str, bytes]]]:
    entries = _items(_expect(value, (core.Sequence, core.SequenceOf), "certList"), "certList", 0)
    if list_type == CERT_LIST_CERTS:
        return [_octets(e, "certList entry") for e in entries], []
    if list_type == CERT_LIST_DIGESTS:
        digests = []
        for entry in entries:
            pair = _items(_expect(entry, (core.Sequence,), "certDigest"), "certDigest", 2)
            digests.append((_text(pair[0], "certDigest.type"), _octets(pair[1], "certDigest.value")))
        return [], digests
    raise DecodingError(f"certListType {list_type} is neither 1 (certificates) nor 2 (digests)")


def _extensions(value: Any) -> list[tuple[str, bool, bytes]]:
    result = []
    for entry in _items(_expect(value, (core.Sequence, core.SequenceOf), "extDatas"), "extDatas", 0):
        parts = _items(_expect(entry, (core.Sequence,), "ExtData"), "ExtData", 2)
        critical = len(parts) == 3 and bool(_expect(parts[1], (core.Boolean,), "ExtData.critical").native)
        result.append((_oid(parts[0], "ExtData.extnID"), critical, _octets(parts[-1], "ExtData.extnValue")))
    return result


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def parse_signature(data: bytes) -> ParsedSignature:
    """Read an SES_Signature (v4 or v1) tolerantly."""
    data = bytes(data)
    items = _items(_load_seq(data, "SES_Signature"), "SES_Signature", 2)
    tbs = _expect(items[0], (core.Sequence,), "TBS_Sign")
    tbs_items = _items(tbs, "TBS_Sign", 5)
    version = _int(tbs_items[0], "TBS_Sign.version")
    seal = parse_seal(_expect(tbs_items[1], (core.Sequence,), "TBS_Sign.eseal").dump())
    time_value = tbs_items[2]
    time_info: dt.datetime | None
    if isinstance(time_value, (core.GeneralizedTime, core.UTCTime)):
        time_info, time_raw = _time(time_value, "timeInfo"), time_value.dump()
    else:  # v1: BIT STRING holding a UTCTime string or a timestamp token
        time_raw = _bits(time_value, "timeInfo")
        time_info = _time_from_text(time_raw)
    common = {
        "version": version,
        "seal": seal,
        "time_info": time_info,
        "time_info_raw": time_raw,
        "data_hash": _bits(tbs_items[3], "dataHash"),
        "property_info": _text(tbs_items[4], "propertyInfo"),
        "signed_bytes": tbs.dump(),
        "der": data,
    }
    if len(items) == 2:  # v1: the signer's certificate and algorithm sit inside TBS_Sign
        if len(tbs_items) < 7:
            raise DecodingError("v1 TBS_Sign has fewer than 7 fields")
        return ParsedSignature(
            signer_cert=_octets(tbs_items[5], "TBS_Sign.cert"),
            sign_alg=_oid(tbs_items[6], "TBS_Sign.signatureAlgorithm"),
            signature=_bits(items[1], "SES_Signature.signature"),
            timestamp=None,
            **common,
        )
    if len(items) < 4:
        raise DecodingError(f"SES_Signature has {len(items)} fields, expected 2 (v1) or 4-5 (v4)")
    return ParsedSignature(
        signer_cert=_octets(items[1], "SES_Signature.cert"),
        sign_alg=_oid(items[2], "SES_Signature.signatureAlgID"),
        signature=_bits(items[3], "SES_Signature.signature"),
        timestamp=_timestamp(items[4]) if len(items) > 4 else None,
        **common,
    )


def _timestamp(value: Any) -> bytes:
    """``[0] EXPLICIT BIT STRING`` as specified, or an untagged BIT/OCTET STRING."""
    if isinstance(value, _Tagged):
        if (value.class_, value.tag) != (2, 0):
            raise DecodingError(f"timeStamp has an unexpected tag [{value.tag}]")
        if value.method == 1:  # constructed: EXPLICIT, unwrap
            return _bits(core.load(value.contents), "timeStamp")
        return value.contents
    return _bits(value, "timeStamp")


def _time_from_text(raw: bytes) -> dt.datetime | None:
    for fmt in ("%y%m%d%H%M%SZ", "%Y%m%d%H%M%SZ"):
        try:
            return dt.datetime.strptime(raw.decode("ascii"), fmt).replace(tzinfo=dt.UTC)
        except (UnicodeDecodeError, ValueError):
            continue
    return None
