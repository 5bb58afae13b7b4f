"""Test PKIs of every kind make certificates that OpenSSL accepts, with the right usages per role."""

import subprocess

import pytest

from sealkit.dev.pki import Role, make_test_pki
from sealkit.errors import InvalidInput
from sealkit.sm2.x509 import verify_certificate_signature


@pytest.mark.parametrize("kind", ["sm2", "rsa", "p256"])
def test_issued_certificates_chain_to_the_root_in_openssl(tmp_path, kind):
    pki = make_test_pki(tmp_path, kind)
    leaf = pki.issue("supplier")
    tsa = pki.issue("tsa", Role.TSA)
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-vfyopt",
            "distid:1234567812345678",
            "-CAfile",
            str(pki.root.cert_path),
            str(leaf.cert_path),
            str(tsa.cert_path),
        ]
        if kind == "sm2"
        else [
            "openssl",
            "verify",
            "-CAfile",
            str(pki.root.cert_path),
            str(leaf.cert_path),
            str(tsa.cert_path),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    verify_certificate_signature(leaf.certificate, pki.root.certificate)


@pytest.mark.parametrize("kind", ["sm2", "rsa"])
def test_roles_carry_their_usages(tmp_path, kind):
    pki = make_test_pki(tmp_path, kind)
    sign = pki.issue("signer").certificate
    enc = pki.issue("enc", "encrypt").certificate
    tsa = pki.issue("tsa", "tsa").certificate
    assert pki.root.certificate.ca
    assert not sign.ca
    assert {"digital_signature", "non_repudiation"} <= sign.key_usage_value.native
    assert "key_encipherment" in enc.key_usage_value.native
    assert "digital_signature" not in enc.key_usage_value.native
    eku = next(e for e in tsa["tbs_certificate"]["extensions"] if e["extn_id"].native == "extended_key_usage")
    assert eku["critical"].native is True
    assert eku["extn_value"].native == ["time_stamping"]


def test_root_is_reused_and_keys_are_private(tmp_path):
    first = make_test_pki(tmp_path, "sm2")
    second = make_test_pki(tmp_path, "sm2")
    assert first.root.cert_path.read_bytes() == second.root.cert_path.read_bytes()
    assert oct(first.root.key_path.stat().st_mode & 0o777) == "0o600"


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="unknown key kind"):
        make_test_pki(tmp_path, "dsa")
