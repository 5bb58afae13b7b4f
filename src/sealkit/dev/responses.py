"""Build TEST RFC 3161 timestamp tokens, OCSP responses and CRLs with asn1crypto, signed by any sealkit key.

The signatures come from a :class:`sealkit.ukey.PrivateKeyHandle` (here: the test PKI's key files), so the
same code signs with RSA (PKCS#1 v1.5, SHA-256), ECDSA P-256 (SHA-256) and SM2-with-SM3 (SM3, default ID):
exactly what a Chinese TSA or OCSP responder sends back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass

from asn1crypto import algos, cms, core, crl, ocsp, tsp, x509

from sealkit.config import Config
from sealkit.dev.pki import Identity
from sealkit.ukey import KeyKind, PrivateKeyHandle, SignOptions, open_key

#: Test TSA policy OID (an arbitrary arc under 1.3.6.1.4.1, never a real policy).
TSA_POLICY = "1.3.6.1.4.1.55555.1.1"
#: id-ct-TSTInfo, by OID: asn1crypto's name map may be frozen by an earlier OID registration.
TST_INFO = "1.2.840.113549.1.9.16.1.4"


@dataclass
class KeyedIdentity:
    """A certificate with its private key handle, and the algorithms it signs with."""

    cert: x509.Certificate
    key: PrivateKeyHandle

    @classmethod
    def load(cls, identity: Identity) -> KeyedIdentity:
        return cls(identity.certificate, open_key(identity.keyref, config=Config()))

    @property
    def digest(self) -> str:
        return "sm3" if self.key.kind is KeyKind.SM2 else "sha256"

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data, SignOptions(digest=self.digest))

    def x509_algorithm(self) -> algos.SignedDigestAlgorithm:
        """The algorithm identifier for certificates, CRLs and OCSP responses."""
        name = {KeyKind.SM2: "sm2_sm3", KeyKind.RSA: "sha256_rsa", KeyKind.P256: "sha256_ecdsa"}[
            self.key.kind
        ]
        return algos.SignedDigestAlgorithm({"algorithm": name})

    def cms_algorithm(self) -> algos.SignedDigestAlgorithm:
        """The SignerInfo signatureAlgorithm (GM/T 0010 and most Chinese TSAs write SM2-with-SM3)."""
        name = {KeyKind.SM2: "sm2_sm3", KeyKind.RSA: "rsassa_pkcs1v15", KeyKind.P256: "sha256_ecdsa"}[
            self.key.kind
        ]
        return algos.SignedDigestAlgorithm({"algorithm": name})

    def hash(self, data: bytes) -> bytes:
        if self.digest == "sm3":
            from sealkit.sm2 import sm3

            return sm3(data)
        return hashlib.sha256(data).digest()


# --- RFC 3161 ---


def timestamp_token(
    tsa: KeyedIdentity,
    imprint: tsp.MessageImprint,
    *,
    nonce: int | None,
    gen_time: dt.datetime,
    chain: list[x509.Certificate] | None = None,
) -> cms.ContentInfo:
    """A timestamp token over ``imprint``, signed by ``tsa`` (signed attributes, ESSCertIDv2)."""
    info = {
        "version": "v1",
        "policy": TSA_POLICY,
        "message_imprint": imprint,
        "serial_number": int.from_bytes(os.urandom(8), "big"),
        "gen_time": gen_time,
        "accuracy": {"seconds": 1},
        "tsa": x509.GeneralName(name="directory_name", value=tsa.cert.subject),
    }
    if nonce is not None:
        info["nonce"] = nonce
    tst_der = tsp.TSTInfo(info).dump()
    digest_algorithm = algos.DigestAlgorithm({"algorithm": tsa.digest})
    cert_id = tsp.ESSCertIDv2(
        {
            "hash_algorithm": {"algorithm": "sha256"},
            "cert_hash": hashlib.sha256(tsa.cert.dump()).digest(),
            "issuer_serial": {
                "issuer": [x509.GeneralName(name="directory_name", value=tsa.cert.issuer)],
                "serial_number": tsa.cert.serial_number,
            },
        }
    )
    signed_attrs = cms.CMSAttributes(
        [
            _attribute("content_type", cms.ContentType(TST_INFO)),
            _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(gen_time)})),
            _attribute("signing_certificate_v2", tsp.SigningCertificateV2({"certs": [cert_id]})),
            _attribute("message_digest", core.OctetString(tsa.hash(tst_der))),
        ]
    )
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": tsa.cert.issuer, "serial_number": tsa.cert.serial_number},
            ),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": tsa.cms_algorithm(),
            "signature": tsa.sign(signed_attrs.dump()),
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [digest_algorithm],
            "encap_content_info": {"content_type": TST_INFO, "content": cms.ParsableOctetString(tst_der)},
            "certificates": [tsa.cert, *(chain or [])],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data})


def _attribute(name: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": name, "values": [value]})


def timestamp_response(token: cms.ContentInfo | None, *, refused: str | None = None) -> bytes:
    """A DER TimeStampResp granting ``token``, or refusing with ``refused`` as failInfo (e.g. ``bad_alg``)."""
    if refused is not None:
        status = tsp.PKIStatusInfo(
            {"status": "rejection", "status_string": [f"refused: {refused}"], "fail_info": {refused}}
        )
        # asn1crypto insists on timeStampToken, which RFC 3161 omits on refusal: encode by hand.
        return core.Sequence.load(b"\x30\x00").__class__(contents=status.dump()).dump()
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


# --- OCSP ---


@dataclass(frozen=True)
class Revocation:
    """A certificate serial revoked at ``at`` for ``reason`` (an asn1crypto CRLReason name)."""

    at: dt.datetime
    reason: str = "key_compromise"


def ocsp_response(
    request: ocsp.OCSPRequest,
    *,
    issuer: x509.Certificate,
    responder: KeyedIdentity,
    revoked: dict[int, Revocation],
    now: dt.datetime,
    validity: dt.timedelta = dt.timedelta(days=7),
) -> ocsp.OCSPResponse:
    """An OCSP response for every CertID of ``request`` that ``issuer`` issued; ``unauthorized`` otherwise."""
    responses = []
    for item in request["tbs_request"]["request_list"]:
        cert_id = item["req_cert"]
        hash_name = cert_id["hash_algorithm"]["algorithm"].native
        if cert_id["issuer_name_hash"].native != getattr(issuer.subject, hash_name) or cert_id[
            "issuer_key_hash"
        ].native != getattr(issuer.public_key, hash_name):
            return ocsp.OCSPResponse({"response_status": "unauthorized"})
        serial = cert_id["serial_number"].native
        if serial in revoked:
            entry = revoked[serial]
            status = ocsp.CertStatus(
                name="revoked",
                value={"revocation_time": entry.at, "revocation_reason": entry.reason},
            )
        else:
            status = ocsp.CertStatus(name="good", value=core.Null())
        responses.append(
            {"cert_id": cert_id, "cert_status": status, "this_update": now, "next_update": now + validity}
        )
    tbs: dict[str, object] = {
        "version": "v1",
        "responder_id": ocsp.ResponderId(name="by_key", value=responder.cert.public_key.sha1),
        "produced_at": now,
        "responses": responses,
    }
    nonce = request.nonce_value
    if nonce is not None:
        tbs["response_extensions"] = [{"extn_id": "nonce", "critical": False, "extn_value": nonce.native}]
    tbs_data = ocsp.ResponseData(tbs)
    basic = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": tbs_data,
            "signature_algorithm": responder.x509_algorithm(),
            "signature": responder.sign(tbs_data.dump()),
            "certs": [responder.cert],
        }
    )
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    )


# --- CRL ---


def certificate_list(
    ca: KeyedIdentity, *, revoked: dict[int, Revocation], now: dt.datetime, number: int
) -> crl.CertificateList:
    """A full CRL of ``ca`` listing ``revoked``, valid for a week from ``now``."""
    entries = [
        {
            "user_certificate": serial,
            "revocation_date": x509.Time(name="utc_time", value=entry.at),
            "crl_entry_extensions": [
                {"extn_id": "crl_reason", "critical": False, "extn_value": entry.reason}
            ],
        }
        for serial, entry in sorted(revoked.items())
    ]
    tbs_fields: dict[str, object] = {
        "version": "v2",
        "signature": ca.x509_algorithm(),
        "issuer": ca.cert.subject,
        "this_update": x509.Time(name="utc_time", value=now),
        "next_update": x509.Time(name="utc_time", value=now + dt.timedelta(days=7)),
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": ca.cert.public_key.sha1},
            },
        ],
    }
    if entries:
        tbs_fields["revoked_certificates"] = entries
    tbs = crl.TbsCertList(tbs_fields)
    return crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": ca.x509_algorithm(), "signature": ca.sign(tbs.dump())}
    )
