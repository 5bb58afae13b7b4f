"""ASN.1 of electronic seals: GB/T 38540-2020 (v4, written and read) and GM/T 0031-2014 (v1, read).

These asn1crypto classes are the *strict* encodings sealkit writes; field names follow ofdrw (ofdrw-gm,
``ses/v4`` and ``ses/v1``). Files in the wild deviate from them (see :mod:`sealkit.seal.parse`, which reads
tolerantly into a :class:`~sealkit.seal.parse.ParsedSeal`); a file that loads with these classes is well
formed.

``SES_CertList`` is a CHOICE of two untagged ``SEQUENCE OF``: the alternatives cannot be told apart by tag,
so the field is declared ``Any`` and interpreted by ``certListType`` (1 = certificates, 2 = digests), as
ofdrw does.
"""

from __future__ import annotations

from asn1crypto import core

#: SM2 with SM3, the standard's signature algorithm.
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SEAL_VERSION_V4 = 4
SEAL_VERSION_V1 = 1
#: Seal types of ``SES_ESPropertyInfo.type``.
SEAL_TYPE_UNIT = 1
SEAL_TYPE_PERSONAL = 2
CERT_LIST_CERTS = 1
CERT_LIST_DIGESTS = 2


class ExtData(core.Sequence):
    _fields = [
        ("extnID", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extnValue", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class SES_Header(core.Sequence):  # noqa: N801 - the standard's name
    _fields = [("ID", core.IA5String), ("version", core.Integer), ("Vid", core.IA5String)]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):
    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


class SES_ESPropertyInfo(core.Sequence):  # noqa: N801
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certListType", core.Integer),
        ("certList", core.Any),  # CertInfoList or CertDigestList, chosen by certListType
        ("createDate", core.GeneralizedTime),
        ("validStart", core.GeneralizedTime),
        ("validEnd", core.GeneralizedTime),
    ]


class SES_ESPictrueInfo(core.Sequence):  # noqa: N801 - sic, the standard's spelling
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SES_SealInfo(core.Sequence):  # noqa: N801
    _fields = [
        ("header", SES_Header),
        ("esID", core.IA5String),
        ("property", SES_ESPropertyInfo),
        ("picture", SES_ESPictrueInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):
    """GB/T 38540-2020 electronic seal (v4)."""

    _fields = [
        ("eSealInfo", SES_SealInfo),
        ("cert", core.OctetString),
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", core.OctetBitString),
    ]


class TBS_Sign(core.Sequence):  # noqa: N801
    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("timeInfo", core.GeneralizedTime),
        ("dataHash", core.OctetBitString),
        ("propertyInfo", core.IA5String),
        ("extDatas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SES_Signature(core.Sequence):  # noqa: N801
    """GB/T 38540-2020 electronic signature (v4): a seal applied to data by a signer."""

    _fields = [
        ("toSign", TBS_Sign),
        ("cert", core.OctetString),
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("timeStamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


# --- GM/T 0031-2014 (v1): read only ---


class V1_ESPropertyInfo(core.Sequence):  # noqa: N801
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certList", CertInfoList),
        ("createDate", core.UTCTime),
        ("validStart", core.UTCTime),
        ("validEnd", core.UTCTime),
    ]


class V1_SealInfo(core.Sequence):  # noqa: N801
    _fields = [
        ("header", SES_Header),
        ("esID", core.IA5String),
        ("property", V1_ESPropertyInfo),
        ("picture", SES_ESPictrueInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class V1_SignInfo(core.Sequence):  # noqa: N801
    _fields = [
        ("cert", core.OctetString),
        ("signatureAlgorithm", core.ObjectIdentifier),
        ("signData", core.OctetBitString),
    ]


class V1_SESeal(core.Sequence):  # noqa: N801
    """GM/T 0031-2014 electronic seal (v1)."""

    _fields = [("esealInfo", V1_SealInfo), ("signInfo", V1_SignInfo)]


class V1_TBS_Sign(core.Sequence):  # noqa: N801
    _fields = [
        ("version", core.Integer),
        ("eseal", V1_SESeal),
        ("timeInfo", core.OctetBitString),
        ("dataHash", core.OctetBitString),
        ("propertyInfo", core.IA5String),
        ("cert", core.OctetString),
        ("signatureAlgorithm", core.ObjectIdentifier),
    ]


class V1_SES_Signature(core.Sequence):  # noqa: N801
    _fields = [("toSign", V1_TBS_Sign), ("signature", core.OctetBitString)]
