"""Re-sign a signed PDF's /Contents with a CMS built by hand (asn1crypto), to make the variants that other
tools write (GM/T 0010 content types, SignedData v3, extra attributes, no signed attributes) and the lies a
forger tells (a backdated signingTime, weak digests). The ByteRange stays; only the CMS changes."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from sealkit import sm2
from tests.pdf_verify.tampering import byte_range, replace_contents_hex

GM_DATA = "1.2.156.10197.6.1.4.2.1"
GM_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"


def signed_bytes(data: bytes) -> bytes:
    (a, b, c, d), _, _ = byte_range(data)
    return data[a : a + b] + data[c : c + d]


def _digest(name: str, payload: bytes) -> bytes:
    if name == "sm3":
        return bytes(sm2.sm3(payload))
    return hashlib.new(name, payload).digest()


def resign(
    data: bytes,
    key_path,
    cert: asn1_x509.Certificate,
    *,
    kind: str,
    digest: str = "sha256",
    signing_time: dt.datetime | None = None,
    econtent_type: str = "data",
    outer_type: str = "signed_data",
    version: str = "v1",
    signed_attributes: bool = True,
    algorithm_protection: bool = False,
    signing_certificate_v2: bool = True,
) -> bytes:
    """``data`` with its last /Contents replaced by a hand-made CMS over the same ByteRange."""
    payload = signed_bytes(data)
    message_digest = _digest(digest, payload)
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": [econtent_type]}),
        cms.CMSAttribute({"type": "message_digest", "values": [message_digest]}),
    ]
    if signing_time is not None:
        attributes.append(
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]})
        )
    if signing_certificate_v2:  # PAdES (ETSI.CAdES.detached) requires it
        cert_id = tsp.ESSCertIDv2(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "cert_hash": hashlib.sha256(cert.dump()).digest(),
                "issuer_serial": {
                    "issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                    "serial_number": cert.serial_number,
                },
            }
        )
        attributes.append(
            cms.CMSAttribute(
                {"type": "signing_certificate_v2", "values": [tsp.SigningCertificateV2({"certs": [cert_id]})]}
            )
        )
    sig_algo = "sm2_sm3" if kind == "sm2" else "rsassa_pkcs1v15"
    if algorithm_protection:
        protection = cms.CMSAlgorithmProtection(
            {
                "digest_algorithm": {"algorithm": digest},
                "signature_algorithm": {"algorithm": sig_algo},
            }
        )
        attributes.append(cms.CMSAttribute({"type": "cms_algorithm_protection", "values": [protection]}))
    attrs = cms.CMSAttributes(sorted(attributes, key=lambda a: a.dump()))
    to_sign = attrs.dump() if signed_attributes else payload
    key_data = Path(key_path).read_bytes()
    if kind == "sm2":
        signature = sm2.load_pem_private_key(key_data, None).sign(to_sign)
    else:
        private = serialization.load_pem_private_key(key_data, None)
        hash_cls = {"sha256": hashes.SHA256, "sha1": hashes.SHA1, "md5": hashes.MD5}[digest]
        signature = private.sign(to_sign, padding.PKCS1v15(), hash_cls())
    info = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}}
        ),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest}),
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_algo}),
        "signature": signature,
    }
    if signed_attributes:
        info["signed_attrs"] = attrs
    signed_data = cms.SignedData(
        {
            "version": version,
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest})],
            "encap_content_info": {"content_type": econtent_type},
            "certificates": [cert],
            "signer_infos": [cms.SignerInfo(info)],
        }
    )
    content_info = cms.ContentInfo({"content_type": outer_type, "content": signed_data})
    return replace_contents_hex(data, content_info.dump().hex().encode())
