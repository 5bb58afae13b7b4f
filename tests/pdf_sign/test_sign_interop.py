"""Signed contracts validate in independent tools: poppler's pdfsig (NSS) and OpenSSL's cms -verify."""

import subprocess

import pytest

from sealkit.dev.sample_contract import SUPPLIER_BLOCK
from sealkit.pdf import Placement, sign_pdf
from sealkit.ukey import open_key

from .conftest import appearance, byte_range_parts, pdfsig, sha256


@pytest.mark.parametrize("kind", ["rsa", "p256"])
@pytest.mark.parametrize("subfilter", ["ETSI.CAdES.detached", "adbe.pkcs7.detached"])
def test_visible_signature_valid_in_pdfsig_and_openssl(
    kind, subfilter, request, contract, supplier_seal, nss_db, tmp_path
):
    pki = request.getfixturevalue(f"{kind}_pki")
    signer = pki.issue(f"signer-{kind}")
    before = sha256(contract)
    out = tmp_path / "signed.pdf"
    with open_key(signer.keyref) as key:
        result = sign_pdf(
            contract,
            out,
            key,
            cert=signer.cert_path,
            appearance=appearance(supplier_seal, text="供应商 签章"),
            placement=Placement.at_text(SUPPLIER_BLOCK),
            reason="同意合同条款",
            subfilter=subfilter,
        )
    assert sha256(contract) == before
    assert result.sha256 == sha256(out)
    assert result.algorithm == {"rsa": "rsa-sha256", "p256": "ecdsa-p256-sha256"}[kind]

    (verdict,) = pdfsig(out, nss_db)
    assert verdict["Signature Validation"] == "Signature is Valid."
    assert verdict["Certificate Validation"] == "Certificate is Trusted."
    assert verdict["Signature Type"] == subfilter
    assert (
        "Total document signed" in subprocess.run(["pdfsig", str(out)], capture_output=True, text=True).stdout
    )

    signed, cms_der = byte_range_parts(out.read_bytes())
    (tmp_path / "content.bin").write_bytes(signed)
    (tmp_path / "sig.der").write_bytes(cms_der)
    check = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.der"),
            "-content",
            str(tmp_path / "content.bin"),
            "-CAfile",
            str(pki.root.cert_path),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "Verification successful" in check.stderr

    # one flipped byte in the signed range: OpenSSL must refuse
    tampered = bytearray(signed)
    tampered[len(tampered) // 2] ^= 0x01
    (tmp_path / "content.bin").write_bytes(bytes(tampered))
    bad = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.der"),
            "-content",
            str(tmp_path / "content.bin"),
            "-CAfile",
            str(pki.root.cert_path),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0


def test_extra_signed_attribute_travels_in_signed_attributes(contract, rsa_key, rsa_signer, tmp_path):
    from asn1crypto import cms, core

    oid = "1.2.156.10197.6.1.4.2.99"
    attribute = cms.CMSAttribute({"type": cms.CMSAttributeType(oid), "values": [core.OctetString(b"SESeal")]})
    out = tmp_path / "attr.pdf"
    sign_pdf(contract, out, rsa_key, cert=rsa_signer.cert_path, extra_signed_attributes=[attribute])
    _, der = byte_range_parts(out.read_bytes())
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    found = [a for a in signer_info["signed_attrs"] if a["type"].dotted == oid]
    assert found and found[0]["values"][0].parse(core.OctetString).native == b"SESeal"
