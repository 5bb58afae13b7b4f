"""X.509 certificates and CSRs with SM2 (and RSA / ECDSA), built and checked with asn1crypto.

* :func:`load_certificate` — PEM or DER to an asn1crypto ``Certificate``.
* :func:`verify_certificate_signature` — check a certificate's signature with its issuer's key: SM2-with-SM3
  (GM/T 0015: user ID ``1234567812345678``), RSA PKCS#1 v1.5 / PSS and ECDSA through ``cryptography``.
* :func:`build_certificate` / :func:`build_csr` — declare the TBS structure with asn1crypto and sign it with
  any signer (see :func:`make_signer`). One function therefore makes test PKIs of every kind: SM2, RSA-2048,
  P-256, or keys that live on a token behind a :class:`~sealkit.ukey.base.PrivateKeyHandle`.

Example — an SM2 root, intermediate and leaf::

    from datetime import datetime, timedelta, timezone
    from sealkit import sm2
    from sealkit.sm2 import x509

    now = datetime.now(timezone.utc)
    root_key = sm2.generate_private_key()
    root = x509.build_certificate({"common_name": "Root CA", "country_name": "CN"},
                                  root_key.public_key(), None, root_key, serial=1,
                                  not_before=now, not_after=now + timedelta(days=3650), is_ca=True)
    leaf_key = sm2.generate_private_key()
    leaf = x509.build_certificate({"common_name": "Seal 001"}, leaf_key.public_key(), root, root_key,
                                  serial=2, not_before=now, not_after=now + timedelta(days=365))
    x509.verify_certificate_signature(leaf, root)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import algos, core, csr, keys, pem
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature as CryptographyInvalidSignature
from cryptography.hazmat.primitives import serialization as crypto_serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from sealkit import certs
from sealkit.errors import DecodingError, InvalidKey, InvalidSignature, UnsupportedAlgorithm
from sealkit.sm2 import oids
from sealkit.sm2.keys import SM2PrivateKey, SM2PublicKey, load_der_public_key
from sealkit.sm2.signature import DEFAULT_UID
from sealkit.sm2.symmetric import DIGESTS

oids.register()

__all__ = [
    "Signer",
    "build_certificate",
    "build_csr",
    "load_certificate",
    "load_csr",
    "make_signer",
    "public_key_info_of",
    "to_pem",
    "verify_certificate_signature",
    "verify_csr_signature",
]

_HASHES = DIGESTS


# --- loading ----------


def load_certificate(data: bytes) -> asn1_x509.Certificate:
    """Parse a certificate, PEM (first ``CERTIFICATE`` block) or DER (see :mod:`sealkit.certs`)."""
    return certs.parse_certificates(data)[0]


def load_csr(data: bytes) -> csr.CertificationRequest:
    """Parse a PKCS#10 request, PEM or DER."""
    data = bytes(data)
    try:
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        req = csr.CertificationRequest.load(data, strict=True)
        req.native  # noqa: B018
        return req
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodingError("not a PKCS#10 certificate request") from exc


# --- signers ----------


@dataclass(frozen=True)
class Signer:
    """A signing function with the asn1crypto name of its signature algorithm (``sm2_sm3``,
    ``sha256_rsa``, ``sha256_ecdsa`` …). ``sign(data)`` signs the whole message and returns what goes in the
    BIT STRING (DER ``SEQUENCE{r, s}`` for SM2/ECDSA, the raw block for RSA)."""

    algorithm: str
    sign: Callable[[bytes], bytes]


def make_signer(key: Any, algorithm: str | None = None) -> Signer:
    """Turn ``key`` into a :class:`Signer`.

    Accepted: a :class:`Signer`; an :class:`~sealkit.sm2.SM2PrivateKey` (``sm2_sm3``, default user ID); a
    key handle with an ``x509_signer(algorithm)`` method (:class:`~sealkit.ukey.base.PrivateKeyHandle`:
    SM2 → ``sm2_sm3``, RSA → ``sha256_rsa``, P-256 → ``sha256_ecdsa``); a ``cryptography`` RSA or EC private
    key (SHA-256, or SHA-384/512 for P-384/P-521); or any callable ``sign(data) -> bytes`` together with
    ``algorithm``.
    """
    if isinstance(key, Signer):
        return key
    if isinstance(key, SM2PrivateKey):
        return Signer(algorithm or "sm2_sm3", lambda data: key.sign(data, DEFAULT_UID))
    if isinstance(key, rsa.RSAPrivateKey):
        algo = algorithm or "sha256_rsa"
        h = _HASHES[algo.split("_")[0]]()  # type: ignore[abstract]
        return Signer(algo, lambda data: key.sign(data, padding.PKCS1v15(), h))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        default = {384: "sha384_ecdsa", 521: "sha512_ecdsa"}.get(key.curve.key_size, "sha256_ecdsa")
        algo = algorithm or default
        h = _HASHES[algo.split("_")[0]]()  # type: ignore[abstract]
        return Signer(algo, lambda data: key.sign(data, ec.ECDSA(h)))

    x509_signer = getattr(key, "x509_signer", None)
    if callable(x509_signer):  # a key handle (sealkit.ukey): it knows its own algorithm and options
        signer = x509_signer(algorithm)
        if isinstance(signer, Signer):
            return signer
    if callable(key):
        if algorithm is None:
            raise UnsupportedAlgorithm("a signing callable needs the signature algorithm name")
        return Signer(algorithm, key)
    raise UnsupportedAlgorithm(f"cannot sign with a {type(key).__name__}")


# --- public keys ----------


def public_key_info_of(key: Any) -> keys.PublicKeyInfo:
    """The ``PublicKeyInfo`` of an SM2 public/private key, a ``cryptography`` public/private key, an
    asn1crypto ``PublicKeyInfo``, a ``PrivateKeyHandle`` or SPKI DER bytes."""
    if isinstance(key, keys.PublicKeyInfo):
        return key
    if isinstance(key, SM2PrivateKey):
        key = key.public_key()
    if isinstance(key, SM2PublicKey):
        return key.public_key_info()
    if isinstance(key, bytes | bytearray):
        return keys.PublicKeyInfo.load(bytes(key))
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        key = key.public_key()
    if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        der = key.public_bytes(
            crypto_serialization.Encoding.DER, crypto_serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return keys.PublicKeyInfo.load(der)
    public_key_info = getattr(key, "public_key_info", None)
    if callable(public_key_info):
        info = public_key_info()
        if isinstance(info, keys.PublicKeyInfo):
            return info
    raise InvalidKey(f"cannot get a public key from a {type(key).__name__}")


def _key_identifier(info: keys.PublicKeyInfo) -> bytes:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents."""
    return bytes(info.sha1)


def _is_sm2(info: keys.PublicKeyInfo) -> bool:
    return info["algorithm"]["algorithm"].native == "ec" and info.curve == ("named", oids.SM2_CURVE_NAME)


def verify_with_public_key(
    info: keys.PublicKeyInfo, sig_alg: algos.SignedDigestAlgorithm, signature: bytes, data: bytes
) -> None:
    """Check ``signature`` over ``data`` with the key ``info`` under ``sig_alg``; raise InvalidSignature.

    SM2 uses the default user ID; RSA PKCS#1 v1.5 and PSS, ECDSA by the algorithm's digest.
    """
    name = sig_alg["algorithm"].native
    if name in ("sm2_sm3", "sm2"):
        if not _is_sm2(info):
            raise InvalidSignature("an SM2-with-SM3 signature needs an SM2 issuer key")
        load_der_public_key(info.dump()).verify(signature, data, DEFAULT_UID)
        return
    if _is_sm2(info):
        raise InvalidSignature(f"an SM2 key cannot check a {name} signature")
    try:
        key = crypto_serialization.load_der_public_key(info.dump())
        if name == "rsassa_pss":
            params = sig_alg["parameters"]
            h = _HASHES[params["hash_algorithm"]["algorithm"].native]()  # type: ignore[abstract]
            mgf_h = _HASHES[params["mask_gen_algorithm"]["parameters"]["algorithm"].native]()  # type: ignore[abstract]
            pss = padding.PSS(padding.MGF1(mgf_h), params["salt_length"].native)
            assert isinstance(key, rsa.RSAPublicKey)
            key.verify(signature, data, pss, h)
            return
        algo = sig_alg.signature_algo
        h = _HASHES[sig_alg.hash_algo]()  # type: ignore[abstract]
        if algo == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), h)
        elif algo == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(h))
        else:
            raise UnsupportedAlgorithm(f"signature algorithm {name} with this key type")
    except CryptographyInvalidSignature:
        raise InvalidSignature(f"the {name} signature does not verify") from None
    except (KeyError, ValueError) as exc:
        raise UnsupportedAlgorithm(f"signature algorithm {name}") from exc


def verify_certificate_signature(cert: asn1_x509.Certificate, issuer_cert: asn1_x509.Certificate) -> None:
    """Check that ``issuer_cert``'s key signed ``cert``; raise :class:`~sealkit.errors.InvalidSignature`.

    Only the signature is checked (plus that the inner and outer signature algorithms agree) — not
    validity dates, names or extensions; path validation is the caller's job.
    """
    tbs = cert["tbs_certificate"]
    if tbs["signature"].dump() != cert["signature_algorithm"].dump():
        raise InvalidSignature("the certificate's two signature algorithm fields differ")
    verify_with_public_key(
        issuer_cert.public_key,
        cert["signature_algorithm"],
        cert["signature_value"].native,
        tbs.dump(),
    )


def verify_csr_signature(request: csr.CertificationRequest) -> None:
    """Check a PKCS#10 request's self-signature; raise :class:`~sealkit.errors.InvalidSignature`."""
    info = request["certification_request_info"]
    verify_with_public_key(
        info["subject_pk_info"], request["signature_algorithm"], request["signature"].native, info.dump()
    )


# --- building ----------


def _name(subject: Mapping[str, str] | asn1_x509.Name) -> asn1_x509.Name:
    if isinstance(subject, asn1_x509.Name):
        return subject
    return asn1_x509.Name.build(dict(subject), use_printable=False)


def _sig_alg(name: str) -> algos.SignedDigestAlgorithm:
    # SM2-with-SM3 and ECDSA carry no parameters; RSA PKCS#1 v1.5 carries NULL (RFC 4055).
    if name.endswith("_rsa"):
        return algos.SignedDigestAlgorithm({"algorithm": name, "parameters": core.Null()})
    return algos.SignedDigestAlgorithm({"algorithm": name})


def _time(value: datetime) -> asn1_x509.Time:
    if value.tzinfo is None:
        raise ValueError("certificate times must be timezone-aware")
    # RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
    return asn1_x509.Time(name="utc_time" if value.year < 2050 else "general_time", value=value)


def build_certificate(
    subject: Mapping[str, str] | asn1_x509.Name,
    public_key: Any,
    issuer_cert: asn1_x509.Certificate | None,
    issuer_key: Any,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    *,
    is_ca: bool = False,
    key_usage: Iterable[str] | None = None,
    ext_key_usage: Iterable[str] | None = None,
    path_len: int | None = None,
    subject_key_identifier: bytes | None = None,
    authority_key_identifier: bytes | None = None,
    extra_extensions: Iterable[Mapping[str, Any]] = (),
    signature_algorithm: str | None = None,
) -> asn1_x509.Certificate:
    """Build and sign an X.509 v3 certificate.

    ``subject`` is an asn1crypto ``Name`` or a dict such as ``{"country_name": "CN", "organization_name":
    "…", "common_name": "…"}``. ``public_key`` is anything :func:`public_key_info_of` accepts.
    ``issuer_cert`` None means self-signed (the issuer name is the subject; ``issuer_key`` must then be the
    subject's own key). ``issuer_key`` is anything :func:`make_signer` accepts; ``signature_algorithm``
    overrides the signer's default.

    Extensions: basicConstraints (critical; ``is_ca``, ``path_len``), keyUsage (critical; default
    ``key_cert_sign``+``crl_sign`` for a CA, ``digital_signature``+``non_repudiation`` otherwise; names as in
    asn1crypto's ``KeyUsage``), extKeyUsage if given (names such as ``code_signing`` or dotted OIDs), the
    subject key identifier (SHA-1 of the key, or the one given) and the authority key identifier (the
    issuer's SKI, or SHA-1 of its key). ``extra_extensions`` are asn1crypto ``Extension`` dicts
    (``{"extn_id": …, "critical": …, "extn_value": …}``).
    """
    spki = public_key_info_of(public_key)
    signer = make_signer(issuer_key, signature_algorithm)
    subject_name = _name(subject)
    ski = subject_key_identifier or _key_identifier(spki)
    if issuer_cert is None:
        issuer_name = subject_name
        aki = authority_key_identifier or ski
    else:
        issuer_name = issuer_cert.subject
        aki = (
            authority_key_identifier or issuer_cert.key_identifier or _key_identifier(issuer_cert.public_key)
        )
    if key_usage is None:
        key_usage = {"key_cert_sign", "crl_sign"} if is_ca else {"digital_signature", "non_repudiation"}

    extensions: list[dict[str, Any]] = [
        {
            "extn_id": "basic_constraints",
            "critical": True,
            "extn_value": {"ca": is_ca, "path_len_constraint": path_len if is_ca else None},
        },
        {"extn_id": "key_usage", "critical": True, "extn_value": set(key_usage)},
        {"extn_id": "key_identifier", "critical": False, "extn_value": ski},
        {"extn_id": "authority_key_identifier", "critical": False, "extn_value": {"key_identifier": aki}},
    ]
    if ext_key_usage:
        extensions.append(
            {"extn_id": "extended_key_usage", "critical": False, "extn_value": list(ext_key_usage)}
        )
    extensions.extend(dict(e) for e in extra_extensions)

    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": _sig_alg(signer.algorithm),
            "issuer": issuer_name,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject_name,
            "subject_public_key_info": spki,
            "extensions": extensions,
        }
    )
    signature = signer.sign(tbs.dump())
    return asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _sig_alg(signer.algorithm),
            "signature_value": signature,
        }
    )


def build_csr(
    subject: Mapping[str, str] | asn1_x509.Name,
    key: Any,
    *,
    public_key: Any = None,
    extensions: Iterable[Mapping[str, Any]] = (),
    signature_algorithm: str | None = None,
) -> csr.CertificationRequest:
    """Build and self-sign a PKCS#10 request with ``key`` (anything :func:`make_signer` accepts).

    ``public_key`` defaults to ``key``'s own public key; ``extensions`` (asn1crypto ``Extension`` dicts) go
    into an extensionRequest attribute.
    """
    signer = make_signer(key, signature_algorithm)
    attributes = []
    ext_list = [dict(e) for e in extensions]
    if ext_list:
        attributes.append({"type": "extension_request", "values": [ext_list]})
    info = csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": _name(subject),
            "subject_pk_info": public_key_info_of(key if public_key is None else public_key),
            "attributes": attributes,
        }
    )
    return csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": _sig_alg(signer.algorithm),
            "signature": signer.sign(info.dump()),
        }
    )


def to_pem(value: asn1_x509.Certificate | csr.CertificationRequest) -> bytes:
    """PEM of a certificate (``CERTIFICATE``) or a request (``CERTIFICATE REQUEST``)."""
    label = "CERTIFICATE" if isinstance(value, asn1_x509.Certificate) else "CERTIFICATE REQUEST"
    return bytes(pem.armor(label, value.dump()))
