"""``sealkit token csr`` and ``token import-cert`` on a SoftHSM2 token, and an honest warning when an SM2 key
made on a token cannot sign."""

from pathlib import Path

from sealkit_cli.main import run

from sealkit.dev.hierarchy import write_dev_pki
from sealkit.dev.sample_contract import blank_pdf


def test_token_key_to_certificate_to_signature(softhsm_token, tmp_path, monkeypatch, capsys):
    hsm = softhsm_token("csr")
    monkeypatch.chdir(tmp_path)
    pki = write_dev_pki(tmp_path / "testpki")
    ref = hsm.uri("signer")
    assert run(["token", "keygen", ref, "--type", "p256"]) == 0
    assert (
        run(
            [
                "token",
                "csr",
                ref,
                "--cn",
                "某某信息技术有限公司",
                "--uscc",
                "91370102MA00000001",
                "-o",
                "t.csr",
            ]
        )
        == 0
    )
    assert b"CERTIFICATE REQUEST" in Path("t.csr").read_bytes()
    assert run(["dev", "certify", str(pki.directory), "t.csr", "-o", "t.crt", "--root", "rsa"]) == 0
    assert run(["token", "import-cert", ref, "t.crt"]) == 0
    Path("c.pdf").write_bytes(blank_pdf())
    assert run(["sign", "c.pdf", "-o", "s.pdf", "--key", ref, "--invisible"]) == 0
    capsys.readouterr()
    assert run(["verify", "s.pdf", "--trust", str(pki.trust_anchors)]) == 0


def test_an_sm2_key_softhsm_cannot_sign_with_is_generated_with_a_warning(softhsm_token, capsys):
    hsm = softhsm_token("sm2warn")
    assert run(["token", "keygen", hsm.uri("enc"), "--type", "sm2"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sealkit: warning:"), err
    assert "cannot make SM2 signatures" in err[0] and "bid envelopes" in err[0]
