"""SM2-with-SM3 contracts signed by sealkit's own signer: SM2 signature value and SM2 certificate chain."""

import pytest

from sealkit.pdf import sign_pdf, verify_pdf
from sealkit.pki import make_test_pki
from sealkit.ukey import open_key
from tests.pdf_verify.contracts import contract_pdf
from tests.pdf_verify.tampering import byte_range, change_field_value, incremental


@pytest.fixture(scope="module")
def sm2_signed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sm2")
    pki = make_test_pki(folder / "pki", "sm2")
    ident = pki.issue("SM2 Buyer", "sign")
    (folder / "c.pdf").write_bytes(contract_pdf())
    sign_pdf(
        folder / "c.pdf",
        folder / "s.pdf",
        open_key(ident.keyref),
        cert=ident.cert_path,
        chain=[pki.root.cert_path],
        field="buyer",
    )
    return (folder / "s.pdf").read_bytes(), pki.root.cert_path


def test_sm2_contract_passes_with_sm2_root(sm2_signed):
    data, root = sm2_signed
    report = verify_pdf(data, trust=[root])
    assert report.passed, report.to_dict()
    assert report.signatures[0].algorithm == "SM2-with-SM3" and report.signatures[0].trusted


def test_sm2_contract_without_anchor_is_indeterminate(sm2_signed, rsa_pki):
    data, _ = sm2_signed
    assert verify_pdf(data).sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert verify_pdf(data, trust=[rsa_pki.root.cert_path]).indication == "INDETERMINATE"


def test_sm2_signature_value_is_checked(sm2_signed):
    data, root = sm2_signed
    # Flip one bit of the SM2 signature value (the last bytes of the DER SignerInfo, inside /Contents).
    (_, len1, start2, _), _, _ = byte_range(data)
    hex_body = data[len1 + 1 : start2 - 1].rstrip(b"0")
    hex_body = hex_body + b"0" * (len(hex_body) % 2)
    position = len1 + 1 + len(hex_body) - 4
    flipped = bytearray(data)
    flipped[position] = ord("0") if flipped[position] != ord("0") else ord("1")
    report = verify_pdf(bytes(flipped), trust=[root])
    assert report.indication == "TOTAL-FAILED"
    assert "crypto.signature-invalid" in report.signatures[0].reasons


def test_sm2_contract_tampered_after_signing(sm2_signed):
    data, root = sm2_signed
    report = verify_pdf(incremental(data, change_field_value), trust=[root])
    assert "modification.field-changed" in report.signatures[0].reasons
