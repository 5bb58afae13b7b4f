"""An SM2-with-SM3 contract checked the way an outsider would, without sealkit's or pyHanko's verifiers.

OpenSSL 3.0 cannot verify SM2 CMS (``openssl cms -verify`` refuses SM2 keys), so the CMS is taken apart by
hand: /Contents is cut out of the file by the /ByteRange numbers, parsed with asn1crypto, and then

- messageDigest must equal SM3 of the ByteRange bytes (SM3 from ``cryptography``, not from sealkit);
- the signature must verify with ``openssl pkeyutl`` over the DER of the signed attributes re-tagged as
  SET OF (0x31), with SM3 and the GM/T 0009 default ID 1234567812345678, under the public key OpenSSL
  itself extracts from the signer's certificate;
- the digest algorithm is SM3 (1.2.156.10197.1.401) and the signature algorithm SM2-with-SM3
  (1.2.156.10197.1.501).

Negatives: one flipped byte in the signed range changes the SM3 digest; one flipped byte in the signature
(or in the signed attributes) makes OpenSSL refuse. ECDSA P-256 is checked with ``openssl cms -verify`` in
``test_sign_interop.py``.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms, pem
from cryptography.hazmat.primitives import hashes

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import SUPPLIER_BLOCK
from sealkit.pdf import Placement, SealAppearance, sign_pdf
from sealkit.seal import render_seal
from sealkit.ukey import open_key

SM3_OID = "1.2.156.10197.1.401"
SM2_WITH_SM3_OID = "1.2.156.10197.1.501"
SM2_ID = "1234567812345678"
PKCS7_DATA = "1.2.840.113549.1.7.1"
PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
CONTENT_TYPE = "1.2.840.113549.1.9.3"


@dataclass(frozen=True)
class Extracted:
    """The pieces of one signed PDF, cut out by its /ByteRange."""

    folder: Path
    pdf: bytes
    byte_range: tuple[int, int, int, int]
    signed: bytes  # the ByteRange bytes
    cms_der: bytes  # /Contents without its zero padding
    signer_info: cms.SignerInfo
    certificates: list
    root_cert: Path
    signer_cert: Path


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def extract(folder: Path, pdf: bytes, root_cert: Path, signer_cert: Path) -> Extracted:
    (found,) = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    a, b, c, d = (int(v) for v in found)
    signed = pdf[a : a + b] + pdf[c : c + d]
    gap = pdf[a + b : c]
    assert gap[:1] == b"<" and gap[-1:] == b">", "the gap between the ranges is the /Contents hex string"
    raw = bytes.fromhex(gap[1:-1].decode("ascii"))
    info = cms.ContentInfo.load(raw, strict=False)
    der = info.dump()
    assert der == raw[: len(der)] and not raw[len(der) :].strip(b"\x00"), "only zero padding after the DER"
    assert info["content_type"].dotted == PKCS7_SIGNED_DATA
    signed_data = info["content"]
    (signer_info,) = signed_data["signer_infos"]
    return Extracted(
        folder,
        pdf,
        (a, b, c, d),
        signed,
        der,
        signer_info,
        [choice.chosen for choice in signed_data["certificates"]],
        root_cert,
        signer_cert,
    )


@pytest.fixture(scope="module")
def sm2_pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki-sm2"), "sm2")


@pytest.fixture(scope="module", params=["ETSI.CAdES.detached", "adbe.pkcs7.detached"])
def sm2_signed(request, sm2_pki, contract_bytes, tmp_path_factory) -> Extracted:
    folder = tmp_path_factory.mktemp("sm2-interop")
    signer = sm2_pki.issue("供应商 SM2")
    contract = folder / "contract.pdf"
    contract.write_bytes(contract_bytes)
    seal = render_seal("contract", "某科技有限公司")
    out = folder / "signed.pdf"
    with open_key(signer.keyref) as key:
        result = sign_pdf(
            contract,
            out,
            key,
            cert=signer.cert_path,
            appearance=SealAppearance(seal.png, seal.width_mm, seal.height_mm),
            placement=Placement.at_text(SUPPLIER_BLOCK),
            subfilter=request.param,
        )
    assert result.algorithm == "sm2-sm3"
    return extract(folder, out.read_bytes(), sm2_pki.root.cert_path, signer.cert_path)


def openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False)


def signer_certificate_pem(x: Extracted) -> Path:
    """The signer's certificate as found in the CMS (matched by issuer and serial), written as PEM."""
    sid = x.signer_info["sid"].chosen
    (cert,) = [
        c
        for c in x.certificates
        if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native
    ]
    path = x.folder / f"signer-{cert.serial_number}.pem"
    path.write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    return path


def public_key_pem(x: Extracted) -> Path:
    cert = signer_certificate_pem(x)
    done = openssl("x509", "-pubkey", "-noout", "-in", cert)
    assert done.returncode == 0, done.stderr
    path = x.folder / "pub.pem"
    path.write_text(done.stdout)
    return path


def signed_attributes_as_set(x: Extracted) -> bytes:
    """DER of the signed attributes, re-tagged from [0] IMPLICIT to SET OF (what the signature covers)."""
    der = bytearray(x.signer_info["signed_attrs"].dump())
    assert der[0] == 0xA0
    der[0] = 0x31
    return bytes(der)


def pkeyutl_verify(
    x: Extracted, attrs: bytes, signature: bytes, name: str
) -> subprocess.CompletedProcess[str]:
    (x.folder / f"{name}.attrs.der").write_bytes(attrs)
    (x.folder / f"{name}.sig.der").write_bytes(signature)
    return openssl(
        "pkeyutl",
        "-verify",
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        f"distid:{SM2_ID}",
        "-pubin",
        "-inkey",
        public_key_pem(x),
        "-in",
        x.folder / f"{name}.attrs.der",
        "-sigfile",
        x.folder / f"{name}.sig.der",
    )


def attribute(x: Extracted, oid: str):  # type: ignore[no-untyped-def]
    (found,) = [a for a in x.signer_info["signed_attrs"] if a["type"].dotted == oid]
    (value,) = found["values"]
    return value


def test_byte_range_covers_the_whole_file_but_contents(sm2_signed):
    a, b, c, d = sm2_signed.byte_range
    assert a == 0 and c + d == len(sm2_signed.pdf)
    assert c - (a + b) == len(sm2_signed.pdf) - len(sm2_signed.signed)


def test_algorithm_oids_are_sm3_and_sm2_with_sm3(sm2_signed):
    signer_info = sm2_signed.signer_info
    assert signer_info["digest_algorithm"]["algorithm"].dotted == SM3_OID
    assert signer_info["signature_algorithm"]["algorithm"].dotted == SM2_WITH_SM3_OID
    signed_data = cms.ContentInfo.load(sm2_signed.cms_der)["content"]
    assert [alg["algorithm"].dotted for alg in signed_data["digest_algorithms"]] == [SM3_OID]
    # detached, with the standard PKCS #7 content type (not the GM/T 0010 OIDs)
    assert signed_data["encap_content_info"]["content_type"].dotted == PKCS7_DATA
    assert signed_data["encap_content_info"]["content"].native is None
    assert attribute(sm2_signed, CONTENT_TYPE).dotted == PKCS7_DATA


def test_message_digest_is_sm3_of_the_byte_range(sm2_signed):
    digest = attribute(sm2_signed, MESSAGE_DIGEST).native
    assert len(digest) == 32
    assert digest == sm3(sm2_signed.signed)


def test_signature_verifies_with_openssl_pkeyutl(sm2_signed):
    signature = sm2_signed.signer_info["signature"].native
    done = pkeyutl_verify(sm2_signed, signed_attributes_as_set(sm2_signed), signature, "good")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Signature Verified Successfully" in done.stdout
    # The ID matters: OpenSSL's default (empty) ID does not verify an SM2 signature made with the GM/T one.
    empty_id = openssl(
        "pkeyutl",
        "-verify",
        "-rawin",
        "-digest",
        "sm3",
        "-pubin",
        "-inkey",
        sm2_signed.folder / "pub.pem",
        "-in",
        sm2_signed.folder / "good.attrs.der",
        "-sigfile",
        sm2_signed.folder / "good.sig.der",
    )
    assert empty_id.returncode != 0


def test_signer_certificate_chains_to_the_sm2_root_in_openssl(sm2_signed):
    cert = signer_certificate_pem(sm2_signed)
    assert cert.read_bytes().strip() == sm2_signed.signer_cert.read_bytes().strip()
    # OpenSSL 3.0 verifies SM2 certificate signatures with an empty ID unless told the GM/T 0015 one.
    done = openssl("verify", "-vfyopt", f"distid:{SM2_ID}", "-CAfile", sm2_signed.root_cert, cert)
    assert done.returncode == 0, done.stdout + done.stderr
    text = openssl("x509", "-noout", "-text", "-in", cert).stdout
    assert "SM2-with-SM3" in text and "ASN1 OID: SM2" in text


def test_flipped_byte_in_the_signed_range_changes_the_sm3_digest(sm2_signed):
    digest = attribute(sm2_signed, MESSAGE_DIGEST).native
    for position in (0, len(sm2_signed.signed) // 2, len(sm2_signed.signed) - 1):
        tampered = bytearray(sm2_signed.signed)
        tampered[position] ^= 0x01
        assert sm3(bytes(tampered)) != digest


def test_flipped_byte_in_signature_or_signed_attributes_fails_openssl(sm2_signed):
    attrs = signed_attributes_as_set(sm2_signed)
    signature = bytearray(sm2_signed.signer_info["signature"].native)
    signature[-1] ^= 0x01  # the last byte of s: still well-formed DER, a different number
    bad_signature = pkeyutl_verify(sm2_signed, attrs, bytes(signature), "bad-sig")
    assert bad_signature.returncode != 0
    assert "Signature Verified Successfully" not in bad_signature.stdout

    digest = attribute(sm2_signed, MESSAGE_DIGEST).native
    position = attrs.index(digest) + 5  # inside the messageDigest value
    tampered = bytearray(attrs)
    tampered[position] ^= 0x01
    original = sm2_signed.signer_info["signature"].native
    bad_attrs = pkeyutl_verify(sm2_signed, bytes(tampered), original, "bad-attrs")
    assert bad_attrs.returncode != 0
