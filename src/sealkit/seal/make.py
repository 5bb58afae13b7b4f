"""Making seals and seal signatures (GB/T 38540-2020 v4, strict DER).

The seal maker (制章者) signs ``DER(SES_SealInfo)`` with any :class:`~sealkit.ukey.base.PrivateKeyHandle`, so
the maker's key may live on a UKey. A signer applies a seal to data with :func:`make_ses_signature`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from sealkit.errors import CertificateError, InvalidInput
from sealkit.seal import asn1
from sealkit.seal.asn1 import SM2_WITH_SM3
from sealkit.seal.crypto import algorithm_for, sign_with
from sealkit.seal.parse import _der_length, parse_seal
from sealkit.ukey.base import PrivateKeyHandle
from sealkit.validation import key_matches_certificate

#: Vendor ID written in ``SES_Header.Vid``.
DEFAULT_VID = "sealkit"


@dataclass
class SealSpec:
    """What goes into a seal. Times are aware datetimes; sizes are millimetres."""

    es_id: str
    name: str
    holder_certs: Sequence[bytes]
    valid_start: dt.datetime
    valid_end: dt.datetime
    picture: bytes
    width_mm: int
    height_mm: int
    picture_type: str = "png"
    seal_type: int = asn1.SEAL_TYPE_UNIT
    vid: str = DEFAULT_VID
    create_date: dt.datetime | None = None
    extensions: Sequence[tuple[str, bool, bytes]] = field(default_factory=tuple)


def _utc(moment: dt.datetime) -> dt.datetime:
    from sealkit.timefmt import aware

    return aware(moment).astimezone(dt.UTC).replace(microsecond=0)  # no zone: Beijing time


def seal_info(spec: SealSpec) -> asn1.SES_SealInfo:
    """The ``SES_SealInfo`` of ``spec``."""
    if not spec.es_id.isascii() or not spec.es_id:
        raise InvalidInput("the seal ID (esID) must be non-empty ASCII")
    if not spec.holder_certs:
        raise InvalidInput("a seal needs at least one holder certificate")
    if _utc(spec.valid_end) <= _utc(spec.valid_start):
        raise InvalidInput("the seal's validity ends before it starts")
    info = asn1.SES_SealInfo(
        {
            "header": {"ID": "ES", "version": asn1.SEAL_VERSION_V4, "Vid": spec.vid},
            "esID": spec.es_id,
            "property": {
                "type": spec.seal_type,
                "name": spec.name,
                "certListType": asn1.CERT_LIST_CERTS,
                "certList": asn1.CertInfoList([bytes(c) for c in spec.holder_certs]),
                "createDate": _utc(spec.create_date or dt.datetime.now(dt.UTC)),
                "validStart": _utc(spec.valid_start),
                "validEnd": _utc(spec.valid_end),
            },
            "picture": {
                "type": spec.picture_type,
                "data": spec.picture,
                "width": spec.width_mm,
                "height": spec.height_mm,
            },
        }
    )
    if spec.extensions:
        info["extDatas"] = [{"extnID": o, "critical": c, "extnValue": v} for o, c, v in spec.extensions]
    return info


def make_seal(spec: SealSpec, maker: PrivateKeyHandle, maker_cert: asn1_x509.Certificate) -> bytes:
    """Build and sign an SESeal (DER). ``maker_cert`` must certify ``maker``'s key."""
    _check_key_matches(maker, maker_cert, "maker")
    info = seal_info(spec)
    algorithm, signature = sign_with(maker, info.dump())
    seal = asn1.SESeal(
        {
            "eSealInfo": info,
            "cert": maker_cert.dump(),
            "signAlgID": algorithm,
            "signedValue": signature,
        }
    )
    return bytes(seal.dump(force=True))


def _check_key_matches(handle: PrivateKeyHandle, cert: asn1_x509.Certificate, what: str) -> None:
    if not key_matches_certificate(cert, handle):
        raise CertificateError(f"the {what} certificate does not match the {what} key {handle.label!r}")


def data_digest(algorithm: str, data: bytes) -> bytes:
    """The document hash a seal signature carries: SM3 for SM2-with-SM3, SHA-256 otherwise."""
    if algorithm == SM2_WITH_SM3:
        from sealkit import sm2

        return bytes(sm2.sm3(data))
    return hashlib.sha256(data).digest()


def make_ses_signature(
    seal_der: bytes,
    signer: PrivateKeyHandle,
    signer_cert: asn1_x509.Certificate,
    data: bytes,
    *,
    property_info: str = "ENTIRE",
    time: dt.datetime | None = None,
) -> bytes:
    """Apply the seal ``seal_der`` to ``data``: a v4 SES_Signature (DER) signed by ``signer``.

    The seal goes into ``TBS_Sign`` byte for byte as its maker wrote it: re-encoding could change what the
    maker signed (and fails on the zone-less times other seal systems write)."""
    _check_key_matches(signer, signer_cert, "signer")
    seal = _exact_seal(seal_der)
    algorithm, _ = algorithm_for(signer)
    tbs = _sequence(
        core.Integer(asn1.SEAL_VERSION_V4).dump(),
        seal,
        core.GeneralizedTime(_utc(time or dt.datetime.now(dt.UTC))).dump(),
        core.OctetBitString(data_digest(algorithm, data)).dump(),
        core.IA5String(property_info).dump(),
    )
    algorithm, signature = sign_with(signer, tbs)
    return _sequence(
        tbs,
        core.OctetString(signer_cert.dump()).dump(),
        core.ObjectIdentifier(algorithm).dump(),
        core.OctetBitString(signature).dump(),
    )


def _exact_seal(seal_der: bytes) -> bytes:
    """``seal_der`` unchanged, after checking it is one readable SESeal and nothing else."""
    data = bytes(seal_der)
    try:
        core.Sequence.load(data, strict=True)
    except (ValueError, TypeError):
        raise InvalidInput("the seal is not one DER SEQUENCE (trailing or truncated bytes)") from None
    if parse_seal(data).version != asn1.SEAL_VERSION_V4:
        raise InvalidInput("only a GB/T 38540 (v4) seal can be applied; this is a GM/T 0031 (v1) seal")
    return data


def _sequence(*parts: bytes) -> bytes:
    """DER ``SEQUENCE`` of already encoded ``parts``."""
    body = b"".join(parts)
    return b"\x30" + _der_length(len(body)) + body
