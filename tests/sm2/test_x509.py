"""X.509 with SM2: building chains and CSRs, verifying them here and in openssl, RSA/P-256 too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sealkit import sm2
from sealkit.errors import DecodingError, InvalidSignature, UnsupportedAlgorithm
from sealkit.sm2 import x509

from .conftest import needs_openssl_cli, openssl, openssl_ok

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
LATER = NOW + timedelta(days=365)


def _chain(make_key):  # type: ignore[no-untyped-def]
    root_key, int_key, leaf_key = make_key(), make_key(), make_key()
    root = x509.build_certificate(
        {"country_name": "CN", "organization_name": "测试根 CA", "common_name": "Test Root"},
        root_key,
        None,
        root_key,
        1,
        NOW,
        NOW + timedelta(days=3650),
        is_ca=True,
        path_len=1,
    )
    inter = x509.build_certificate(
        {"country_name": "CN", "common_name": "Test Intermediate"},
        int_key,
        root,
        root_key,
        2,
        NOW,
        LATER,
        is_ca=True,
        path_len=0,
    )
    leaf = x509.build_certificate(
        {"country_name": "CN", "organization_name": "某某采购中心", "common_name": "电子印章 001"},
        leaf_key,
        inter,
        int_key,
        3,
        NOW,
        LATER,
        ext_key_usage=["email_protection", "1.2.156.10197.1.999"],
    )
    return (root, root_key), (inter, int_key), (leaf, leaf_key)


KINDS = {
    "sm2": sm2.generate_private_key,
    "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
}


@pytest.fixture(scope="module", params=list(KINDS))
def chain(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return request.param, _chain(KINDS[request.param])


def test_chain_verifies(chain) -> None:  # type: ignore[no-untyped-def]
    kind, ((root, _), (inter, _), (leaf, _)) = chain
    x509.verify_certificate_signature(root, root)
    x509.verify_certificate_signature(inter, root)
    x509.verify_certificate_signature(leaf, inter)
    with pytest.raises(InvalidSignature):
        x509.verify_certificate_signature(leaf, root)
    expected = {"sm2": "sm2_sm3", "rsa2048": "sha256_rsa", "p256": "sha256_ecdsa"}[kind]
    assert leaf["signature_algorithm"]["algorithm"].native == expected
    assert leaf.authority_key_identifier == inter.key_identifier
    assert inter.ca and not leaf.ca and inter.max_path_length == 0
    assert leaf.key_usage_value.native == {"digital_signature", "non_repudiation"}
    assert leaf.extended_key_usage_value.native == ["email_protection", "1.2.156.10197.1.999"]


def test_round_trip_pem_der(chain) -> None:  # type: ignore[no-untyped-def]
    _, (_, _, (leaf, _)) = chain
    assert x509.load_certificate(x509.to_pem(leaf)).dump() == leaf.dump()
    assert x509.load_certificate(leaf.dump()).dump() == leaf.dump()
    with pytest.raises(DecodingError):
        x509.load_certificate(b"garbage")


def test_tampered_certificate_fails(chain) -> None:  # type: ignore[no-untyped-def]
    kind, (_, (inter, _), (leaf, _)) = chain
    der = bytearray(leaf.dump())
    idx = der.find("电子印章".encode())
    der[idx] ^= 1
    tampered = x509.load_certificate(bytes(der))
    with pytest.raises(InvalidSignature):
        x509.verify_certificate_signature(tampered, inter)
    other = asn1_x509.Certificate.load(leaf.dump())
    # swap the outer algorithm so it differs from the inner one
    fake = asn1_x509.Certificate(
        {
            "tbs_certificate": other["tbs_certificate"],
            "signature_algorithm": {"algorithm": "sha384_ecdsa" if kind == "rsa2048" else "sha256_rsa"},
            "signature_value": other["signature_value"],
        }
    )
    with pytest.raises(InvalidSignature):
        x509.verify_certificate_signature(fake, inter)


def test_csr(chain) -> None:  # type: ignore[no-untyped-def]
    kind, (_, _, (_, leaf_key)) = chain
    req = x509.build_csr(
        {"common_name": "request"},
        leaf_key,
        extensions=[{"extn_id": "key_usage", "critical": True, "extn_value": {"digital_signature"}}],
    )
    x509.verify_csr_signature(req)
    again = x509.load_csr(x509.to_pem(req))
    x509.verify_csr_signature(again)
    other_key = KINDS[kind]()
    forged = x509.build_csr({"common_name": "request"}, other_key, public_key=leaf_key)
    with pytest.raises(InvalidSignature):
        x509.verify_csr_signature(forged)


def test_signer_dispatch() -> None:
    key = sm2.generate_private_key()
    signer = x509.make_signer(key.sign, "sm2_sm3")
    cert = x509.build_certificate({"common_name": "cb"}, key, None, signer, 9, NOW, LATER)
    x509.verify_certificate_signature(cert, cert)
    with pytest.raises(UnsupportedAlgorithm):
        x509.make_signer(key.sign)
    with pytest.raises(UnsupportedAlgorithm):
        x509.make_signer(object())


def test_private_key_handle_signer() -> None:
    from asn1crypto import keys as asn1_keys

    from sealkit.ukey.base import KeyKind, PrivateKeyHandle, SignOptions

    class FileHandle(PrivateKeyHandle):
        kind = KeyKind.SM2
        label = "test"

        def __init__(self) -> None:
            self.key = sm2.generate_private_key()
            self.calls: list[SignOptions | None] = []

        def public_key_info(self) -> asn1_keys.PublicKeyInfo:
            return self.key.public_key().public_key_info()

        def certificate(self) -> None:
            return None

        def sign(self, data: bytes, options: SignOptions | None = None) -> bytes:
            self.calls.append(options)
            return self.key.sign(data, options.sm2_uid if options else sm2.DEFAULT_UID)

    handle = FileHandle()
    cert = x509.build_certificate({"common_name": "token"}, handle, None, handle, 5, NOW, LATER, is_ca=True)
    x509.verify_certificate_signature(cert, cert)
    assert handle.calls[0] is not None and handle.calls[0].digest == "sm3"


@needs_openssl_cli
def test_openssl_made_sm2_cert(tmp_path: Path) -> None:
    key_pem = openssl("genpkey", "-algorithm", "SM2")
    (tmp_path / "k.pem").write_bytes(key_pem)
    cert_pem = openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        str(tmp_path / "k.pem"),
        "-sm3",
        "-sigopt",
        "distid:1234567812345678",
        "-subj",
        "/CN=openssl root",
        "-days",
        "2",
    )
    cert = x509.load_certificate(cert_pem)
    x509.verify_certificate_signature(cert, cert)
    assert sm2.load_pem_private_key(key_pem).public_key().public_key_info().dump() == cert.public_key.dump()


@needs_openssl_cli
def test_openssl_parses_and_verifies_sm2_chain(tmp_path: Path) -> None:
    (root, _), (inter, inter_key), (leaf, _) = _chain(sm2.generate_private_key)
    for name, cert in (("root", root), ("inter", inter), ("leaf", leaf)):
        (tmp_path / f"{name}.pem").write_bytes(x509.to_pem(cert))
    text = openssl("x509", "-text", "-noout", "-in", str(tmp_path / "leaf.pem")).decode()
    assert "SM2-with-SM3" in text and "Test Intermediate" in text
    # OpenSSL 3.0 checks SM2 certificate signatures with an EMPTY user ID unless told otherwise, and
    # `-vfyopt distid:...` only reaches the target certificate (depth 0), not intermediates: a three-level
    # GM/T 0015 chain (ID 1234567812345678) therefore cannot pass `openssl verify` in one go. Check every link
    # as a target instead, plus the TBS signature with pkeyutl.
    gm_id = ["-vfyopt", "distid:1234567812345678"]
    root_pem, inter_pem, leaf_pem = (str(tmp_path / f"{n}.pem") for n in ("root", "inter", "leaf"))
    assert openssl_ok("verify", *gm_id, "-CAfile", root_pem, inter_pem)
    assert openssl_ok("verify", *gm_id, "-CAfile", inter_pem, "-partial_chain", leaf_pem)
    assert not openssl_ok("verify", "-CAfile", root_pem, inter_pem)  # empty ID: fails, as documented
    (tmp_path / "tbs").write_bytes(leaf["tbs_certificate"].dump())
    (tmp_path / "sig").write_bytes(leaf["signature_value"].native)
    (tmp_path / "ipub.pem").write_bytes(inter_key.public_key().to_pem())
    assert openssl_ok(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(tmp_path / "ipub.pem"),
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        "distid:1234567812345678",
        "-in",
        str(tmp_path / "tbs"),
        "-sigfile",
        str(tmp_path / "sig"),
    )
    # and openssl notices a wrong issuer
    (other_root, _), _, _ = _chain(sm2.generate_private_key)
    (tmp_path / "other.pem").write_bytes(x509.to_pem(other_root))
    assert not openssl_ok("verify", *gm_id, "-CAfile", str(tmp_path / "other.pem"), inter_pem)


@needs_openssl_cli
def test_openssl_verifies_rsa_chain(tmp_path: Path) -> None:
    (root, _), (inter, _), (leaf, _) = _chain(KINDS["rsa2048"])
    for name, cert in (("root", root), ("inter", inter), ("leaf", leaf)):
        (tmp_path / f"{name}.pem").write_bytes(x509.to_pem(cert))
    assert openssl_ok(
        "verify",
        "-CAfile",
        str(tmp_path / "root.pem"),
        "-untrusted",
        str(tmp_path / "inter.pem"),
        str(tmp_path / "leaf.pem"),
    )


@needs_openssl_cli
def test_openssl_reads_sm2_csr(tmp_path: Path) -> None:
    key = sm2.generate_private_key()
    req = x509.build_csr({"common_name": "csr", "country_name": "CN"}, key)
    (tmp_path / "r.pem").write_bytes(x509.to_pem(req))
    out = openssl("req", "-in", str(tmp_path / "r.pem"), "-noout", "-text").decode()
    assert "SM2-with-SM3" in out
    assert openssl_ok("req", "-in", str(tmp_path / "r.pem"), "-noout", "-verify")
